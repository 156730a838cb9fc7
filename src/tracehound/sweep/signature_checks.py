"""Sweep check: code signatures of PE and Mach-O files against the pack's certificate indicators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracehound.intel.model import Indicator
from tracehound.sweep import signing, signing_macho

MakeDoc = Callable[..., dict[str, Any]]


def check_pe(data: bytes, name: str, fields: dict[str, Any], certs: dict[str, Indicator], signers: set[str],
             _doc: MakeDoc) -> list[dict[str, Any]]:
    """Authenticode: certificates against certificate indicators, anomalies, digest of a named signer's files."""
    loc = signing.certificate_table(data)
    if loc is None:
        return []
    info = signing.inspect_pe(data, verify=False)
    out = []
    subject = info.signers[0].subject if info.signers else ""
    sig_fields = {**fields, "file.code_signature.exists": info.signed,
                  "file.code_signature.subject_name": subject or None,
                  "tracehound.file.code_signature.thumbprint_sha1": info.signers[0].sha1 if info.signers else None,
                  "file.code_signature.thumbprint_sha256": info.signers[0].sha256 if info.signers else None,
                  "file.x509.serial_number": info.signers[0].serial.upper() if info.signers else None,
                  "file.x509.issuer.distinguished_name": info.signers[0].issuer or None if info.signers else None}
    hit = [(certs[c.sha1], "tracehound.file.code_signature.thumbprint_sha1", c.sha1) for c in info.certificates if c.sha1 in certs]
    hit += [(certs[c.sha256], "file.code_signature.thumbprint_sha256", c.sha256) for c in info.certificates
            if c.sha256 in certs]
    if hit:
        out.append(_doc("signing", "exposed", f"{name} is signed with a compromised certificate ({subject})", hit,
                        fields=sig_fields))
    if info.anomalies:
        out.append(_doc("signing", "suspicious", f"{name}: signature anomaly: {'; '.join(info.anomalies)}", [],
                        fields={**sig_fields, "file.code_signature.status": info.verified or None}))
    elif signers and subject and any(s in subject.lower() for s in signers):
        checked = signing.inspect_pe(data, verify=True)
        if checked.verified == "digest mismatch":
            out.append(_doc("signing", "suspicious", f"{name}: signed digest does not match the file", [],
                            fields={**sig_fields, "file.code_signature.status": checked.verified}))
    return out


def check_macho(data: bytes, name: str, fields: dict[str, Any], certs: dict[str, Indicator],
                _doc: MakeDoc) -> list[dict[str, Any]]:
    """Mach-O: the certificates of the code-signature CMS blob against certificate indicators."""
    found = signing_macho.macho_certificates(data)
    hit = [(certs[c.sha1], "tracehound.file.code_signature.thumbprint_sha1", c.sha1) for c in found if c.sha1 in certs]
    hit += [(certs[c.sha256], "file.code_signature.thumbprint_sha256", c.sha256) for c in found if c.sha256 in certs]
    if not hit:
        return []
    leaf = found[0]
    return [_doc("signing", "exposed", f"{name} (Mach-O) is signed with a compromised certificate ({leaf.subject})", hit,
                 fields={**fields, "file.code_signature.exists": True, "file.code_signature.subject_name": leaf.subject,
                         "tracehound.file.code_signature.thumbprint_sha1": leaf.sha1,
                         "file.code_signature.thumbprint_sha256": leaf.sha256})]
