"""UTF-16 logs: detection and on-the-fly transcoding to UTF-8, with offsets kept in the original bytes.

Windows writes UTF-16: Windows PowerShell 5 `Out-File` and `>` (UTF-16LE with a BOM), DNS debug logs,
IIS logs and CSV exports set to "Unicode". The hunt reads UTF-8 bytes; a UTF-16 stream is decoded
here (a BOM says the byte order; without one, a head with a NUL in every other byte and none in the
others is UTF-16LE or BE), so every reader, the prefilter and the line counting work unchanged. A
position in the transcoded text maps back to the byte offset in the original (decompressed) stream:
two bytes per UTF-16 code unit, one code unit per character, two for a character beyond U+FFFF.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

SNIFF_BYTES = 4096  # head bytes examined for a BOM-less UTF-16 stream
_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
LABELS = {"utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}
_CONT = bytes(range(0x80, 0xC0))  # UTF-8 continuation bytes (not a character of their own)
_LEAD4 = bytes(range(0xF0, 0xF5))  # UTF-8 lead bytes of characters beyond U+FFFF (a surrogate pair)


def utf16_of(head: bytes) -> tuple[str, int]:
    """(codec, BOM length) when the head is UTF-16, else ('', 0)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    h = head[:SNIFF_BYTES]
    n = len(h) // 2
    if n < 8:  # too little to call it clearly UTF-16
        return "", 0
    even, odd = h[0 : 2 * n : 2], h[1 : 2 * n : 2]
    z_even, z_odd = even.count(0), odd.count(0)
    if z_odd >= 0.9 * n and z_even <= 0.02 * n:
        return "utf-16-le", 0
    if z_even >= 0.9 * n and z_odd <= 0.02 * n:
        return "utf-16-be", 0
    return "", 0


def width(utf8: bytes) -> int:
    """Bytes the UTF-8 text `utf8` took in UTF-16: 2 per character, 4 per character beyond U+FFFF."""
    chars = len(utf8.translate(None, _CONT))
    astral = len(utf8) - len(utf8.translate(None, _LEAD4))
    return 2 * (chars + astral)


def transcode(pieces: Iterable[bytes], codec: str, bom: int) -> Iterator[bytes]:
    """UTF-8 pieces of a UTF-16 stream (its BOM dropped); undecodable code units become U+FFFD (one
    code unit each, so offsets stay exact), a code unit or surrogate pair cut between pieces is joined."""
    dec = codecs.getincrementaldecoder(codec)(errors="replace")
    skip = bom
    for piece in pieces:
        if skip:
            cut = min(skip, len(piece))
            piece, skip = piece[cut:], skip - cut
        text = dec.decode(piece)
        if text:
            yield text.encode("utf-8")
    tail = dec.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8")


def file_pieces(fh: object, step: int = 1024 * 1024) -> Iterator[bytes]:
    """Raw pieces of an open plain file, from where it stands."""
    read = fh.read  # type: ignore[attr-defined]
    while True:
        piece = read(step)
        if not piece:
            return
        yield piece
