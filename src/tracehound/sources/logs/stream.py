"""Open log files of any compression and read them in line-aligned blocks, within bounds.

Compression is detected by magic bytes, not by name. Decompressed size is bounded relative
to the compressed size (a gzip bomb stops with a clear message instead of filling the disk
or memory); lines longer than the limit are skipped and counted, never buffered whole.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from tracehound.errors import InputError
from tracehound.sources.logs import textenc
from tracehound.sources.logs.decode import StreamBreak, decode
from tracehound.sources.logs.members import index_members, member_at

BLOCK = 4 * 1024 * 1024
READ1 = 256 * 1024  # a decoder step: what a corrupt stream can lose at most
DEFAULT_MAX_LINE = 1024 * 1024
DEFAULT_MAX_RATIO = 200  # decompressed bytes per compressed byte before we call it a bomb
RATIO_GRACE = 256 * 1024 * 1024  # small archives may legitimately compress very well


@dataclass
class ReadStats:
    bytes_read: int = 0  # decompressed bytes
    lines: int = 0
    long_lines: int = 0
    truncated: str = ""  # why the stream ended early, if it did
    skipped: dict[str, int] = field(default_factory=dict)
    encoding: str = ""  # 'UTF-16LE' / 'UTF-16BE' when the stream was decoded from UTF-16 (else UTF-8 assumed)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


def compression_of(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    return ""


def open_raw(path: str) -> tuple[BinaryIO, str, int]:
    """Open a regular file read-only (never a FIFO or device): the raw handle, its compression
    (by magic bytes) and its size. Compressed data is decoded by decode.decode()."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    if not stat.S_ISREG(st.st_mode):
        raise InputError("not a regular file (FIFO, device or directory): skipped", path=path)
    try:
        fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    kind = compression_of(fh.read(8))
    fh.seek(0)
    return fh, kind, st.st_size


def read_head(path: str, n: int = 65536) -> bytes:
    """First n decompressed bytes (as much as a cut stream holds); empty on error."""
    try:
        fh, kind, size = open_raw(path)
    except InputError:
        return b""
    try:
        if not kind:
            return fh.read(n)
        parts: list[bytes] = []
        got = 0
        for piece in decode(fh, kind, size, StreamBreak()):
            parts.append(piece)
            got += len(piece)
            if got >= n:
                break
        return b"".join(parts)[:n]
    except OSError:
        return b""
    finally:
        fh.close()


@dataclass
class Block:
    data: bytes  # whole lines, each ending with b"\n" (the last line of the file may lack it)
    offset: int  # decompressed offset of data[0] (in the original bytes, for a UTF-16 stream too)
    skipped_lines: int = 0  # over-long lines dropped between the previous block and this one
    wide: bool = False  # data is transcoded from UTF-16: offsets within it are not byte offsets of the file
    _at: tuple[int, int] | None = field(default=None, repr=False, compare=False)  # (position, its source offset)

    def source_offset(self, pos: int) -> int:
        """Offset in the original (decompressed) stream of data[pos]; cheap for increasing positions."""
        if not self.wide:
            return self.offset + pos
        at, src = self._at if self._at is not None and pos >= self._at[0] else (0, self.offset)
        src += textenc.width(self.data[at:pos])
        self._at = (pos, src)
        return src


def text_encoding(path: str) -> str:
    """'utf-16-le' / 'utf-16-be' when the file's (decompressed) head is UTF-16, else ''."""
    return textenc.utf16_of(read_head(path, textenc.SNIFF_BYTES))[0]


def iter_blocks(path: str, stats: ReadStats, max_line: int = DEFAULT_MAX_LINE,
                max_ratio: int = DEFAULT_MAX_RATIO, block: int = BLOCK, start_offset: int = 0,
                end_offset: int | None = None) -> Iterator[Block]:
    """Yield line-aligned blocks of [start_offset, end_offset). Plain files are memory-mapped
    (one copy per block); compressed streams are decoded incrementally. Errors mid-stream end
    the file with stats.truncated set. The consumer counts lines (stats.lines)."""
    fh, kind, size = open_raw(path)
    try:
        codec, bom = textenc.utf16_of(read_head(path, textenc.SNIFF_BYTES) if kind else fh.read(textenc.SNIFF_BYTES))
        fh.seek(0)
        if codec:  # never split in ranges (plan_units): the whole stream, transcoded to UTF-8
            stats.encoding = textenc.LABELS[codec]
            brk = StreamBreak()
            raw = decode(fh, kind, size, brk) if kind else textenc.file_pieces(fh)
            yield from _stream_blocks(textenc.transcode(raw, codec, bom), brk, size, stats, max_line, max_ratio, block,
                                      wide=True, base=bom)
        elif not kind:
            yield from _mapped_blocks(fh, size, stats, max_line, block, start_offset, end_offset)
        elif start_offset or end_offset is not None:
            yield from _range_blocks(fh, kind, size, stats, max_line, max_ratio, block, start_offset, end_offset)
        else:
            brk = StreamBreak()
            yield from _stream_blocks(decode(fh, kind, size, brk), brk, size, stats, max_line, max_ratio, block)
    finally:
        fh.close()


def _range_blocks(fh: BinaryIO, kind: str, size: int, stats: ReadStats, max_line: int, max_ratio: int, block: int,
                  start: int, end: int | None) -> Iterator[Block]:
    """A decompressed range of a file of independent members (members.py): decoding starts at the member
    holding `start`; a file without such members is decoded from its beginning up to `start`."""
    members = index_members(fh, kind, size)
    first = member_at(members, start) if members else None
    fh.seek(first.comp_offset if first else 0)
    brk = StreamBreak()
    pieces = decode(fh, kind, size, brk, first.comp_offset if first else 0)
    yield from _stream_blocks(_trimmed(pieces, first.raw_offset if first else 0, start, end), brk, size, stats,
                              max_line, max_ratio, block, base=start)


def _trimmed(pieces: Iterator[bytes], pos: int, start: int, end: int | None) -> Iterator[bytes]:
    """The part [start, end) of decompressed pieces whose first byte is at offset `pos`."""
    for piece in pieces:
        lo, hi = pos, pos + len(piece)
        pos = hi
        if hi <= start:
            continue
        if end is not None and lo >= end:
            return
        a = max(start - lo, 0)
        b = len(piece) if end is None else min(len(piece), end - lo)
        yield piece[a:b]
        if end is not None and hi >= end:
            return


def line_at(path: str, offset: int, limit: int = DEFAULT_MAX_LINE) -> str | None:
    """The text of the line starting at `offset` (as findings report it: a byte offset in the original,
    decompressed stream, UTF-16 included), at most `limit` bytes; None when no line starts there."""
    fh, kind, _size = open_raw(path)
    with fh:
        if not kind and not textenc.utf16_of(fh.read(textenc.SNIFF_BYTES))[0]:
            fh.seek(offset)
            raw = fh.readline(limit + 1)
            return raw.decode("utf-8", errors="replace").rstrip("\r\n")[:limit] if raw else None
    for block in iter_blocks(path, ReadStats(), limit):
        pos = 0
        while pos < len(block.data) and block.source_offset(pos) < offset:
            nl = block.data.find(b"\n", pos)
            if nl == -1:
                break
            pos = nl + 1
        if pos < len(block.data) and block.source_offset(pos) == offset:
            end = block.data.find(b"\n", pos)
            raw = block.data[pos:] if end == -1 else block.data[pos:end]
            return raw.decode("utf-8", errors="replace").rstrip("\r")[:limit]
        if block.source_offset(len(block.data)) > offset:
            return None  # inside a line, not at its start
    return None


def _mapped_blocks(fh: BinaryIO, size: int, stats: ReadStats, max_line: int, block: int, start: int,
                   end: int | None) -> Iterator[Block]:
    """Blocks of a plain file read with pread: each block ends after the last newline before
    `start + block` (found in a small read of the block's tail first, so the block itself is read
    once, exactly). Not memory-mapped: a mapped copy cost page faults and a madvise per block
    (0.19-0.21 s of CPU per GB against 0.14-0.16 s), and resident memory stays a block without it."""
    end = size if end is None else min(end, size)
    fd = fh.fileno()
    pos = start
    skipped = 0
    while pos < end:
        stop = min(pos + block, end)
        if stop < end:
            nl = _rfind_nl(fd, pos, stop)
            if nl == -1:  # no line break in a whole block: a line longer than the block
                nxt = _find_nl(fd, stop, min(end, pos + max_line + 1)) if max_line > block else -1
                if nxt == -1:
                    nxt = _find_nl(fd, pos, end)
                    stats.long_lines += 1
                    stats.skip(f"line longer than {max_line} bytes")
                    stats.bytes_read += (end if nxt == -1 else nxt + 1) - pos
                    skipped += 1
                    pos = end if nxt == -1 else nxt + 1
                    continue
                stop = nxt + 1
            else:
                stop = nl + 1
        data = os.pread(fd, stop - pos, pos)
        if not data:  # the file was cut while being read
            return
        stats.bytes_read += len(data)
        yield Block(data, pos, skipped)
        skipped = 0
        pos += len(data)


_PROBE = 64 * 1024  # bytes read at a time when looking for a line break


def _rfind_nl(fd: int, lo: int, hi: int) -> int:
    """Offset of the last b"\\n" in [lo, hi) of the file, -1 if none."""
    while hi > lo:
        at = max(lo, hi - _PROBE)
        got = os.pread(fd, hi - at, at)
        nl = got.rfind(b"\n")
        if nl != -1:
            return at + nl
        hi = at + len(got) if len(got) < hi - at else at  # a cut file: look only at what it still holds
    return -1


def _find_nl(fd: int, lo: int, hi: int) -> int:
    """Offset of the first b"\\n" in [lo, hi) of the file, -1 if none."""
    while lo < hi:
        got = os.pread(fd, min(16 * _PROBE, hi - lo), lo)
        if not got:
            return -1
        nl = got.find(b"\n")
        if nl != -1:
            return lo + nl
        lo += len(got)
    return -1


def _stream_blocks(pieces: Iterator[bytes], brk: StreamBreak, size: int, stats: ReadStats, max_line: int,
                   max_ratio: int, block: int, wide: bool = False, base: int = 0) -> Iterator[Block]:
    """Line-aligned blocks of a stream of pieces (decompressed, or transcoded from UTF-16: `wide`,
    offsets then counted in the original bytes, `base` of them, a BOM, before the first piece)."""
    limit = max(size * max_ratio, RATIO_GRACE)
    rest = b""
    offset = base  # decompressed offset of rest[0]
    skipping_long = False
    skipped = 0
    span = textenc.width if wide else len  # original bytes of a piece of data
    failed = False
    while not failed:
        parts: list[bytes] = []
        got = 0
        for piece in pieces:
            parts.append(piece)
            got += len(piece)
            if got >= block:
                break
        else:
            failed = True  # the stream is done (or broke): this is the last chunk
        chunk = b"".join(parts)
        if not chunk:
            break
        stats.bytes_read += len(chunk)
        if stats.bytes_read > limit:
            stats.truncated = (f"decompressed size passed {max_ratio}x the compressed size "
                               f"({stats.bytes_read} bytes): possible decompression bomb, stopped")
            break
        data = rest + chunk
        if skipping_long:
            nl = data.find(b"\n")
            if nl == -1:
                offset += span(data)
                rest = b""
                continue
            offset += span(data[: nl + 1])
            data = data[nl + 1 :]
            skipping_long = False
            skipped += 1
        cut = data.rfind(b"\n")
        whole, rest = data[: cut + 1], data[cut + 1 :]  # no newline: nothing whole, all rest
        if whole:
            yield Block(whole, offset, skipped, wide)
            skipped = 0
            offset += span(whole)
        if len(rest) > max_line:  # an unfinished line already over the limit: skip to its end
            stats.long_lines += 1
            stats.skip(f"line longer than {max_line} bytes")
            skipping_long = True
            offset += span(rest)
            rest = b""
    if brk.kind and not stats.truncated:
        stats.truncated = f"{brk.message()}; {stats.bytes_read} bytes decompressed before it"
    if skipping_long:
        skipped += 1
    if rest and not skipping_long:
        yield Block(rest, offset, skipped, wide)
    elif skipped:
        yield Block(b"", offset, skipped, wide)


def _skip(fh: BinaryIO, n: int) -> None:
    try:
        fh.seek(n)
    except (OSError, ValueError):
        while n > 0:
            got = fh.read(min(n, BLOCK))
            if not got:
                break
            n -= len(got)
