"""Just enough DER to find certificates in CMS/PKCS#7 blobs and to cut a certificate's TBS part.
Every read is bounds-checked: the input is attacker-controlled."""

from __future__ import annotations

from collections.abc import Iterator


def item(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end) of the DER element at pos; ValueError when malformed."""
    if pos + 2 > len(der):
        raise ValueError("truncated DER")
    tag = der[pos]
    first = der[pos + 1]
    if first < 0x80:
        start, length = pos + 2, first
    else:
        n = first & 0x7F
        if not 0 < n <= 4 or pos + 2 + n > len(der):
            raise ValueError("unsupported DER length")
        start, length = pos + 2 + n, int.from_bytes(der[pos + 2 : pos + 2 + n], "big")
    if start + length > len(der):
        raise ValueError("DER element runs past its container")
    return tag, start, start + length


def children(der: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(tag, element start, content start, end) of each element inside [start, end)."""
    pos = start
    while pos < end:
        tag, cstart, cend = item(der, pos)
        yield tag, pos, cstart, cend
        pos = cend


def cms_certificates(der: bytes) -> list[bytes]:
    """Certificates (DER) carried by a CMS ContentInfo holding SignedData."""
    _t, cs, ce = item(der, 0)  # ContentInfo SEQUENCE
    parts = list(children(der, cs, ce))
    if len(parts) < 2 or parts[1][0] != 0xA0:
        raise ValueError("not a CMS ContentInfo with content")
    _t, _p, ecs, ece = parts[1]
    tag, sds, sde = item(der, ecs)  # SignedData SEQUENCE
    if tag != 0x30:
        raise ValueError("not SignedData")
    for tag, _pos, cst, cen in children(der, sds, sde):
        if tag == 0xA0:  # [0] IMPLICIT CertificateSet
            return [der[p:e] for t, p, _c, e in children(der, cst, cen) if t == 0x30]
    return []


def tbs_and_algorithm(cert: bytes) -> tuple[bytes, bytes]:
    """(TBSCertificate DER, signatureAlgorithm DER) of a certificate."""
    _t, cs, ce = item(cert, 0)
    parts = list(children(cert, cs, ce))
    if len(parts) < 2:
        raise ValueError("not a certificate")
    return cert[parts[0][1] : parts[0][3]], cert[parts[1][1] : parts[1][3]]


def common_names(cert: bytes) -> list[str]:
    """commonName values in order of appearance (issuer's, then subject's)."""
    out = []
    marker = b"\x06\x03\x55\x04\x03"
    pos = cert.find(marker)
    while pos != -1 and pos + 7 <= len(cert):
        length = cert[pos + 6]
        out.append(cert[pos + 7 : pos + 7 + length].decode("utf-8", errors="replace"))
        pos = cert.find(marker, pos + 7)
    return out
