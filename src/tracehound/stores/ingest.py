"""`index`: what of each log is new, and reading it into a batch.

A file is known by its decoded content: the SHA-256 and size of the bytes read. A file whose
content is already in the store (a rotated copy, the same log compressed, a re-run) is skipped;
a file whose beginning is the content of an indexed file (a log that grew, a rotated log that
got more lines before rotation) adds only what follows; anything else is indexed whole."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tracehound.engines.detect import detect_format
from tracehound.engines.inputs import expand_paths
from tracehound.errors import InputError
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO, ReadStats, iter_blocks
from tracehound.stores.layout import Store
from tracehound.stores.rows import Aggregator
from tracehound.stores.scan import scan_records

HEAD = 4096  # bytes hashed to find the indexed file a log may have grown from
FLUSH_ROWS = 500_000  # aggregated rows kept in memory before they go to the batch


@dataclass
class IndexOptions:
    fmt: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    max_line: int = DEFAULT_MAX_LINE
    max_ratio: int = DEFAULT_MAX_RATIO


@dataclass
class FileResult:
    path: str
    status: str = ""  # indexed, grown, skipped, error
    detail: str = ""
    format: str = ""
    records: int = 0
    errors: int = 0
    bytes: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class Identity:
    size: int
    sha256: str
    head: str
    prefixes: dict[str, str]  # candidate entry id -> sha256 of our first `indexed_bytes` bytes


def identify(path: str, candidates: dict[str, dict[str, Any]], options: IndexOptions) -> Identity:
    """Hash the decoded content; for each candidate (same head), the hash of the same-length prefix."""
    whole = hashlib.sha256()
    head = hashlib.sha256()
    head_left = HEAD
    cuts = sorted((int(e["indexed_bytes"]), fid) for fid, e in candidates.items())
    prefixes: dict[str, str] = {}
    pos = 0
    stats = ReadStats()
    for block in iter_blocks(path, stats, options.max_line, options.max_ratio):
        data = block.data
        if head_left > 0:
            head.update(data[:head_left])
            head_left -= min(head_left, len(data))
        start = 0
        while cuts and cuts[0][0] <= pos + len(data):
            cut, fid = cuts.pop(0)
            whole.update(data[start:cut - pos])
            start = cut - pos
            prefixes[fid] = whole.hexdigest()
        whole.update(data[start:])
        pos += len(data)
    return Identity(pos, whole.hexdigest(), head.hexdigest(), prefixes)


def _head_of_entries(store: Store, path: str, options: IndexOptions) -> tuple[str, dict[str, dict[str, Any]]]:
    stats = ReadStats()
    h = hashlib.sha256()
    left = HEAD
    for block in iter_blocks(path, stats, options.max_line, options.max_ratio):
        h.update(block.data[:left])
        left -= min(left, len(block.data))
        if left <= 0:
            break
    digest = h.hexdigest()
    # An entry shorter than HEAD may be any file's beginning: its prefix hash decides.
    return digest, {fid: e for fid, e in store.files.items()
                    if e.get("head") == digest or int(e.get("indexed_bytes", 0)) < HEAD}


def index_file(store: Store, batch: Any, path: str, options: IndexOptions, known: dict[tuple[str, int], str]) -> FileResult:
    result = FileResult(path)
    try:
        _head, candidates = _head_of_entries(store, path, options)
        ident = identify(path, candidates, options)
        same = known.get((ident.sha256, ident.size))
        if same is not None:
            result.status, result.detail = "skipped", f"already indexed (same content as {same})"
            return result
        base_id, base = "", None
        for fid, digest in ident.prefixes.items():
            e = candidates[fid]
            if digest == e["indexed_sha256"] and int(e["indexed_bytes"]) < ident.size and \
                    (base is None or int(e["indexed_bytes"]) > int(base["indexed_bytes"])):
                base_id, base = fid, e
        skip_until = int(base["indexed_bytes"]) if base else 0
        fmt = base["format"] if base else detect_format(path, options.fmt, options.max_line, options.max_ratio)
        if fmt == "evtx":
            result.status, result.detail = "error", "EVTX is not indexed yet (hunt it directly)"
            return result
        result.format = fmt
        same_path = base is not None and base.get("path") == os.path.abspath(path)
        file_id = int(base_id) if same_path else store.manifest["next_id"]
        if not same_path:
            store.manifest["next_id"] += 1
        agg = Aggregator()
        stats = ReadStats()
        batch.begin(str(file_id))
        kept = False
        try:
            kept = _scan(batch, agg, path, fmt, file_id, skip_until, options, stats, result)
        finally:
            batch.end(kept)
        if stats.truncated:
            result.detail = f"partly read: {stats.truncated}"
        result.bytes = stats.bytes_read - skip_until
        result.skipped = dict(stats.skipped)
        if result.errors:
            result.skipped["unparseable record (counted in the ledger)"] = result.errors
        batch.files[str(file_id)] = {"path": os.path.abspath(path), "format": fmt, "head": ident.head,
                                     "indexed_bytes": ident.size, "indexed_sha256": ident.sha256,
                                     "records": result.records + (int(base.get("records", 0)) if same_path and base else 0)}
        known[(ident.sha256, ident.size)] = path
        if base is not None:
            result.status = "grown"
            grown = f"{ident.size - skip_until} new bytes after {skip_until} already indexed"
            result.detail = f"{result.detail}; {grown}" if result.detail else grown
        else:
            result.status = "indexed"
    except InputError as exc:
        result.status, result.detail = "error", exc.message
    except OSError as exc:
        result.status, result.detail = "error", f"cannot read: {exc.strerror or exc}"
    return result


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _scan(batch: Any, agg: Aggregator, path: str, fmt: str, file_id: int, skip_until: int, options: IndexOptions,
          stats: ReadStats, result: FileResult) -> bool:
    for rec in scan_records(path, fmt, options.mapping, stats, options.max_line, options.max_ratio, skip_until):
        result.records += 1
        result.errors += rec.error is not None
        agg.add_record(file_id, rec.line, rec.offset, rec.observations, rec.error)
        if len(agg.rows) >= FLUSH_ROWS:
            batch.flush(agg)
    batch.flush(agg)
    return True


def index_paths(store: Store, paths: list[str], options: IndexOptions,
                on_file: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Index files into one batch, committed at the end (all or nothing). One writer at a time (a lock
    file): a second `index` on the same store waits for the first instead of losing its manifest update."""
    with store.lock():
        return _index_locked(store, paths, options, on_file)


def _index_locked(store: Store, paths: list[str], options: IndexOptions,
                  on_file: Callable[[FileResult], None] | None) -> list[FileResult]:
    store.reload()
    store.cleanup()
    files = expand_paths(paths, globs=False)
    known = {(e["indexed_sha256"], int(e["indexed_bytes"])): e["path"] for e in store.files.values()}
    batch = store.new_batch()
    results: list[FileResult] = []
    try:
        for f in files:
            r = index_file(store, batch, f, options, known) if _regular(f) else \
                FileResult(f, "error", "not a regular file (FIFO, device or socket) or unreadable: skipped")
            results.append(r)
            if on_file:
                on_file(r)
        batch.commit()
    except BaseException:
        batch.abort()
        raise
    return results
