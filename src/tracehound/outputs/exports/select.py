"""Which indicators an export carries, and the options every exporter shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tracehound.intel.model import CERT_TYPES, FILE_HASH_TYPES, Indicator, IType, Pack
from tracehound.intel.values import one_line

DEFAULT_MIN_CONFIDENCE = 50


@dataclass
class ExportOptions:
    types: tuple[str, ...] = ()
    min_confidence: int = DEFAULT_MIN_CONFIDENCE
    exclude_shared_hosting: bool = False
    expire_days: int | None = None
    sid_base: int = 9_300_000
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    certificate: str | None = None  # --certificate FILE (application control)

    @property
    def expires(self) -> datetime | None:
        return self.now + timedelta(days=self.expire_days) if self.expire_days else None


@dataclass
class Selection:
    pack: Pack
    indicators: list[Indicator]
    left_out: list[tuple[Indicator, str]]
    refused: list[tuple[str, Indicator, str]] = field(default_factory=list)  # (format, indicator, why) from exporters

    def of(self, *types: IType) -> list[Indicator]:
        return [i for i in self.indicators if i.type in types]

    @property
    def campaign(self) -> str:
        return self.pack.campaign or self.pack.title or self.pack.name

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "_", self.pack.name).strip("_") or "pack"


def is_shared_hosting(ind: Indicator) -> bool:
    """An address that only resolved for a C2 name (hosting provider): blocking it may hit others."""
    return ind.type in (IType.IPV4, IType.IPV6, IType.CIDR) and bool(ind.ctx("resolution_of"))


def select(pack: Pack, options: ExportOptions) -> Selection:
    keep: list[Indicator] = []
    out: list[tuple[Indicator, str]] = []
    for ind in pack.indicators:
        if options.types and ind.type.value not in options.types:
            continue
        if ind.type in (IType.ASN, IType.SOFTWARE, IType.FILENAME_REGEX):
            out.append((ind, "context, not a blockable indicator"))
        elif ind.type is IType.FILENAME and ind.ctx("standalone") != ["yes"]:
            out.append((ind, "file name too common to act on alone"))
        elif ind.confidence < options.min_confidence and ind.type not in FILE_HASH_TYPES | CERT_TYPES:
            out.append((ind, f"confidence {ind.confidence} < --min-confidence {options.min_confidence}"))
        elif options.exclude_shared_hosting and is_shared_hosting(ind):
            out.append((ind, "shared hosting address (--exclude-shared-hosting)"))
        else:
            keep.append(ind)
    return Selection(pack, keep, out)


def safe_text(value: str, limit: int = 200) -> str:
    """Single-line text without characters that break rule syntaxes: quotes, semicolons, backslashes,
    pipes and every control, format or separator character (\\r, NUL, U+0085, U+2028...)."""
    return re.sub(r"[\"';\\|]", " ", one_line(value))[:limit].strip()
