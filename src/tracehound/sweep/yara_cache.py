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
import stat
import struct
from pathlib import Path
from typing import Any

MAGIC = b"THYXC001"
SUFFIX = ".yxc"


def default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tracehound", "yara")


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


def load(folder: str, key: str) -> tuple[bytes, dict[str, Any]] | None:
    """(compiled rules as stored, metadata) of a valid entry, or None (absent, untrusted, corrupt: rebuilt by the caller)."""
    ok, _ = _trusted_dir(folder, create=False)
    if not ok:
        return None
    path = os.path.join(folder, key + SUFFIX)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            raw = fh.read()
    finally:
        if fd >= 0:
            os.close(fd)
    return decode(raw)


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
    ok, why = _trusted_dir(folder, create=True)
    if not ok:
        return why
    final = Path(folder) / (key + SUFFIX)
    tmp = final.with_name(f".{key}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(encode(blob, meta))
        os.replace(tmp, final)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        return f"cache entry not written ({exc.strerror or exc})"
    return ""
