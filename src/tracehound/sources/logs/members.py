"""Independently decodable parts of a compressed log, found without decompressing it.

A compressed file can be split across cores only where a new compressed unit starts and the
decompressed offset of that start is known:
  - BGZF (`bgzip`, htslib; a gzip file of members of at most 64 KiB, each with a `BC` extra field
    giving its compressed size; the member's ISIZE trailer gives its decompressed size);
  - zstd files of several frames (`pzstd`, concatenated rotations, seekable zstd), each frame header
    giving its decompressed size (Frame_Content_Size); frame ends are found by walking block headers
    (RFC 8878 §3.1.1); skippable frames are stepped over.
Any other layout (one gzip member, gzip members without BGZF fields, a frame without a content
size, a file cut in the middle) gives None: the file is streamed by one worker, as before.
Nothing here trusts the file: every size is checked against the file's end, and the walk stops at
MAX_MEMBERS.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

MAX_MEMBERS = 4_000_000
_ZSTD_MAGIC = 0xFD2FB528
_SKIPPABLE = 0x184D2A50  # ..5F: the low 4 bits are free


@dataclass(frozen=True)
class Member:
    comp_offset: int  # where the unit starts in the file
    raw_offset: int  # decompressed offset of its first byte
    raw_size: int


def index_members(fh: BinaryIO, kind: str, size: int) -> list[Member] | None:
    """The file's independently decodable units, in order, or None when it has no such layout."""
    try:
        if kind == "gzip":
            return _bgzf(fh, size)
        if kind == "zstd":
            return _zstd(fh, size)
    except (OSError, struct.error):
        return None
    return None


def _bgzf(fh: BinaryIO, size: int) -> list[Member] | None:
    out: list[Member] = []
    pos = raw = 0
    while pos < size:
        fh.seek(pos)
        head = fh.read(18)
        # ID1 ID2 CM=8 FLG=FEXTRA, MTIME, XFL, OS, XLEN=6, 'B' 'C' SLEN=2 BSIZE
        if len(head) < 18 or head[:4] != b"\x1f\x8b\x08\x04" or head[12:14] != b"BC" or \
                struct.unpack_from("<H", head, 10)[0] != 6 or struct.unpack_from("<H", head, 14)[0] != 2:
            return None
        block = struct.unpack_from("<H", head, 16)[0] + 1
        if block < 26 or pos + block > size:
            return None
        fh.seek(pos + block - 4)
        isize = struct.unpack("<I", fh.read(4))[0]
        if isize > 65536:
            return None
        if isize:  # the empty end-of-file block holds nothing
            out.append(Member(pos, raw, isize))
        raw += isize
        pos += block
        if len(out) > MAX_MEMBERS:
            return None
    return out if len(out) > 1 else None


def _zstd(fh: BinaryIO, size: int) -> list[Member] | None:
    out: list[Member] = []
    pos = raw = 0
    while pos < size:
        fh.seek(pos)
        head = fh.read(18)
        if len(head) < 8:
            return None
        magic = struct.unpack_from("<I", head)[0]
        if magic & 0xFFFFFFF0 == _SKIPPABLE:
            pos += 8 + struct.unpack_from("<I", head, 4)[0]
            continue
        if magic != _ZSTD_MAGIC:
            return None
        fhd = head[4]
        fcs_flag, single, checksum, dict_flag = fhd >> 6, (fhd >> 5) & 1, (fhd >> 2) & 1, fhd & 3
        n = 5 + (0 if single else 1) + (0, 1, 2, 4)[dict_flag]
        fcs_len = (1 if single else 0, 2, 4, 8)[fcs_flag]
        if not fcs_len:
            return None  # no content size: decompressed offsets unknown without decoding
        if len(head) < n + fcs_len:
            return None
        fcs = int.from_bytes(head[n:n + fcs_len], "little") + (256 if fcs_len == 2 else 0)
        p = pos + n + fcs_len
        while True:  # blocks: 3-byte header (last, type, size)
            fh.seek(p)
            bh = fh.read(3)
            if len(bh) < 3:
                return None
            v = int.from_bytes(bh, "little")
            last, btype, bsize = v & 1, (v >> 1) & 3, v >> 3
            if btype == 3:
                return None
            p += 3 + (1 if btype == 1 else bsize)
            if p > size:
                return None
            if last:
                break
        p += 4 if checksum else 0
        if p > size:
            return None
        if fcs:
            out.append(Member(pos, raw, fcs))
        raw += fcs
        pos = p
        if len(out) > MAX_MEMBERS:
            return None
    return out if len(out) > 1 else None


def member_at(members: list[Member], raw: int) -> Member:
    """The member holding decompressed offset `raw` (the last one starting at or before it)."""
    lo, hi = 0, len(members) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if members[mid].raw_offset <= raw:
            lo = mid
        else:
            hi = mid - 1
    return members[lo]


def line_cuts(fh: BinaryIO, kind: str, size: int, members: list[Member], parts: int, max_line: int) -> list[int]:
    """Decompressed offsets, each right after a newline, cutting the file into up to `parts` ranges that
    start in independent members (0 first)."""
    from tracehound.sources.logs.decode import StreamBreak, decode

    total = members[-1].raw_offset + members[-1].raw_size
    cuts = [0]
    for k in range(1, parts):
        m = member_at(members, k * total // parts)
        fh.seek(m.comp_offset)
        pos = m.raw_offset
        for piece in decode(fh, kind, size, StreamBreak(), m.comp_offset):
            nl = piece.find(b"\n")
            if nl != -1:
                if pos + nl + 1 > cuts[-1] and pos + nl + 1 < total:
                    cuts.append(pos + nl + 1)
                break
            pos += len(piece)
            if pos - m.raw_offset > max_line:
                break
    return cuts
