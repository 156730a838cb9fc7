"""Open log files of any compression and read them in line-aligned blocks, within bounds.

Compression is detected by magic bytes, not by name. Decompressed size is bounded relative
to the compressed size (a gzip bomb stops with a clear message instead of filling the disk
or memory); lines longer than the limit are skipped and counted, never buffered whole.
"""

from __future__ import annotations

import bz2
import lzma
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from tracehound.errors import InputError

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
    """Open a regular file read-only (never a FIFO or device) and wrap its decompressor."""
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
    head = fh.read(8)
    fh.seek(0)
    kind = compression_of(head)
    if kind == "gzip":
        try:
            from isal import igzip

            return igzip.IGzipFile(fileobj=fh, mode="rb"), kind, st.st_size  # type: ignore[return-value]
        except ImportError:  # pragma: no cover
            import gzip

            return gzip.GzipFile(fileobj=fh, mode="rb"), kind, st.st_size  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.BZ2File(fh, "rb"), kind, st.st_size  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(fh, "rb"), kind, st.st_size  # type: ignore[return-value]
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True), kind, st.st_size
    return fh, "", st.st_size


def read_head(path: str, n: int = 65536) -> bytes:
    """First n decompressed bytes (for format detection); empty on error."""
    try:
        fh, _, _ = open_raw(path)
    except InputError:
        return b""
    try:
        return fh.read(n)
    except (OSError, EOFError, lzma.LZMAError, ValueError):
        return b""
    finally:
        fh.close()


@dataclass
class Block:
    data: bytes  # whole lines, each ending with b"\n" (the last line of the file may lack it)
    offset: int  # decompressed offset of data[0]
    first_line: int  # 1-based line number of the first line in data


def iter_blocks(path: str, stats: ReadStats, max_line: int = DEFAULT_MAX_LINE,
                max_ratio: int = DEFAULT_MAX_RATIO, block: int = BLOCK, start_offset: int = 0) -> Iterator[Block]:
    """Yield line-aligned blocks. Errors mid-stream end the file with stats.truncated set."""
    fh, kind, size = open_raw(path)
    limit = max(size * max_ratio, RATIO_GRACE) if kind else None
    rest = b""
    offset = 0  # decompressed offset of rest[0]
    line_no = 1
    skipping_long = False
    try:
        if start_offset:
            _skip(fh, start_offset)
            offset = start_offset
        read1 = getattr(fh, "read1", None) if kind else None
        failed = False
        while not failed:
            # Compressed streams are read with read1() and accumulated, so data decoded before a
            # corruption (truncated .gz) is kept: read(n) would discard it with the exception.
            parts: list[bytes] = []
            got = 0
            try:
                while got < block:
                    piece = read1(min(READ1, block - got)) if read1 is not None else fh.read(block - got)
                    if not piece:
                        break
                    parts.append(piece)
                    got += len(piece)
                    if read1 is None:
                        break
            except Exception as exc:  # noqa: BLE001 - gzip/bz2/lzma/zstd/isal each raise their own types
                stats.truncated = f"{kind or 'file'} stream unreadable after {offset + len(rest) + got} bytes: {exc}"
                failed = True
            chunk = b"".join(parts)
            if not chunk:
                break
            stats.bytes_read += len(chunk)
            if limit is not None and stats.bytes_read > limit:
                stats.truncated = (f"decompressed size passed {max_ratio}x the compressed size "
                                   f"({stats.bytes_read} bytes): possible decompression bomb, stopped")
                break
            data = rest + chunk
            cut = data.rfind(b"\n")
            if skipping_long:
                if cut == -1:
                    offset += len(data)
                    rest = b""
                    continue
                nl = data.find(b"\n")
                offset += nl + 1
                line_no += 1
                data = data[nl + 1 :]
                cut = data.rfind(b"\n")
                skipping_long = False
            if cut == -1:
                if len(data) > max_line:
                    stats.long_lines += 1
                    stats.skip(f"line longer than {max_line} bytes")
                    skipping_long = True
                    offset += len(data)
                    rest = b""
                else:
                    rest = data
                continue
            whole, rest = data[: cut + 1], data[cut + 1 :]
            yield Block(whole, offset, line_no)
            n = whole.count(b"\n")
            stats.lines += n
            line_no += n
            offset += len(whole)
            if len(rest) > max_line:
                stats.long_lines += 1
                stats.skip(f"line longer than {max_line} bytes")
                skipping_long = True
                offset += len(rest)
                rest = b""
        if rest and not skipping_long:
            yield Block(rest, offset, line_no)
            stats.lines += 1
    finally:
        fh.close()


def _skip(fh: BinaryIO, n: int) -> None:
    try:
        fh.seek(n)
    except (OSError, ValueError):
        while n > 0:
            got = fh.read(min(n, BLOCK))
            if not got:
                break
            n -= len(got)
