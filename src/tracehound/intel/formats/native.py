"""tracehound's own pack format (documented in docs/formats.md). Versioned; readers refuse newer majors."""

from __future__ import annotations

import json
from typing import Any

from tracehound import safejson
from tracehound.errors import PackError
from tracehound.intel.model import REJECTED, Exclusion, Indicator, Pack, Remediation, Rule
from tracehound.intel.values import visible

FORMAT_NAME = "tracehound-pack"
FORMAT_VERSION = 1


def to_dict(pack: Pack) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": pack.name,
        "title": pack.title,
        "campaign": pack.campaign,
        "published": pack.published,
        "c2_delay_days": pack.c2_delay_days,
        "documents": pack.documents,
        "indicators": [i.to_dict() for i in pack.indicators],
        "remediation": [r.to_dict() for r in pack.remediation],
        "excluded": [e.to_dict() for e in pack.excluded],
        **({"rules": [r.to_dict() for r in pack.rules]} if pack.rules else {}),
    }


def dumps(pack: Pack) -> str:
    return json.dumps(to_dict(pack), indent=1, ensure_ascii=False) + "\n"


def loads(text: str, path: str = "<pack>") -> Pack:
    try:
        data = safejson.loads(text)
    except json.JSONDecodeError as exc:
        raise PackError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise PackError("not a tracehound pack", path=path)
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise PackError(f"pack format version {version!r} is newer than this tracehound understands", path=path)
    indicators = []
    rejected: list[Exclusion] = []
    for n, d in enumerate(data.get("indicators") or [], 1):
        try:
            indicators.append(Indicator.from_dict(d))
        except ValueError as exc:  # a value refused by its type's allow-list (or an unknown type): kept, with why
            rejected.append(Exclusion(visible(str(d.get("value", ""))), str(d.get("type", ""))[:40],
                                      f"{REJECTED}indicator #{n}: {exc}", path, 0))
        except (KeyError, TypeError, AttributeError) as exc:
            raise PackError(f"indicator #{n} is invalid: {exc}", path=path) from exc
    try:
        return Pack(
            name=str(data.get("name", "")),
            title=str(data.get("title", "")),
            campaign=str(data.get("campaign", "")),
            published=str(data.get("published", "")),
            c2_delay_days=int(data["c2_delay_days"]) if data.get("c2_delay_days") is not None else None,
            documents=[{str(k): str(v) for k, v in d.items()} for d in data.get("documents") or []],
            indicators=indicators,
            remediation=[Remediation(**{k: r[k] for k in ("action", "text", "document", "line") if k in r})
                         for r in data.get("remediation") or []],
            excluded=[Exclusion(**{k: e[k] for k in ("value", "type", "reason", "document", "line") if k in e})
                      for e in data.get("excluded") or []] + rejected,
            rules=[Rule.from_dict(r) for r in data.get("rules") or []],
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise PackError(f"malformed pack: {exc}", path=path) from exc
