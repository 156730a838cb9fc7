"""Small file-system helpers: atomic writes, and the one safe opener every reader of evidence uses."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from tracehound.errors import UsageError


def is_special(path: str | Path) -> bool:
    """An existing output that is not a regular file or a folder: /dev/null, a FIFO, a terminal.
    Such outputs are written in place: no temporary file and rename (which would replace a device
    node with a file), no fsync (EINVAL on /dev/null), no parent folder created."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file, fsync and rename: a crash never leaves a half-written file.
    A device or FIFO (is_special) is written in place."""
    if is_special(path):
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        return
    if path.is_dir():
        raise UsageError("is a folder, not a file", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


# ---- safe opening of evidence ------------------------------------------------------------------
# Every opener of the sweep goes through open_beneath(): each folder below the root is opened
# relative to the previous one (openat) with O_NOFOLLOW|O_DIRECTORY, the last component with
# O_NOFOLLOW|O_NONBLOCK, and the object opened is checked with fstat (type, and device/inode when
# the caller listed it earlier). A folder swapped for a symlink, a file swapped for a FIFO or for
# another file between the listing and the open is refused, never followed, never waited on.
# O_NOATIME is asked for every open; when the kernel refuses it (EPERM: not the owner and not
# root) the open is retried without it and counted (noatime_misses).

class Replaced(OSError):
    """The object on disk is not the one listed (symlink, special file, other inode)."""


_O = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
DIR_FLAGS = _O | getattr(os, "O_DIRECTORY", 0)
FILE_FLAGS = _O
NOATIME = getattr(os, "O_NOATIME", 0)
O_PATH = getattr(os, "O_PATH", 0)
AT_SUPPORTED = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")
_misses = [0]
_missed: set[tuple[int, int]] = set()  # objects already counted (a file hashed then copied counts once)


def noatime_misses(reset: bool = False) -> int:
    """How many folders and files this process listed or read without O_NOATIME (and so may have
    changed their access time). Folders only passed through on the way down are not counted: a
    lookup does not change an access time, only a read or a listing does."""
    n = _misses[0]
    if reset:
        _misses[0] = 0
        _missed.clear()
    return n


def _open(name: str, flags: int, dir_fd: int | None, reads: bool = True) -> int:
    if not reads:  # a folder only passed through (dir_fd of the next open): O_PATH needs search permission only
        return os.open(name, flags & ~(os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)) | O_PATH if O_PATH else flags,
                       dir_fd=dir_fd)
    if NOATIME:
        try:
            return os.open(name, flags | NOATIME, dir_fd=dir_fd)
        except PermissionError:
            fd = os.open(name, flags, dir_fd=dir_fd)  # EACCES raises again here; EPERM was O_NOATIME
            try:
                st = os.fstat(fd)
                key = (st.st_dev, st.st_ino)
            except OSError:
                key = (-1, _misses[0])
            if key not in _missed:
                if len(_missed) > 65536:
                    _missed.clear()
                _missed.add(key)
                _misses[0] += 1
            return fd
    return os.open(name, flags, dir_fd=dir_fd)


def _checked(fd: int, want_dir: bool, expect: tuple[int, int] | None, what: str) -> int:
    try:
        st = os.fstat(fd)
        if (stat.S_ISDIR(st.st_mode) if want_dir else stat.S_ISREG(st.st_mode)) is False:
            raise Replaced(f"not a {'folder' if want_dir else 'regular file'}: {what}")
        if expect is not None and (st.st_dev, st.st_ino) != expect:
            raise Replaced(f"replaced by another file after it was listed: {what}")
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_at(name: str, dir_fd: int | None, *, directory: bool = False, expect: tuple[int, int] | None = None,
            reads: bool = True) -> int:
    """Open one name inside an open folder without following it. A symlink or special file in its
    place raises Replaced (ELOOP, ENOTDIR and ENXIO are translated)."""
    if not name or name in (".", "..") or "/" in name:
        raise Replaced(f"not a plain name: {name!r}")
    try:
        fd = _open(name, DIR_FLAGS if directory else FILE_FLAGS, dir_fd, reads)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO):
            raise Replaced(exc.errno, f"{'folder' if directory else 'file'} replaced by a symlink or special file",
                           name) from None
        raise
    return _checked(fd, directory, expect, name)


def open_root(root: str, follow: bool = False, reads: bool = True) -> int:
    """The root folder itself: its ancestors are the analyst's choice; the root must not be a symlink
    unless follow (a folder named by the analyst or the system, not found in the evidence)."""
    flags = DIR_FLAGS & ~getattr(os, "O_NOFOLLOW", 0) if follow else DIR_FLAGS
    return _checked(_open(root, flags, None, reads), True, None, root)


def open_beneath(root: str, rel: str, *, directory: bool = False, expect: tuple[int, int] | None = None,
                 follow_root: bool = False, lookup_only: bool = False) -> int:
    """Open root/rel (rel '/'-separated, relative) one component at a time, following nothing below root.
    lookup_only: a folder descriptor only used as dir_fd for further opens (O_PATH where available)."""
    parts = [p for p in rel.split("/") if p]
    if not AT_SUPPORTED:  # Windows: no openat; plain open with the type check
        path = os.path.join(root, *parts)
        return _checked(os.open(path, DIR_FLAGS if directory else FILE_FLAGS | getattr(os, "O_BINARY", 0)),
                        directory, expect, path)
    fd = open_root(root, follow_root, reads=directory and not parts and not lookup_only)
    if not parts:
        if directory:
            return fd
        os.close(fd)
        raise Replaced(f"not a regular file: {root}")
    try:
        for part in parts[:-1]:
            nfd = open_at(part, fd, directory=True, reads=False)
            os.close(fd)
            fd = nfd
        return open_at(parts[-1], fd, directory=directory, expect=expect, reads=not (directory and lookup_only))
    finally:
        os.close(fd)


def read_beneath(root: str, rel: str, max_bytes: int) -> bytes | None:
    """A small file of the tree (host name, preferences): None when absent, unsafe or larger than max_bytes."""
    try:
        fd = open_beneath(root, rel)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size > max_bytes:
            return None
        return os.read(fd, max_bytes + 1)[:max_bytes]
    except OSError:
        return None
    finally:
        os.close(fd)


def ci_exists(root: str, parts: tuple[str, ...]) -> bool:
    """Does root/parts exist as folders, names matched case-insensitively, nothing followed?"""
    if not AT_SUPPORTED:  # Windows
        cur = root
        for part in parts:
            try:
                names = {n.lower(): n for n in os.listdir(cur)}
            except OSError:
                return False
            if part.lower() not in names:
                return False
            cur = os.path.join(cur, names[part.lower()])
        return True
    try:
        fd = open_root(root)
    except OSError:
        return False
    try:
        for part in parts:
            with os.scandir(fd) as it:  # a listing: fd was opened with O_NOATIME (or counted)
                names = {de.name.lower(): de.name for de in it}
            if part.lower() not in names:
                return False
            nfd = open_at(names[part.lower()], fd, directory=True)
            os.close(fd)
            fd = nfd
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
