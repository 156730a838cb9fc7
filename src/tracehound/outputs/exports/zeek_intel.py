"""Zeek Intel framework file. Intel::DOMAIN matches the exact name only (Zeek's intel does not
do subdomains); the DNS and HTTP exports cover subdomains."""

from __future__ import annotations

from tracehound.intel.model import IType
from tracehound.matching.normalize import norm_url
from tracehound.outputs.exports.select import ExportOptions, Selection, safe_text

ZEEK_TYPE = {IType.DOMAIN: "Intel::DOMAIN", IType.IPV4: "Intel::ADDR", IType.IPV6: "Intel::ADDR",
             IType.CIDR: "Intel::SUBNET", IType.URL: "Intel::URL", IType.MD5: "Intel::FILE_HASH",
             IType.SHA1: "Intel::FILE_HASH", IType.SHA256: "Intel::FILE_HASH", IType.CERT_SHA1: "Intel::CERT_HASH",
             IType.CERT_SHA256: "Intel::CERT_HASH", IType.EMAIL: "Intel::EMAIL", IType.FILENAME: "Intel::FILE_NAME"}


def export(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = ["#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\tmeta.do_notice"]
    for ind in sel.indicators:
        ztype = ZEEK_TYPE.get(ind.type)
        if ztype is None:
            continue
        value = ind.value
        if ind.type is IType.URL:
            host, path = norm_url(value)
            value = host + (path if path != "/" else "")
        desc = safe_text(" ".join(filter(None, [sel.campaign, ind.type.value] + ind.ctx("stage") + ind.ctx("file_name"))))
        lines.append("\t".join([value, ztype, f"tracehound:{sel.slug}", desc or "-", "-", "T"]))
    return {f"{sel.slug}.intel": "\n".join(lines) + "\n"}
