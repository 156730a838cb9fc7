"""Open evidence files read-only and safely, and hash them in a single read.

O_NOFOLLOW refuses a symlink swapped in after the walk; O_NONBLOCK keeps a FIFO swapped in
from blocking; fstat after open confirms a regular file; O_NOATIME (when allowed) leaves
access times untouched.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

CHUNK = 4 * 1024 * 1024


class NotRegular(OSError):
    pass


def open_evidence(path: str) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags | noatime)
    except PermissionError:
        fd = os.open(path, flags)  # O_NOATIME needs ownership; retry without it
    except OSError as exc:
        if noatime and exc.errno == 1:  # EPERM
            fd = os.open(path, flags)
        else:
            raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegular(f"not a regular file: {path}")
    return fd


@dataclass
class FileData:
    hashes: dict[str, str]
    head: bytes  # first bytes (type detection)
    data: bytes | None  # whole content when small enough for YARA/PE parsing, else None
    size: int


def read_and_hash(path: str, algos: tuple[str, ...], keep_max: int | Callable[[bytes], int],
                  head_size: int = 4096) -> FileData:
    """One pass over the file: every requested hash, the head, and the whole content when it is
    at most keep_max bytes (keep_max may decide from the head, e.g. keep PE files only)."""
    hs = [hashlib.new(a) for a in algos]
    fd = open_evidence(path)
    parts: list[bytes] = []
    size = 0
    head = b""
    limit = -1
    try:
        while True:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            if limit < 0:
                head = chunk[:head_size]
                limit = keep_max(head) if callable(keep_max) else keep_max
            for h in hs:
                h.update(chunk)
            size += len(chunk)
            if size <= limit:
                parts.append(chunk)
            elif parts:
                parts = []
    finally:
        os.close(fd)
    data = (parts[0] if len(parts) == 1 else b"".join(parts)) if size <= limit and (parts or size == 0) else None
    return FileData({a: h.hexdigest() for a, h in zip(algos, hs, strict=True)}, head, data, size)
