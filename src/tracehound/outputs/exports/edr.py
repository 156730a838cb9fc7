"""EDR and application control.

Microsoft Defender for Endpoint: CSV import (indicatorType FileSha1, FileSha256, IpAddress,
DomainName, Url; 500 rows a file at most; no CIDR, no MD5) and, since the CSV import does not
take certificates, the JSON body of the indicators import API for CertificateThumbprint.

Application control needs the certificate itself (`--certificate`, a .cer/.pem or a signed PE
the sweep found): an advisory's SHA-1 thumbprint cannot give Santa's leaf-certificate SHA-256
nor the TBS hash of WDAC signer rules.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from tracehound.der import tbs_and_algorithm
from tracehound.errors import InputError
from tracehound.intel.formats.csvpack import neutralise
from tracehound.intel.model import Indicator, IType
from tracehound.intel.values import one_line
from tracehound.outputs.exports.safety import address, dns_name, hex_digest, keep, url_parts
from tracehound.outputs.exports.select import ExportOptions, Selection, safe_text

DEFENDER_HEADER = ["IndicatorType", "IndicatorValue", "ExpirationTime", "Action", "Severity", "Title", "Description",
                   "RecommendedActions", "RbacGroups", "Category", "MitreTechniques", "GenerateAlert"]
DEFENDER_TYPE = {IType.SHA1: "FileSha1", IType.SHA256: "FileSha256", IType.IPV4: "IpAddress", IType.IPV6: "IpAddress",
                 IType.DOMAIN: "DomainName", IType.URL: "Url"}
MAX_ROWS = 500


def _expires(opt: ExportOptions) -> str:
    return f"{opt.expires:%Y-%m-%dT%H:%M:%S}.0Z" if opt.expires else ""


def _title(sel: Selection, ind: Indicator) -> str:
    return safe_text(f"{sel.campaign}: {ind.type.value} {ind.display()}", 120)


def _defender_value(ind: Indicator) -> str:
    t, v = ind.type, ind.value
    if t is IType.DOMAIN:
        return dns_name(v)
    if t in (IType.IPV4, IType.IPV6):
        return address(v)[0]
    if t is IType.URL:
        url_parts(v)  # host a name or address, no raw control character
        return v if "://" in v else f"http://{v}"
    return hex_digest(v)


def export_defender(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    rows = []
    first: dict[tuple[str, str], Indicator] = {}  # (type, Defender value): a schemeless URL and its http:// form are one
    for ind, value in keep(sel, "defender", [i for i in sel.indicators if i.type in DEFENDER_TYPE], _defender_value):
        dtype = DEFENDER_TYPE[ind.type]
        seen = first.setdefault((dtype, value), ind)
        if seen is not ind:
            sel.refused.append(("defender", ind, f"same Defender value as {seen.type.value} '{seen.display()}': one row"))
            continue
        file_ioc = ind.type in (IType.SHA1, IType.SHA256)
        rows.append([dtype, value, _expires(opt), "BlockAndRemediate" if file_ioc else "Block", "High",
                     _title(sel, ind), safe_text(f"tracehound pack {sel.slug}; " + "; ".join(
                         f"{k}={','.join(ind.ctx(k))}" for k in ("stage", "file_name", "signer") if ind.ctx(k)), 500),
                     "Uninstall the affected application; isolate the device if the payload ran.", "",
                     "CommandAndControl" if not file_ioc else "Malware", "", "True"])
    out: dict[str, str] = {}
    for n in range(0, max(1, len(rows)), MAX_ROWS):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(DEFENDER_HEADER)
        for r in rows[n : n + MAX_ROWS]:
            w.writerow([neutralise(c) for c in r])
        out[f"{sel.slug}-defender-{n // MAX_ROWS + 1:03d}.csv"] = buf.getvalue()
    certs = [i for i, _ in keep(sel, "defender", sel.of(IType.CERT_SHA1), lambda i: hex_digest(i.value))]
    body = {"Indicators": [{
        "indicatorValue": c.value, "indicatorType": "CertificateThumbprint", "action": "BlockAndRemediate",
        "title": _title(sel, c), "description": safe_text(f"Compromised code-signing certificate "
                                                          f"{', '.join(c.ctx('signer'))} (tracehound pack {sel.slug})", 500),
        "severity": "High", "generateAlert": True, "application": "tracehound",
        **({"expirationTime": _expires(opt)} if opt.expires else {}),
    } for c in certs]}
    out[f"{sel.slug}-defender-certificates.json"] = json.dumps(body, indent=2) + "\n"
    return out


@dataclass
class CertDigests:
    subject: str
    sha1: str
    sha256: str
    tbs_algorithm: str
    tbs_hash: str


_SHA1_SIG_OIDS = {b"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05", b"\x2a\x86\x48\xce\x3d\x04\x01"}


def digests(der: bytes, subject: str = "") -> CertDigests:
    """Leaf certificate digests: SHA-1/SHA-256 of the DER, and the TBS hash WDAC signer rules
    use (SHA-256 of TBSCertificate, SHA-1 for SHA-1-signed certificates)."""
    tbs, algorithm = tbs_and_algorithm(der)
    algo = "sha1" if any(oid in algorithm for oid in _SHA1_SIG_OIDS) else "sha256"
    return CertDigests(subject, hashlib.sha1(der).hexdigest(), hashlib.sha256(der).hexdigest(), algo,
                       hashlib.new(algo, tbs).hexdigest())


def load_certificate(path: str) -> CertDigests:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    try:
        if data.startswith(b"MZ"):
            import lief

            lief.logging.disable()
            b = lief.PE.parse(data)
            signer = next((s.cert for sig in (b.signatures if b else []) for s in sig.signers if s.cert), None)
            if signer is None:
                raise InputError("PE file carries no Authenticode signer certificate", path=path)
            return digests(bytes(signer.raw), str(signer.subject))
        if b"-----BEGIN CERTIFICATE-----" in data:
            pem = data.decode("ascii", errors="replace")
            block = pem[pem.index("-----BEGIN CERTIFICATE-----") : pem.index("-----END CERTIFICATE-----") + 25]
            return digests(ssl.PEM_cert_to_DER_cert(block))
        return digests(data)
    except (ValueError, IndexError) as exc:
        raise InputError(f"not a certificate (.cer/.pem) nor a signed PE: {exc}", path=path) from exc


def export_appcontrol(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    thumbs = ", ".join(i.value for i in sel.of(IType.CERT_SHA1)) or "none in the pack"
    if not opt.certificate:
        return {"README-appcontrol.txt": (
            f"Application control for {one_line(sel.campaign)}\n\n"
            f"The advisory gives the signing certificate's SHA-1 thumbprint ({thumbs}).\n"
            "That is enough for Microsoft Defender (see the defender export) but NOT for:\n"
            "  - Santa (macOS): CERTIFICATE rules are the SHA-256 of the leaf certificate;\n"
            "  - WDAC signer rules: the TBS hash of the certificate.\n"
            "Neither can be computed from a SHA-1 thumbprint. Export again with --certificate FILE\n"
            "(a .cer/.pem, or a signed file the sweep found) to get santa-rules.json and wdac-signer.xml.\n")}
    d = load_certificate(opt.certificate)
    matches = d.sha1 in {i.value for i in sel.of(IType.CERT_SHA1)}
    santa = {"rules": [{"identifier": d.sha256, "policy": "BLOCKLIST", "rule_type": "CERTIFICATE",
                        "custom_msg": safe_text(f"Blocked: signed with the certificate compromised in {sel.campaign}")}]}
    # the subject comes from a certificate found on a suspect host: XML-escaped, and no '--' in a comment
    subject = escape(safe_text(d.subject), {'"': "&quot;"})
    wdac = (f'<!-- tracehound: deny files signed by {re.sub("-{2,}", "-", subject) or "this certificate"}; '
            'merge into your WDAC policy -->\n'
            f'<Signers>\n  <Signer ID="ID_SIGNER_TRACEHOUND_{d.sha1[:8].upper()}" '
            f'Name="{escape(safe_text(d.subject, 100)) or "tracehound"}">\n'
            f'    <CertRoot Type="TBS" Value="{d.tbs_hash.upper()}" />\n  </Signer>\n</Signers>\n'
            f'<!-- reference it from <DeniedSigners><DeniedSigner SignerId="ID_SIGNER_TRACEHOUND_{d.sha1[:8].upper()}" /></DeniedSigners> -->\n')
    note = (f"Certificate {one_line(d.subject) or '(subject unknown)'}\n  SHA-1 thumbprint {d.sha1}"
            f" ({'matches' if matches else 'does NOT match'} the pack's certificate indicators)\n"
            f"  SHA-256 (Santa) {d.sha256}\n  TBS hash ({d.tbs_algorithm}, WDAC) {d.tbs_hash}\n")
    return {"santa-rules.json": json.dumps(santa, indent=2) + "\n", "wdac-signer.xml": wdac, "README-appcontrol.txt": note}
