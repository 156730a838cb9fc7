"""One indicator model for every source and every output (like Zeek's Intel framework).

An Indicator is (type, value) plus context. Values are canonical so that equality means
"same indicator": domains lowercase without trailing dot, hashes and thumbprints lowercase
hex, URLs with lowercase scheme and host. Context values are strings or sorted lists of
strings so a pack serialises deterministically (the shipped pack is compared byte for byte
with a fresh extraction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tracehound.defang import defang
from tracehound.intel.values import (
    canonical_domain,
    canonical_path,
    canonical_registry_key,
    canonical_url,
    check_chars,
    strict_ip,
    strict_network,
    visible,
)

ContextValue = str | list[str]


class IType(StrEnum):
    DOMAIN = "domain"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    CERT_SHA1 = "cert-sha1"
    CERT_SHA256 = "cert-sha256"
    FILENAME = "filename"
    FILENAME_REGEX = "filename-regex"
    SOFTWARE = "software"
    ASN = "asn"
    # Host artefacts. A file path may hold %ENV% variables and <GUID>-style placeholders (context
    # `platform`: windows|macos|linux). A registry key may name one value (context `value_name`, and
    # `value_data` when the advisory gives it); the value name is part of the indicator's identity.
    FILE_PATH = "file-path"
    REGISTRY_KEY = "registry-key"
    MUTEX = "mutex"
    PDB_PATH = "pdb-path"


FILE_HASH_TYPES = frozenset({IType.MD5, IType.SHA1, IType.SHA256})
CERT_TYPES = frozenset({IType.CERT_SHA1, IType.CERT_SHA256})
NETWORK_TYPES = frozenset({IType.DOMAIN, IType.IPV4, IType.IPV6, IType.CIDR, IType.URL})
HOST_ARTEFACT_TYPES = frozenset({IType.FILE_PATH, IType.REGISTRY_KEY, IType.MUTEX, IType.PDB_PATH})
HASH_LENGTHS = {32: IType.MD5, 40: IType.SHA1, 64: IType.SHA256, 128: IType.SHA512}
CERT_LENGTHS = {40: IType.CERT_SHA1, 64: IType.CERT_SHA256}

_HEX = re.compile(r"[0-9a-f]+")
_PLATFORM_ALIASES = {
    "windows": "windows", "win": "windows", "win32": "windows", "win64": "windows",
    "mac": "macos", "macos": "macos", "osx": "macos", "mac os": "macos", "os x": "macos", "darwin": "macos",
    "linux": "linux", "ios": "ios", "android": "android", "any": "any",
}


def normalize_platform(name: str) -> str:
    key = name.strip().lower()
    return _PLATFORM_ALIASES.get(key, key)


def normalize_product(name: str) -> str:
    """Fold a product name so '3CX Desktop App', '3CXDesktopApp' and '3CX Desktop App (MacOS)' compare equal."""
    name = re.sub(r"\((?:mac\s*os|macos|windows|win(?:32|64)?|x64|x86|64-bit|32-bit)\)", "", name.lower())
    return re.sub(r"[^a-z0-9]", "", name)


def normalize_version(version: str) -> tuple[int, ...]:
    """'18.12.416.0' and '18.12.416' are the same version; trailing zero components do not count."""
    parts = [int(p) for p in re.findall(r"\d+", version)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def canonical_value(itype: IType, value: str) -> str:
    """Canonical form of a value for its type; raises ValueError when it is not valid for the type.

    Allow-lists, whatever format the value came from: surrounding spaces, tabs and line ends are
    layout and go; any other control, format or separator character (NUL, \\r inside, U+0085,
    U+2028/2029, bidi and zero-width marks) is refused with `RejectedValue`, as are IPv6 scope
    ids, wildcard hosts and networks broader than /8 (IPv4) or /16 (IPv6). IDNs become punycode.
    """
    v = value.strip(" \t\r\n")
    try:
        return _canonical(itype, v)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc


def _canonical(itype: IType, v: str) -> str:
    check_chars(v, allow_space=itype in (IType.FILENAME, IType.FILENAME_REGEX, IType.SOFTWARE, IType.URL, IType.ASN,
                                         *FILE_HASH_TYPES, *CERT_TYPES, *HOST_ARTEFACT_TYPES))
    if itype is IType.FILE_PATH:
        return canonical_path(v)
    if itype is IType.REGISTRY_KEY:
        return canonical_registry_key(v)
    if itype is IType.DOMAIN:
        return canonical_domain(v)
    if itype in (IType.IPV4, IType.IPV6):
        ip = strict_ip(v)
        if (":" not in ip) != (itype is IType.IPV4):
            raise ValueError(f"{v!r} is not an {itype.value} address")
        return ip
    if itype is IType.CIDR:
        return strict_network(v)
    if itype in FILE_HASH_TYPES or itype in CERT_TYPES or itype is IType.SHA512:
        v = re.sub(r"[ :]", "", v).lower()
        expected = {IType.MD5: 32, IType.SHA1: 40, IType.SHA256: 64, IType.SHA512: 128, IType.CERT_SHA1: 40,
                    IType.CERT_SHA256: 64}[itype]
        if len(v) != expected or not _HEX.fullmatch(v):
            raise ValueError(f"{v!r} is not a {itype.value} ({expected} hex digits)")
        return v
    if itype is IType.URL:
        return canonical_url(v)
    if itype is IType.ASN:
        m = re.fullmatch(r"(?:AS)? ?(\d{1,10})", v, re.I)
        if not m:
            raise ValueError(f"invalid ASN {v!r}")
        return f"AS{int(m.group(1))}"
    if itype is IType.EMAIL:
        local, at, host = v.rpartition("@")
        # RFC 5322 atext, dots, and a comment in parentheses (john.smith(comment)@example.com)
        if not at or not local or "@" in local or not re.fullmatch(r"[!#-'*+\-/-9=?A-Z^-~.()]+", local):
            raise ValueError(f"invalid e-mail address {v!r}")
        if host.startswith("[") and host.endswith("]"):  # RFC 5321 address literal: [192.0.2.1], [IPv6:2001:db8::1]
            inner = host[1:-1]
            six = inner[:5].lower() == "ipv6:"
            ip = strict_ip(inner[5:] if six else inner)
            if (":" in ip) != six:
                raise ValueError(f"invalid e-mail address literal {v!r}")
            return f"{local}@[{'IPv6:' + ip if six else ip}]"
        if re.fullmatch(r"[0-9.]+", host):  # a bare IPv4 host, as mail software accepts it
            return f"{local}@{strict_ip(host)}"
        return f"{local}@{canonical_domain(host)}"
    if itype is IType.FILENAME_REGEX:
        re.compile(v)
        return v
    if not v:
        raise ValueError("empty value")
    return v


def url_host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.split(":", 1)[0] if host.count(":") == 1 else host


@dataclass
class SourceRef:
    """Where an indicator was read: document and 1-based line numbers."""

    document: str
    lines: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"document": self.document, "lines": sorted(set(self.lines))}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SourceRef:
        return cls(document=str(d.get("document", "")), lines=[int(x) for x in d.get("lines", [])])


@dataclass
class Indicator:
    type: IType
    value: str
    context: dict[str, ContextValue] = field(default_factory=dict)
    confidence: int = 80
    sources: list[SourceRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        # Software indicators are per platform: the same product has different affected versions.
        # A registry key indicator is per value name: (Run, 'a') and (Run, 'b') are two indicators.
        if self.type is IType.REGISTRY_KEY:
            name = self.context.get("value_name", "")
            return (self.type.value, self.value, name if isinstance(name, str) else ",".join(name))
        platform = self.context.get("platform", "") if self.type is IType.SOFTWARE else ""
        return (self.type.value, self.value, platform if isinstance(platform, str) else ",".join(platform))

    def ctx(self, name: str) -> list[str]:
        """Context value as a list (empty when absent)."""
        v = self.context.get(name)
        if v is None:
            return []
        return [v] if isinstance(v, str) else list(v)

    def display(self) -> str:
        """Human-facing form: network indicators defanged."""
        if self.type in NETWORK_TYPES or self.type is IType.EMAIL:
            return defang(self.value).replace("@", "[@]")
        return self.value

    def merge(self, other: Indicator) -> None:
        for k, v in other.context.items():
            self.context[k] = merge_context(self.context.get(k), v)
        self.confidence = max(self.confidence, other.confidence)
        for src in other.sources:
            for mine in self.sources:
                if mine.document == src.document:
                    mine.lines = sorted(set(mine.lines) | set(src.lines))
                    break
            else:
                self.sources.append(SourceRef(src.document, list(src.lines)))
        self.warnings = sorted(set(self.warnings) | set(other.warnings))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "value": self.value,
            "confidence": self.confidence,
            "context": {k: self.context[k] for k in sorted(self.context)},
            "sources": [s.to_dict() for s in self.sources],
            "warnings": sorted(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Indicator:
        itype = IType(d["type"])
        context: dict[str, ContextValue] = {}
        for k, v in (d.get("context") or {}).items():
            context[str(k)] = [str(x) for x in v] if isinstance(v, list) else str(v)
        return cls(
            type=itype,
            value=canonical_value(itype, str(d["value"])),
            context=context,
            confidence=int(d.get("confidence", 80)),
            sources=[SourceRef.from_dict(s) for s in d.get("sources", [])],
            warnings=[str(w) for w in d.get("warnings", [])],
        )


def merge_context(a: ContextValue | None, b: ContextValue) -> ContextValue:
    if a is None or a == b:
        return b
    items = set([a] if isinstance(a, str) else a) | set([b] if isinstance(b, str) else b)
    return sorted(items)


@dataclass
class Exclusion:
    """A value the extractor saw and deliberately did not emit, with the reason (reported, never silent)."""

    value: str
    type: str
    reason: str
    document: str = ""
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "type": self.type, "reason": self.reason, "document": self.document, "line": self.line}


REJECTED = "rejected: "


def rejection_summary(rejected: list[Exclusion], limit: int = 5) -> str:
    """'3 values rejected: pack.csv:4 ipv6 'fe80::1%\\n...': control character U+000A; ...' (one line)."""
    parts = []
    for e in rejected[:limit]:
        where = f"{e.document}:{e.line} " if e.document and e.line else f"{e.document} " if e.document else ""
        parts.append(f"{where}{e.type} '{defang(e.value)}': {e.reason[len(REJECTED):]}")
    more = f"; and {len(rejected) - limit} more ('tracehound intel show' lists them)" if len(rejected) > limit else ""
    return f"{len(rejected)} value{'s' if len(rejected) != 1 else ''} rejected: " + "; ".join(parts) + more


@dataclass
class Remediation:
    """An action the advisory asks for, with the sentence that says so."""

    action: str
    text: str
    document: str = ""
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "text": self.text, "document": self.document, "line": self.line}


@dataclass
class Rule:
    """A detection rule carried by a pack (pasted in an advisory, a MISP `yara` attribute, a STIX indicator
    with pattern_type yara|sigma). `kind` is 'yara' or 'sigma'; `text` is the rule as published. A rule
    that does not compile or parse is kept with `error` set, and is not run."""

    kind: str
    name: str
    text: str
    document: str = ""
    line: int = 0
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "text": self.text, "document": self.document,
                "line": self.line, "error": self.error}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rule:
        kind = str(d.get("kind", ""))
        if kind not in ("yara", "sigma"):
            raise ValueError(f"unknown rule kind {kind!r} (yara or sigma)")
        return cls(kind=kind, name=str(d.get("name", "")), text=str(d.get("text", "")),
                   document=str(d.get("document", "")), line=int(d.get("line", 0) or 0), error=str(d.get("error", "")))


@dataclass
class Pack:
    name: str
    title: str = ""
    campaign: str = ""
    published: str = ""
    documents: list[dict[str, str]] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    remediation: list[Remediation] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    c2_delay_days: int | None = None
    rules: list[Rule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index: dict[tuple[str, str, str], Indicator] = {}
        merged = self.indicators
        self.indicators = []
        for ind in merged:
            self.add(ind)

    def add(self, ind: Indicator) -> Indicator:
        key = ind.key
        existing = self._index.get(key)
        if existing is not None:
            existing.merge(ind)
            return existing
        self._index[key] = ind
        self.indicators.append(ind)
        return ind

    def add_value(self, itype: IType, value: str, context: dict[str, ContextValue] | None = None,
                  confidence: int = 80, *, document: str = "", line: int = 0, where: str = "",
                  warnings: list[str] | None = None) -> Indicator | None:
        """Canonicalise and add one value from a source; a refused value is kept in `excluded`
        with the reason (and its unsafe characters escaped), never dropped silently."""
        try:
            v = canonical_value(itype, value)
        except ValueError as exc:
            reason = f"{REJECTED}{where + ': ' if where else ''}{exc}"
            self.excluded.append(Exclusion(visible(value), itype.value, reason, document, line))
            return None
        return self.add(Indicator(itype, v, dict(context or {}), confidence, warnings=list(warnings or [])))

    def rejections(self) -> list[Exclusion]:
        return [e for e in self.excluded if e.reason.startswith(REJECTED)]

    def get(self, itype: IType, value: str) -> Indicator | None:
        return self._index.get((itype.value, value, ""))

    def of_type(self, *types: IType) -> list[Indicator]:
        return [i for i in self.indicators if i.type in types]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.indicators:
            out[i.type.value] = out.get(i.type.value, 0) + 1
        return out

    def sorted(self) -> None:
        order = {t: n for n, t in enumerate(IType)}
        self.indicators.sort(key=lambda i: (order[i.type], i.value, i.key[2]))

    def merge(self, other: Pack) -> None:
        for ind in other.indicators:
            self.add(Indicator.from_dict(ind.to_dict()))
        known = {(r.action, r.text) for r in self.remediation}
        self.remediation += [r for r in other.remediation if (r.action, r.text) not in known]
        self.excluded += other.excluded
        known_rules = {(r.kind, r.text) for r in self.rules}
        self.rules += [r for r in other.rules if (r.kind, r.text) not in known_rules]
        self.documents += [d for d in other.documents if d not in self.documents]
        if other.c2_delay_days is not None:
            self.c2_delay_days = max(self.c2_delay_days or 0, other.c2_delay_days)
        for attr in ("title", "campaign", "published"):
            if not getattr(self, attr):
                setattr(self, attr, getattr(other, attr))
