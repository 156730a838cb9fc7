"""On-disk cache of compiled YARA rules (yara-x serialized form), keyed by what went into them.

The key is a SHA-256 over the yara-x version, the external variables and, for every rule file in
order, its path and the SHA-256 of its content: a changed, added or removed rule file, another
yara-x or other externals give another key, so a stale entry is never used. An entry holds the
compiled rules and what the compilation reported (files loaded, rule count, files not loaded with
file:line), so a cached run reports the same problems as the first.

Serialized yara-x rules contain compiled code: an entry is only loaded from a folder owned by the
current user and writable by nobody else (a cache another user could write is not trusted, and is
not written either). Each entry carries a digest of its body; a truncated or corrupt entry, or one
whose parts are not yara-x's, is ignored and rebuilt (the caller deserializes each part when it is
first needed). Writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from typing import Any

from tracehound.cachefiles import cache_dir, read_entry, trusted_dir, write_entry

MAGIC = b"THYXC001"
SUFFIX = ".yxc"


def default_dir() -> str:
    return cache_dir("yara")


def yara_x_version() -> str:
    try:
        from importlib.metadata import version

        return version("yara-x")
    except Exception:  # noqa: BLE001 - an unknown version only makes the key more specific
        return "unknown"


def cache_key(files: list[tuple[str, bytes]], externals: dict[str, str], layout: str = "") -> str:
    """files: (path, content) in compilation order; layout: how the caller splits the compiled rules."""
    h = hashlib.sha256()
    h.update(f"yara-x {yara_x_version()} {layout}\n".encode())
    h.update(json.dumps(externals, sort_keys=True).encode() + b"\n")
    for path, data in files:
        h.update(os.fsencode(path) + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def _trusted_dir(folder: str, create: bool) -> tuple[bool, str]:
    """(usable, reason if not)."""
    return trusted_dir(folder, create)


def load(folder: str, key: str) -> tuple[bytes, dict[str, Any]] | None:
    """(compiled rules as stored, metadata) of a valid entry, or None (absent, untrusted, corrupt: rebuilt by the caller)."""
    raw = read_entry(folder, key + SUFFIX)
    return None if raw is None else decode(raw)


def decode(raw: bytes) -> tuple[bytes, dict[str, Any]] | None:
    if len(raw) < len(MAGIC) + 36 or not raw.startswith(MAGIC):
        return None
    digest, body = raw[len(MAGIC):len(MAGIC) + 32], raw[len(MAGIC) + 32:]
    if hashlib.sha256(body).digest() != digest:
        return None
    (meta_len,) = struct.unpack(">I", body[:4])
    try:
        meta = json.loads(body[4:4 + meta_len])
    except ValueError:  # any failure means: rebuild
        return None
    if not isinstance(meta, dict):
        return None
    return body[4 + meta_len:], meta


def encode(blob: bytes, meta: dict[str, Any]) -> bytes:
    m = json.dumps(meta, sort_keys=True).encode()
    body = struct.pack(">I", len(m)) + m + blob
    return MAGIC + hashlib.sha256(body).digest() + body


def store(folder: str, key: str, blob: bytes, meta: dict[str, Any]) -> str:
    """Write an entry; returns "" or why it was not written."""
    return write_entry(folder, key + SUFFIX, encode(blob, meta))
