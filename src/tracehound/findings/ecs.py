"""Build ECS documents for findings. One shape for every source so that `case add` and
`report` do not care whether a finding came from a log, a host sweep or an inventory.

Verdict levels carried in `tracehound.verdict`:
  compromised - payload on disk, YARA hit, contact with a C2 domain/URL (or a specific C2 IP)
  suspicious  - contact with an IP that only resolved for a C2 domain (shared hosting), weak matches
  exposed     - affected version installed, compromised certificate present, affected installer on disk
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tracehound.intel.model import CERT_TYPES, FILE_HASH_TYPES, Indicator, IType

ECS_VERSION = "8.11.0"
VERDICT_ORDER = {"clean": 0, "exposed": 1, "suspicious": 2, "compromised": 3}
_ECS_TYPE = {
    IType.DOMAIN: "domain-name", IType.IPV4: "ipv4-addr", IType.IPV6: "ipv6-addr", IType.CIDR: "ipv4-addr",
    IType.URL: "url", IType.EMAIL: "email-addr", IType.MD5: "file", IType.SHA1: "file", IType.SHA256: "file",
    IType.CERT_SHA1: "x509-certificate", IType.CERT_SHA256: "x509-certificate", IType.FILENAME: "file",
    IType.FILENAME_REGEX: "file", IType.SOFTWARE: "software", IType.ASN: "autonomous-system",
}


def iso_ts(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return ts.isoformat().replace("+00:00", "Z")


def enrichment(ind: Indicator, field: str, observed: str, pack_name: str) -> dict[str, Any]:
    ctx = {k: ind.context[k] for k in sorted(ind.context) if k not in ("signs",)}
    return {
        "matched": {"atomic": observed, "field": field, "type": "indicator_match_rule", "indicator": ind.value},
        "indicator": {
            "type": _ECS_TYPE[ind.type], "tracehound_type": ind.type.value, "confidence": _confidence(ind.confidence),
            "confidence_score": ind.confidence, "provider": pack_name, "stage": ",".join(ind.ctx("stage")),
            "description": ind.display(), "context": ctx,
        },
    }


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


def put(doc: dict[str, Any], dotted: str, value: Any) -> None:
    """Set a dotted ECS field in a nested document, skipping empty values."""
    if value is None or value == "" or value == [] or value == {}:
        return
    cur = doc
    parts = dotted.split(".")
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value
