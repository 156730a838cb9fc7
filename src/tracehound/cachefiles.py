"""Files of tracehound's on-disk caches of compiled code (YARA rules, Hyperscan databases).

A cache entry is compiled code, so it is only read from a folder owned by the current user and
writable by nobody else (such a folder is not written either), only when the entry itself is a
regular file owned by that user (not followed if it is a symlink); writes are atomic (a temporary
file created exclusively with mode 0600, then renamed). What an entry holds, and its checksum, is
the caller's (sweep/yara_cache.py, matching/hs_cache.py).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def cache_dir(kind: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tracehound", kind)


def trusted_dir(folder: str, create: bool) -> tuple[bool, str]:
    """(usable, reason if not)."""
    try:
        if create:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.stat(folder, follow_symlinks=False)
    except FileNotFoundError:
        return False, "no cache folder"
    except OSError as exc:
        return False, f"cache folder {folder}: {exc.strerror or exc}"
    if not stat.S_ISDIR(st.st_mode):
        return False, f"cache folder {folder} is not a folder"
    if st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False, f"cache folder {folder} is not owned by this user or is writable by others: not used"
    return True, ""


def read_entry(folder: str, name: str) -> bytes | None:
    """The bytes of an entry of a trusted folder, or None (absent, untrusted, unreadable)."""
    if not trusted_dir(folder, create=False)[0]:
        return None
    try:
        fd = os.open(os.path.join(folder, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            return fh.read()
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def write_entry(folder: str, name: str, data: bytes) -> str:
    """Write an entry atomically; "" or why it was not written."""
    ok, why = trusted_dir(folder, create=True)
    if not ok:
        return why
    final = Path(folder) / name
    tmp = final.with_name(f".{name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, final)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        return f"cache entry not written ({exc.strerror or exc})"
    return ""
