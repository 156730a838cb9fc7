"""Build ECS documents for findings. One shape for every source so that `case add` and
`report` do not care whether a finding came from a log, a host sweep or an inventory.

Verdict levels carried in `tracehound.verdict`:
  compromised - payload on disk, YARA hit, contact with a C2 domain/URL (or a specific C2 IP)
  suspicious  - contact with an IP that only resolved for a C2 domain (shared hosting), weak matches
  exposed     - affected version installed, compromised certificate present, affected installer on disk
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from tracehound.intel.model import CERT_TYPES, FILE_HASH_TYPES, Indicator, IType, url_host

ECS_VERSION = "8.11.0"
VERDICT_ORDER = {"clean": 0, "exposed": 1, "suspicious": 2, "compromised": 3}
_ECS_TYPE = {
    IType.DOMAIN: "domain-name", IType.IPV4: "ipv4-addr", IType.IPV6: "ipv6-addr", IType.CIDR: "ipv4-addr",
    IType.URL: "url", IType.EMAIL: "email-addr", IType.MD5: "file", IType.SHA1: "file", IType.SHA256: "file",
    IType.CERT_SHA1: "x509-certificate", IType.CERT_SHA256: "x509-certificate", IType.FILENAME: "file",
    IType.FILENAME_REGEX: "file", IType.SOFTWARE: "software", IType.ASN: "autonomous-system",
    IType.SHA512: "file", IType.FILE_PATH: "file", IType.REGISTRY_KEY: "windows-registry-key", IType.MUTEX: "mutex",
    IType.PDB_PATH: "file",
}


def iso_ts(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return ts.isoformat().replace("+00:00", "Z")


def enrichment(ind: Indicator, field: str, observed: str, pack_name: str) -> dict[str, Any]:
    """The ECS part of one match (`threat.enrichments[]`): only ECS fields, typed per indicator."""
    indicator: dict[str, Any] = {"type": _ECS_TYPE[ind.type], "confidence": _confidence(ind.confidence),
                                 "provider": pack_name, "description": ind.display(), "name": ind.display()}
    for dotted, value in _typed_fields(ind):
        put(indicator, dotted, value)
    for key in ("first_seen", "last_seen"):
        put(indicator, key, _iso_date(ind.ctx(key)))
    return {"matched": {"atomic": observed, "field": field, "type": "indicator_match_rule"}, "indicator": indicator}


def tracehound_indicator(ind: Indicator) -> dict[str, Any]:
    """What ECS has no field for, one entry per enrichment (same order): `tracehound.indicators[]`."""
    ctx = {k: ind.context[k] for k in sorted(ind.context) if k not in ("signs",)}
    out: dict[str, Any] = {"value": ind.value, "type": ind.type.value, "confidence_score": ind.confidence,
                           "stage": ",".join(ind.ctx("stage"))}
    put(out, "context", ctx)
    return {k: v for k, v in out.items() if v not in ("", None)}


def attach_threat(doc: dict[str, Any], matches: list[tuple[Indicator, str, str]], pack_name: str) -> None:
    """Set `threat.enrichments` (ECS) and `tracehound.indicators` (the rest) of a finding."""
    doc["threat"] = {"enrichments": [enrichment(ind, fld, obs, pack_name) for ind, fld, obs in matches]}
    doc.setdefault("tracehound", {})["indicators"] = [tracehound_indicator(ind) for ind, _, _ in matches]


def matched_indicators(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each match of a finding as {value, type, ecs_type, field, atomic, provider}, whatever version wrote it
    (earlier versions kept the value in `threat.enrichments[].matched.indicator`)."""
    threat, own = doc.get("threat"), doc.get("tracehound")
    enrich = threat.get("enrichments") if isinstance(threat, dict) else None
    extra = own.get("indicators") if isinstance(own, dict) else None
    extra = extra if isinstance(extra, list) else []
    out = []
    for n, e in enumerate(x for x in (enrich if isinstance(enrich, list) else []) if isinstance(x, dict)):
        th = extra[n] if n < len(extra) and isinstance(extra[n], dict) else {}
        matched, indicator = e.get("matched"), e.get("indicator")
        matched, indicator = (matched if isinstance(matched, dict) else {}), (indicator if isinstance(indicator, dict) else {})
        out.append({"value": str(th.get("value") or matched.get("indicator") or matched.get("atomic") or ""),
                    "type": str(th.get("type") or indicator.get("tracehound_type") or ""),
                    "ecs_type": str(indicator.get("type") or ""), "field": str(matched.get("field") or ""),
                    "atomic": str(matched.get("atomic") or ""), "provider": str(indicator.get("provider") or "")})
    return out


def _typed_fields(ind: Indicator) -> list[tuple[str, Any]]:
    """The ECS indicator fields Elastic's threat-intel views and indicator-match rules read."""
    t, v = ind.type, ind.value
    if t is IType.DOMAIN:
        return [("url.domain", v)]
    if t in (IType.IPV4, IType.IPV6):
        return [("ip", v)]
    if t is IType.URL:
        return [("url.full", v), ("url.domain", url_host(v))]
    if t in FILE_HASH_TYPES:
        names = ind.ctx("file_name")
        return [(f"file.hash.{t.value}", v), ("file.name", names[0] if len(names) == 1 else None)]
    if t is IType.CERT_SHA256:
        return [("file.code_signature.thumbprint_sha256", v), ("file.code_signature.subject_name", _one(ind, "signer"))]
    if t is IType.CERT_SHA1:  # ECS has no SHA-1 thumbprint field: the value stays in tracehound.indicators
        return [("file.code_signature.subject_name", _one(ind, "signer")),
                ("x509.serial_number", _one(ind, "serial"))]
    if t is IType.FILENAME:
        return [("file.name", v)]
    if t is IType.EMAIL:
        return [("email.address", v)]
    if t is IType.ASN:
        return [("as.number", int(v[2:]))]
    if t is IType.FILE_PATH:
        return [("file.path", v)]
    if t is IType.REGISTRY_KEY:
        hive, _, key = v.partition("\\")
        value = _one(ind, "value_name")
        data = ind.ctx("value_data")
        return [("registry.hive", hive), ("registry.key", key), ("registry.value", value),
                ("registry.path", v + ("\\" + value if value else "")), ("registry.data.strings", data or None)]
    return []


def _one(ind: Indicator, key: str) -> str | None:
    values = ind.ctx(key)
    return values[0] if len(values) == 1 else None


def _iso_date(values: list[str]) -> str | None:
    """A context date (first_seen/last_seen) in ECS date form, or None when absent or not a date."""
    if len(values) != 1:
        return None
    try:
        ts = datetime.fromisoformat(values[0].strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso_ts(ts if ts.tzinfo else ts.replace(tzinfo=UTC))


def _confidence(score: int) -> str:
    return "High" if score >= 70 else "Medium" if score >= 40 else "Low"


def network_verdict(ind: Indicator, weak: bool) -> str:
    """What one network match says about the host."""
    if weak:
        return "suspicious"
    if ind.type in (IType.DOMAIN, IType.URL):
        return "compromised"
    if ind.type in FILE_HASH_TYPES:
        return "compromised"
    if ind.type in CERT_TYPES:
        return "exposed"
    # IPs: a specific C2 address is compromise evidence; a shared-hosting resolution only suspicious.
    return "compromised" if ind.confidence >= 70 else "suspicious"


def strongest(verdicts: list[str]) -> str:
    return max(verdicts, key=lambda v: VERDICT_ORDER.get(v, 0)) if verdicts else "clean"


# ECS fields of type `ip` a finding sets. Elasticsearch refuses an address with an IPv6 zone (`fe80::1%eth0`,
# as Windows and macOS logs write link-local peers): the field gets the address, the zone goes to
# `tracehound.ip_zone.<field set>` (`tracehound.ip_zone.destination: eth0`).
IP_FIELDS = frozenset({f"{fs}.ip" for fs in ("source", "destination", "client", "server", "host", "observer", "related")}
                      | {f"{fs}.nat.ip" for fs in ("source", "destination", "client", "server")})


def split_zone(value: str) -> tuple[str, str]:
    """(address, zone) of an IPv6 address written with a zone (`fe80::1%eth0`, `[fe80::1%25eth0]`); the zone is
    '' when there is none or the value is not such an address."""
    text = value.strip()
    bracketed = text.startswith("[") and text.endswith("]")
    text = text[1:-1] if bracketed else text
    if "%" not in text:
        return value, ""
    addr, _, zone = text.partition("%")
    if bracketed and zone.startswith("25"):  # RFC 6874: '%' is written %25 in a URL
        zone = zone[2:]
    try:
        ip = ipaddress.IPv6Address(addr)
    except ValueError:
        return value, ""
    return (str(ip), zone) if zone else (value, "")


def put(doc: dict[str, Any], dotted: str, value: Any) -> None:
    """Set a dotted ECS field in a nested document, skipping empty values; an IPv6 zone is kept out of
    ECS `ip` fields (IP_FIELDS)."""
    if value is None or value == "" or value == [] or value == {}:
        return
    if dotted in IP_FIELDS and isinstance(value, str) and "%" in value:
        value, zone = split_zone(value)
        if zone:
            put(doc, f"tracehound.ip_zone.{dotted.removesuffix('.ip')}", zone)
    cur = doc
    parts = dotted.split(".")
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value
