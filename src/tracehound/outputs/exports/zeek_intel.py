"""Zeek Intel framework file. Intel::DOMAIN matches the exact name only (Zeek's intel does not
do subdomains); the DNS and HTTP exports cover subdomains.

Fields are tab-separated, one item a line: each indicator is re-checked for its type (names,
addresses, digests) and must hold no tab, newline or other control/separator character
(safety.line_safe); URL paths keep control characters percent-encoded."""

from __future__ import annotations

from tracehound.intel.model import CERT_TYPES, FILE_HASH_TYPES, Indicator, IType
from tracehound.outputs.exports.safety import address, dns_name, hex_digest, keep, line_safe, url_parts
from tracehound.outputs.exports.select import ExportOptions, Selection, safe_text

ZEEK_TYPE = {IType.DOMAIN: "Intel::DOMAIN", IType.IPV4: "Intel::ADDR", IType.IPV6: "Intel::ADDR",
             IType.CIDR: "Intel::SUBNET", IType.URL: "Intel::URL", IType.MD5: "Intel::FILE_HASH",
             IType.SHA1: "Intel::FILE_HASH", IType.SHA256: "Intel::FILE_HASH", IType.CERT_SHA1: "Intel::CERT_HASH",
             IType.CERT_SHA256: "Intel::CERT_HASH", IType.EMAIL: "Intel::EMAIL", IType.FILENAME: "Intel::FILE_NAME"}


def field(ind: Indicator) -> str:
    """The indicator column for ind, or Refused."""
    t, v = ind.type, ind.value
    if t is IType.DOMAIN:
        return dns_name(v)
    if t in (IType.IPV4, IType.IPV6, IType.CIDR):
        return address(v)[0]
    if t is IType.URL:
        host, path = url_parts(v)
        return host + (path if path != "/" else "")
    if t in FILE_HASH_TYPES or t in CERT_TYPES:
        return hex_digest(v)
    value = line_safe(v, allow_space=True)
    return value if value != "-" else line_safe("")  # '-' is Zeek's empty field


def export(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = ["#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\tmeta.do_notice"]
    for ind, value in keep(sel, "zeek", [i for i in sel.indicators if i.type in ZEEK_TYPE], field):
        desc = safe_text(" ".join(filter(None, [sel.campaign, ind.type.value] + ind.ctx("stage") + ind.ctx("file_name"))))
        lines.append("\t".join([value, ZEEK_TYPE[ind.type], f"tracehound:{sel.slug}", desc or "-", "-", "T"]))
    return {f"{sel.slug}.intel": "\n".join(lines) + "\n"}
