"""Bounded, read-only zip reading for package metadata (Squirrel .nupkg, macOS update .zip).

Nothing is ever extracted: members are read into memory with a size cap, so a zip bomb costs at
most the cap; the central directory is sized from its end record before it is parsed, so a
million-entry archive is refused before Python builds a million objects; member names are only
compared as text (a '../../etc/passwd' name is never a path on disk); encrypted, truncated and
unknown-compression members are reported as reasons, never raised as tracebacks.
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from typing import IO

MAX_ENTRIES = 100_000
MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024
MAX_MEMBER = 8 * 1024 * 1024  # nuspec, Info.plist, package.json
MAX_STREAMED = 1024 * 1024 * 1024  # app.asar inside a package: read forward, only header and package.json kept

READ_ERRORS = _READ_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, NotImplementedError, RuntimeError, EOFError,
                OSError, ValueError, struct.error)


class ZipProblem(Exception):
    """Why a package could not be read (said in the finding, never raised to the user)."""


def _entry_count(f: IO[bytes], size: int) -> tuple[int, int]:
    """(entries, central directory size) from the end records, before zipfile parses anything."""
    tail_len = min(size, 65535 + 22)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < 22:
        raise ZipProblem("not a zip file (no end of central directory)")
    entries, cd_size = struct.unpack_from("<H", tail, pos + 10)[0], struct.unpack_from("<I", tail, pos + 12)[0]
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # zip64: the real numbers are in the zip64 end record
        loc = pos - 20
        if loc >= 0 and tail[loc : loc + 4] == b"PK\x06\x07":
            off = struct.unpack_from("<Q", tail, loc + 8)[0]
            if off + 56 <= size:
                f.seek(off)
                rec = f.read(56)
                if rec[:4] == b"PK\x06\x06":
                    entries, cd_size = struct.unpack_from("<QQ", rec, 32)
    return entries, cd_size


def open_zip(f: IO[bytes], size: int) -> zipfile.ZipFile:
    entries, cd_size = _entry_count(f, size)
    if entries > MAX_ENTRIES:
        raise ZipProblem(f"{entries} entries (more than {MAX_ENTRIES}): not read")
    if cd_size > MAX_CENTRAL_DIRECTORY:
        raise ZipProblem(f"central directory of {cd_size} bytes (more than {MAX_CENTRAL_DIRECTORY}): not read")
    f.seek(0)
    try:
        return zipfile.ZipFile(f)
    except _READ_ERRORS as exc:
        raise ZipProblem(f"unreadable zip ({type(exc).__name__}: {exc})") from None


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as text for matching only ('\\' folded to '/', leading '/' and './' dropped)."""
    name = info.filename.replace("\\", "/")
    while name.startswith(("/", "./")):
        name = name[1:] if name.startswith("/") else name[2:]
    return name


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int = MAX_MEMBER) -> bytes:
    """The member's bytes, at most cap (declared and actual sizes both checked)."""
    if info.file_size > cap:
        raise ZipProblem(f"{member_name(info)}: {info.file_size} bytes declared (more than {cap})")
    if info.flag_bits & 0x1:
        raise ZipProblem(f"{member_name(info)}: encrypted")
    try:
        with zf.open(info) as fh:
            data = fh.read(cap + 1)
    except _READ_ERRORS as exc:
        raise ZipProblem(f"{member_name(info)}: unreadable ({type(exc).__name__}: {exc})") from None
    if len(data) > cap:
        raise ZipProblem(f"{member_name(info)}: more than {cap} bytes")
    return data


class StreamedMember:
    """Forward reads at offsets in a (possibly large) member, for the asar header and its package.json."""

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        if info.file_size > MAX_STREAMED:
            raise ZipProblem(f"{member_name(info)}: {info.file_size} bytes declared (more than {MAX_STREAMED})")
        if info.flag_bits & 0x1:
            raise ZipProblem(f"{member_name(info)}: encrypted")
        self.size = info.file_size
        try:
            self._fh = zf.open(info)
        except _READ_ERRORS as exc:
            raise ZipProblem(f"{member_name(info)}: unreadable ({type(exc).__name__}: {exc})") from None
        self._pos = 0

    def read_at(self, off: int, n: int) -> bytes:
        try:
            if off < self._pos:
                self._fh.seek(0)
                self._pos = 0
            while self._pos < off:  # skip forward in bounded chunks (decompression, nothing kept)
                step = self._fh.read(min(off - self._pos, 1 << 20))
                if not step:
                    return b""
                self._pos += len(step)
            data = self._fh.read(n)
        except _READ_ERRORS as exc:
            raise OSError(f"unreadable member ({type(exc).__name__})") from None
        self._pos += len(data)
        return data

    def close(self) -> None:
        self._fh.close()
