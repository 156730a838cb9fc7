"""Incremental decoding of gzip, bzip2, xz and zstd streams that keeps all it can read.

The file's compressed bytes are fed to the low-level decompressor (the same incremental objects
as the standard library's), so a stream cut in the middle gives every byte the decompressor can
produce from the data present, and says where it broke (compressed byte offset). File objects
(GzipFile, BZ2File, zstd stream_reader) may drop their buffered output with the error, or, for
zstd, end a truncated frame silently. Concatenated members/frames are decoded in turn; output per
step is bounded (decompression bombs are stopped by the caller's ratio check).
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

OUT_STEP = 1024 * 1024  # most decompressed bytes per decompressor call (zlib, bz2, xz)
IN_STEP = {"gzip": 256 * 1024, "bz2": 256 * 1024, "xz": 256 * 1024, "zstd": 1024}  # zstd has no max_length


@dataclass
class StreamBreak:
    """Where and why a compressed stream stopped before its end marker."""

    kind: str = ""
    offset: int = 0  # compressed bytes consumed when it broke
    size: int = 0  # compressed size of the file
    reason: str = ""

    def set(self, kind: str, offset: int, size: int, reason: str) -> None:
        self.kind, self.offset, self.size, self.reason = kind, offset, size, reason

    def message(self) -> str:
        return f"{self.kind} stream breaks at compressed byte {self.offset} of {self.size}: {self.reason}"


def _new(kind: str) -> Any:
    if kind == "gzip":
        try:
            from isal import isal_zlib

            return isal_zlib.decompressobj(31)
        except ImportError:  # pragma: no cover
            return zlib.decompressobj(31)
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind == "xz":
        return lzma.LZMADecompressor()
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


def _step(kind: str, dec: Any, data: bytes) -> Iterator[bytes]:
    """Decompress `data` in bounded pieces; afterwards all of it is consumed or in unused_data."""
    if kind == "gzip":
        out = dec.decompress(data, OUT_STEP)
        yield out
        while dec.unconsumed_tail and not dec.eof:
            yield dec.decompress(dec.unconsumed_tail, OUT_STEP)
    elif kind in ("bz2", "xz"):
        yield dec.decompress(data, OUT_STEP)
        while not dec.eof and not dec.needs_input:
            yield dec.decompress(b"", OUT_STEP)
    else:
        yield dec.decompress(data)


def decode(fh: BinaryIO, kind: str, size: int, brk: StreamBreak, base: int = 0) -> Iterator[bytes]:
    """Decompressed pieces of the stream in fh from its current position (`base`, a member's start);
    on a cut or corrupt stream, brk is filled in after the last piece that could be decoded."""
    step = IN_STEP[kind]
    dec = _new(kind)
    fed = base  # compressed bytes handed to decoders (file offset of the next byte read)
    member_bytes = 0  # compressed bytes of the current member
    pending = b""
    while True:
        if not pending:
            pending = fh.read(step)
            if not pending:
                break
        data, pending = pending, b""
        fed += len(data)
        member_bytes += len(data)
        try:
            for out in _step(kind, dec, data):
                if out:
                    yield out
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError, MemoryError) as exc:
            brk.set(kind, fed - len(data), size, f"corrupt data ({exc})")
            return
        except Exception as exc:  # noqa: BLE001 - isal and zstandard raise their own error types
            brk.set(kind, fed - len(data), size, f"corrupt data ({exc})")
            return
        if dec.eof:
            rest = dec.unused_data
            if kind in ("gzip", "xz"):
                rest = rest.lstrip(b"\x00")  # member padding
            if rest:
                fed -= len(rest)
                pending = rest
            dec = _new(kind)
            member_bytes = 0
    if member_bytes:
        tail = b""
        if kind == "gzip":
            try:
                tail = dec.flush()
            except Exception:  # noqa: BLE001
                tail = b""
        if tail:
            yield tail
        brk.set(kind, fed, size, "the file ends inside the stream (truncated copy?)")
