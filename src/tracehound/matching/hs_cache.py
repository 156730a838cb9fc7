"""On-disk cache of compiled Hyperscan prefilter databases, keyed by what went into them.

A 100,000-literal database takes several seconds to compile and well under a second to load
(hyperscan serializes databases: hs_serialize_database / hs_deserialize_database). The key is a
SHA-256 over the Hyperscan version, the database mode, the flags and every literal in order: another
pack, another Hyperscan or other flags give another key, so a stale entry is never used. Only
large literal sets are cached (CACHE_MIN): a small database compiles faster than a file is read.

A serialized database is compiled code: an entry is only read from a folder owned by the current
user and writable by nobody else (such a folder is not written either), and only when its body has
the SHA-256 stored beside it; a truncated, corrupt or refused entry is ignored and rebuilt. Writes
are atomic (temporary file, then rename).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

MAGIC = b"THHSC001"
SUFFIX = ".hsdb"
CACHE_MIN = 2000  # literals: below this, compiling is cheaper than a cache file


def default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tracehound", "hyperscan")


def cache_key(hyperscan: Any, literals: list[str], flags: int, mode: int) -> str:
    h = hashlib.sha256()
    h.update(f"hyperscan {getattr(hyperscan, '__version__', '?')} mode {mode} flags {flags}\n".encode())
    for lit in literals:
        h.update(lit.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def _trusted_dir(folder: str, create: bool) -> bool:
    try:
        if create:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.stat(folder, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(hyperscan: Any, folder: str, key: str, mode: int) -> Any:
    """The database of a valid entry, or None (absent, untrusted, corrupt: the caller compiles)."""
    if not _trusted_dir(folder, create=False):
        return None
    try:
        fd = os.open(os.path.join(folder, key + SUFFIX), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            raw = fh.read()
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) < len(MAGIC) + 32 or not raw.startswith(MAGIC):
        return None
    digest, body = raw[len(MAGIC):len(MAGIC) + 32], raw[len(MAGIC) + 32:]
    if hashlib.sha256(body).digest() != digest:
        return None
    try:
        db = hyperscan.loadb(body, mode)
        db.scratch = hyperscan.Scratch(db)  # a deserialized database comes without one
        db.scan(b"", match_event_handler=lambda *_a: None)  # refused here, not mid-hunt
        return db
    except Exception:  # noqa: BLE001 - any refusal (other CPU, other build) means: compile again
        return None


def store(hyperscan: Any, folder: str, key: str, db: Any) -> bool:
    """Write an entry; False when it could not be (the hunt goes on without it)."""
    if not _trusted_dir(folder, create=True):
        return False
    final = Path(folder) / (key + SUFFIX)
    tmp = final.with_name(f".{key}.{os.getpid()}.tmp")
    try:
        body = bytes(hyperscan.dumpb(db))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + hashlib.sha256(body).digest() + body)
        os.replace(tmp, final)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is only slower next time
        try:
            tmp.unlink()
        except OSError:
            pass
        return False
    return True
