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
from typing import Any

from tracehound.cachefiles import cache_dir, read_entry, write_entry

MAGIC = b"THHSC001"
SUFFIX = ".hsdb"
CACHE_MIN = 2000  # literals: below this, compiling is cheaper than a cache file


def default_dir() -> str:
    return cache_dir("hyperscan")


def cache_key(hyperscan: Any, literals: list[str], flags: int, mode: int) -> str:
    h = hashlib.sha256()
    h.update(f"hyperscan {getattr(hyperscan, '__version__', '?')} mode {mode} flags {flags}\n".encode())
    for lit in literals:
        h.update(lit.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def load(hyperscan: Any, folder: str, key: str, mode: int) -> Any:
    """The database of a valid entry, or None (absent, untrusted, corrupt: the caller compiles)."""
    raw = read_entry(folder, key + SUFFIX)
    if raw is None:
        return None
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
    try:
        body = bytes(hyperscan.dumpb(db))
    except Exception:  # noqa: BLE001 - a database that cannot be serialized is only slower next time
        return False
    return write_entry(folder, key + SUFFIX, MAGIC + hashlib.sha256(body).digest() + body) == ""
