"""Authenticode on PE files: signer, certificate thumbprints, and signature anomalies.

The certificate table is located with a minimal header parse (cheap enough for every PE);
only PEs that carry one are parsed with lief. Anomalies flagged:
- padding: the WIN_CERTIFICATE is longer than its PKCS#7 blob plus 8-byte alignment (data
  hidden inside the certificate table while the signature still verifies: CVE-2013-3900,
  how the trojanized d3dcompiler_47.dll kept a valid Microsoft signature);
- appended: data after the certificate table at the end of the file;
- digest: the signed Authenticode digest does not match the file (lief verification).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field


@dataclass
class CertInfo:
    subject: str
    issuer: str
    serial: str
    sha1: str
    sha256: str


@dataclass
class SignatureInfo:
    signed: bool = False
    signers: list[CertInfo] = field(default_factory=list)  # leaf (signing) certificates
    certificates: list[CertInfo] = field(default_factory=list)  # every certificate in the blob
    anomalies: list[str] = field(default_factory=list)
    verified: str = ""  # "ok", "digest mismatch", "not checked", or lief's flags
    error: str = ""


def certificate_table(data: bytes) -> tuple[int, int] | None:
    """(offset, size) of the PE certificate table, or None (not a PE, or unsigned)."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    (pe_off,) = struct.unpack_from("<I", data, 0x3C)
    if pe_off + 24 > len(data) or data[pe_off : pe_off + 4] != b"PE\x00\x00":
        return None
    opt = pe_off + 24
    if opt + 2 > len(data):
        return None
    (magic,) = struct.unpack_from("<H", data, opt)
    dd = opt + (96 if magic == 0x10B else 112 if magic == 0x20B else -1)
    if dd < opt or dd + 8 * 5 > len(data):
        return None
    off, size = struct.unpack_from("<II", data, dd + 8 * 4)  # IMAGE_DIRECTORY_ENTRY_SECURITY
    if not off or not size:
        return None
    return off, size


def _der_length(blob: bytes) -> int | None:
    if len(blob) < 2 or blob[0] != 0x30:
        return None
    first = blob[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or len(blob) < 2 + n:
        return None
    return 2 + n + int.from_bytes(blob[2 : 2 + n], "big")


def table_anomalies(data: bytes, off: int, size: int) -> list[str]:
    out = []
    if off + size > len(data):
        return ["certificate table extends past the end of the file (truncated or malformed)"]
    if off + size < len(data):
        out.append(f"{len(data) - off - size} bytes appended after the certificate table")
    pos, end = off, off + size
    while pos + 8 <= end:
        length, _rev, _ctype = struct.unpack_from("<IHH", data, pos)
        if length < 8 or pos + length > end:
            out.append("malformed WIN_CERTIFICATE length")
            break
        der = _der_length(data[pos + 8 : pos + length])
        if der is not None and length - 8 - der > 7:
            out.append(f"{length - 8 - der} bytes hidden inside the certificate table after the signature "
                       "(CVE-2013-3900 padding)")
        pos += (length + 7) & ~7
    return out


def _cert(c) -> CertInfo:
    raw = bytes(c.raw)
    serial = bytes(c.serial_number).hex() if not isinstance(c.serial_number, str) else c.serial_number
    return CertInfo(str(c.subject), str(c.issuer), serial, hashlib.sha1(raw).hexdigest(), hashlib.sha256(raw).hexdigest())


def inspect_pe(data: bytes, verify: bool) -> SignatureInfo:
    info = SignatureInfo()
    loc = certificate_table(data)
    if loc is None:
        return info
    info.anomalies = table_anomalies(data, *loc)
    try:
        import lief

        lief.logging.disable()
        binary = lief.PE.parse(data)
    except Exception as exc:  # noqa: BLE001 - hostile PEs make parsers raise anything
        info.error = f"PE parse failed: {type(exc).__name__}"
        return info
    if binary is None:
        info.error = "PE parse failed"
        return info
    try:
        for sig in binary.signatures:
            info.signed = True
            for c in sig.certificates:
                info.certificates.append(_cert(c))
            for signer in sig.signers:
                crt = signer.cert
                if crt is not None:
                    info.signers.append(_cert(crt))
        if info.signed and (verify or info.anomalies):
            flags = binary.verify_signature()
            text = str(flags)
            if "BAD_DIGEST" in text:
                info.verified = "digest mismatch"
                info.anomalies.append("the signed digest does not match the file (modified after signing)")
            elif text.endswith("OK") or text == "VERIFICATION_FLAGS.OK":
                info.verified = "ok"
            else:
                info.verified = text.replace("VERIFICATION_FLAGS.", "")
    except Exception as exc:  # noqa: BLE001
        info.error = f"signature parse failed: {type(exc).__name__}"
    return info
