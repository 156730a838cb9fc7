"""Code signatures of Mach-O files (thin and universal): the certificates of the CMS blob in
the LC_CODE_SIGNATURE SuperBlob, for matching certificate indicators (e.g. the Developer ID
certificate of a trojanized macOS app). Parsed by hand, bounds-checked: the file is hostile."""

from __future__ import annotations

import hashlib
import struct

from tracehound.der import cms_certificates, common_names
from tracehound.sweep.signing import CertInfo

LC_CODE_SIGNATURE = 0x1D
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_BLOBWRAPPER = 0xFADE0B01  # the CMS signature blob
THIN = {b"\xcf\xfa\xed\xfe": 32, b"\xce\xfa\xed\xfe": 28}  # little-endian 64/32-bit headers
FAT = b"\xca\xfe\xba\xbe"
MAX_ARCHS = 16  # Java class files share the fat magic; their "count" is a version number


def is_macho(head: bytes) -> bool:
    return head[:4] in THIN or (head[:4] == FAT and 0 < struct.unpack(">I", head[4:8])[0] <= MAX_ARCHS
                                if len(head) >= 8 else False)


def _slices(data: bytes) -> list[bytes]:
    if data[:4] in THIN:
        return [data]
    if data[:4] != FAT or len(data) < 8:
        return []
    (n,) = struct.unpack_from(">I", data, 4)
    out = []
    for i in range(min(n, MAX_ARCHS)):
        if 8 + 20 * (i + 1) > len(data):
            break
        _cpu, _sub, off, size, _align = struct.unpack_from(">IIIII", data, 8 + 20 * i)
        if off + size <= len(data) and data[off : off + 4] in THIN:
            out.append(data[off : off + size])
    return out


def _signature_blob(macho: bytes) -> bytes | None:
    header = THIN[macho[:4]]
    if len(macho) < header:
        return None
    ncmds, sizeofcmds = struct.unpack_from("<II", macho, 16)
    pos, end = header, min(len(macho), header + sizeofcmds)
    for _ in range(min(ncmds, 4096)):
        if pos + 8 > end:
            break
        cmd, size = struct.unpack_from("<II", macho, pos)
        if size < 8:
            break
        if cmd == LC_CODE_SIGNATURE and pos + 16 <= end:
            off, length = struct.unpack_from("<II", macho, pos + 8)
            return macho[off : off + length] if off + length <= len(macho) else None
        pos += size
    return None


def _cms(superblob: bytes) -> bytes | None:
    if len(superblob) < 12:
        return None
    magic, _length, count = struct.unpack_from(">III", superblob, 0)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        return None
    for i in range(min(count, 64)):
        if 12 + 8 * (i + 1) > len(superblob):
            break
        _type, off = struct.unpack_from(">II", superblob, 12 + 8 * i)
        if off + 8 <= len(superblob):
            bmagic, blen = struct.unpack_from(">II", superblob, off)
            if bmagic == CSMAGIC_BLOBWRAPPER and off + blen <= len(superblob) and blen > 8:
                return superblob[off + 8 : off + blen]
    return None


def macho_certificates(data: bytes) -> list[CertInfo]:
    """Certificates signing any slice of the file (leaf first, as Apple orders them)."""
    out: list[CertInfo] = []
    seen: set[str] = set()
    for macho in _slices(data):
        blob = _signature_blob(macho)
        cms = _cms(blob) if blob else None
        if not cms:
            continue
        try:
            certs = cms_certificates(cms)
        except ValueError:
            continue
        for der in certs:
            sha1 = hashlib.sha1(der).hexdigest()
            if sha1 in seen:
                continue
            seen.add(sha1)
            names = common_names(der)
            out.append(CertInfo(names[-1] if names else "", names[0] if names else "", "", sha1,
                                hashlib.sha256(der).hexdigest()))
    return out
