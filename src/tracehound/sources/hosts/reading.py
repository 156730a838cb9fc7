"""Open evidence files read-only and safely, and hash them in a single read.

Every open goes through tracehound.fsutil.open_beneath: no component of the path is followed
(a folder swapped for a symlink after the walk is refused), O_NONBLOCK keeps a FIFO swapped in
from blocking, fstat after open confirms a regular file and the inode the walk listed, and
O_NOATIME (when allowed; counted when not) leaves access times untouched.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tracehound.fsutil import AT_SUPPORTED, Replaced, open_at, open_beneath
from tracehound.sources.hosts.walk import Entry

CHUNK = 4 * 1024 * 1024


NotRegular = Replaced  # a symlink, special file or other inode where the walk listed a regular file


def open_evidence(src: str | Entry) -> int:
    """A read-only descriptor of one evidence file. An Entry from the walk is opened from the sweep
    root one component at a time (nothing followed) and must still be the inode the walk listed; a
    bare path (a running process's executable) trusts its folder and refuses a symlinked last part."""
    if isinstance(src, Entry):
        if getattr(src, "member", ""):  # a member of a collection archive: served from memory (targets)
            from tracehound.sources.targets.members import open_member

            return open_member(src)
        return _open_entry(src)
    path = os.path.abspath(src)
    return open_beneath(os.path.dirname(path), os.path.basename(path), follow_root=True)


# Files come in walk order, folder by folder: the folder of the last file read is kept open (a
# lookup-only descriptor, opened safely from the root) so the next file of the same folder costs
# one openat, not one per level. Safe because the file must still be the inode the walk listed
# inside the tree; a folder changed since it was cached is opened again from the root.
_folder: dict[tuple[str, str], int] = {}


def _open_entry(e: Entry) -> int:
    root = e.base()
    expect = (e.dev, e.ino) if e.ino else None
    folder, _, name = e.rel.rpartition("/")
    if expect is None or not AT_SUPPORTED:
        return open_beneath(root, e.rel, expect=expect)
    key = (root, folder)
    cached = _folder.get(key)
    if cached is not None:
        try:
            return open_at(name, cached, expect=expect)
        except (Replaced, FileNotFoundError):
            pass  # the cached folder is not the one on disk any more: open it again from the root
    release_folder()
    dfd = open_beneath(root, folder, directory=True, lookup_only=True)
    _folder[key] = dfd
    return open_at(name, dfd, expect=expect)


def release_folder() -> None:
    """Close the cached folder descriptor (the end of a sweep, or another folder)."""
    for fd in _folder.values():
        os.close(fd)
    _folder.clear()


@dataclass
class FileData:
    hashes: dict[str, str]
    head: bytes  # first bytes (type detection)
    data: bytes | None  # whole content when small enough for YARA/PE parsing, else None
    size: int


def hash_chunks(chunks: Iterable[bytes], algos: tuple[str, ...], keep_max: int | Callable[[bytes], int],
                head_size: int = 4096, remember: int = -1) -> tuple[FileData, bytes | None]:
    """One pass over a file's chunks: every requested hash, the head, the content when it is at
    most keep_max bytes (keep_max may decide from the head, e.g. keep PE files only), and the whole
    content again when it is at most `remember` bytes (archive and image members served later from
    memory). The one copy of this loop for files on disk, archive members and files in images."""
    hs = [hashlib.new(a) for a in algos]
    parts: list[bytes] = []
    memory: list[bytes] | None = [] if remember >= 0 else None
    size, head, limit = 0, b"", -1
    for chunk in chunks:
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
        if memory is not None:
            memory.append(chunk)
            if size > remember:
                memory = None
    data = (parts[0] if len(parts) == 1 else b"".join(parts)) if size <= limit and (parts or size == 0) else None
    whole = b"".join(memory) if memory is not None else None
    return FileData({a: h.hexdigest() for a, h in zip(algos, hs, strict=True)}, head, data, size), whole


def read_and_hash(path: str | Entry, algos: tuple[str, ...], keep_max: int | Callable[[bytes], int],
                  head_size: int = 4096) -> FileData:
    """One pass over the file: every requested hash, the head, and the whole content when it is
    at most keep_max bytes (keep_max may decide from the head, e.g. keep PE files only)."""
    fd = open_evidence(path)
    try:
        return hash_chunks(iter(lambda: os.read(fd, CHUNK), b""), algos, keep_max, head_size)[0]
    finally:
        os.close(fd)
