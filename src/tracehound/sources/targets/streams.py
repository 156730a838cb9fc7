"""Decompressed forward streams of collection archives, with a cap on what they may grow to."""

from __future__ import annotations

import io
import lzma
import tarfile
import zlib
from typing import IO, Any

MAX_RATIO = 2000  # deflate tops out near 1032:1; more is a lie in a header or a bomb
STEP = 16 * 1024  # decompressed bytes asked for at a time


def kind_of(head: bytes) -> str:
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "tar.zst"
    if head[:6] == b"\xfd7zXZ\x00":
        return "tar.xz"
    if head[:3] == b"BZh":
        return "tar.bz2"
    if head[257:262] == b"ustar":
        return "tar"
    return ""


class ArchiveBomb(OSError):
    pass


class _Counted(io.RawIOBase):
    """A decompressed stream that stops past `cap` bytes."""

    def __init__(self, raw: Any, cap: int) -> None:
        self.raw, self.cap, self.n = raw, cap, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.raw.read(min(len(b), STEP))  # small steps: a truncated stream loses only its last step
        self.n += len(data)
        if self.n > self.cap:
            raise ArchiveBomb(f"decompressed more than {self.cap} bytes ({MAX_RATIO}x the archive): stopped")
        b[: len(data)] = data
        return len(data)


class _Gunzip:
    """gzip decompressed forward; a truncated stream yields what it holds before EOFError (GzipFile
    raises first and loses the last block)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.z, self.buf, self.done, self.truncated = fh, zlib.decompressobj(31), b"", False, False

    def read(self, n: int) -> bytes:
        while len(self.buf) < n and not self.done:
            if self.z.eof:  # the end of one gzip member: another may follow (concatenated gzip)
                pending = self.z.unused_data or self.fh.read(STEP)
                if not pending:
                    self.done = True
                    break
                self.z = zlib.decompressobj(31)
            else:
                pending = self.z.unconsumed_tail or self.fh.read(STEP)
                if not pending:
                    self.done = self.truncated = True
                    break
            self.buf += self.z.decompress(pending, STEP * 4)
        out, self.buf = self.buf[:n], self.buf[n:]
        if not out and self.truncated:
            raise EOFError("gzip stream truncated (no end-of-stream marker)")
        return out


def open_tar_stream(fh: IO[bytes], kind: str, cap: int) -> tarfile.TarFile:
    """A forward-only tar reader over the decompressed stream, stopped past cap bytes."""
    fh.seek(0)
    raw: Any
    if kind == "tar":
        raw = fh
    elif kind == "tar.gz":
        raw = _Gunzip(fh)
    elif kind == "tar.xz":
        raw = lzma.LZMAFile(fh)
    elif kind == "tar.bz2":
        import bz2

        raw = bz2.BZ2File(fh)
    else:
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
    return tarfile.open(fileobj=io.BufferedReader(_Counted(raw, cap), STEP), mode="r|")

