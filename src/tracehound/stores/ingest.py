"""`index`: what of each log is new, and reading it into a batch.

A file is known by its decoded content: the SHA-256 and size of the bytes read. A file whose
content is already in the store (a rotated copy, the same log compressed, a re-run) is skipped;
a file whose beginning is the content of an indexed file (a log that grew, a rotated log that
got more lines before rotation) adds only what follows; anything else is indexed whole."""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.engines.detect import detect_format
from tracehound.engines.inputs import expand_paths
from tracehound.errors import InputError
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO, ReadStats, iter_blocks
from tracehound.stores.layout import PartWriter, Store
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
    jobs: int = 0  # worker processes reading records; 0: one per core


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


@dataclass
class Job:
    """One file to read into the batch, decided by the parent (which alone touches the manifest)."""

    path: str
    fmt: str
    file_id: int
    skip_until: int
    ident: Identity
    base: dict[str, Any] | None
    same_path: bool


@dataclass
class Scanned:
    """What reading one file gave (from a worker process or this one)."""

    records: int = 0
    errors: int = 0
    rows: int = 0
    ledger: int = 0
    bytes_read: int = 0
    truncated: str = ""
    skipped: dict[str, int] = field(default_factory=dict)
    failure: str = ""


def plan_file(store: Store, path: str, options: IndexOptions, known: dict[tuple[str, int], str]) -> tuple[FileResult, Job | None]:
    """Identify a file (content hash, a grown log's base) and decide what to read; no rows are read here."""
    result = FileResult(path)
    try:
        _head, candidates = _head_of_entries(store, path, options)
        ident = identify(path, candidates, options)
        same = known.get((ident.sha256, ident.size))
        if same is not None:
            result.status, result.detail = "skipped", f"already indexed (same content as {same})"
            return result, None
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
            return result, None
        result.format = fmt
        same_path = base is not None and base.get("path") == os.path.abspath(path)
        file_id = int(base_id) if same_path else store.manifest["next_id"]
        if not same_path:
            store.manifest["next_id"] += 1
        known[(ident.sha256, ident.size)] = path
        return result, Job(path, fmt, file_id, skip_until, ident, base, same_path)
    except InputError as exc:
        result.status, result.detail = "error", exc.message
    except OSError as exc:
        result.status, result.detail = "error", f"cannot read: {exc.strerror or exc}"
    return result, None


def scan_file(job: Job, folder: Path, options: IndexOptions) -> Scanned:
    """Read every record of the job's file into its own part of the batch folder (safe in a worker)."""
    out = Scanned()
    part = PartWriter(folder, str(job.file_id))
    agg = Aggregator()
    stats = ReadStats()
    kept = False
    collect = gc.isenabled()
    gc.disable()  # millions of rows and no cycles: the collector would walk the whole aggregate again and again
    try:
        for rec in scan_records(job.path, job.fmt, options.mapping, stats, options.max_line, options.max_ratio,
                                job.skip_until):
            out.records += 1
            out.errors += rec.error is not None
            agg.add_record(job.file_id, rec.line, rec.offset, rec.observations, rec.error)
            if len(agg.rows) >= FLUSH_ROWS:
                part.flush(agg)
        part.flush(agg)
        kept = True
    except InputError as exc:
        out.failure = exc.message
    except OSError as exc:
        out.failure = f"cannot read: {exc.strerror or exc}"
    finally:
        if collect:
            gc.enable()
        out.rows, out.ledger = part.close(kept)
    out.bytes_read, out.truncated, out.skipped = stats.bytes_read, stats.truncated or "", dict(stats.skipped)
    return out


def finish_file(batch: Any, job: Job, scanned: Scanned, result: FileResult,
                known: dict[tuple[str, int], str]) -> FileResult:
    """Account a scanned file in the batch (its manifest entry is written at commit)."""
    if scanned.failure:
        known.pop((job.ident.sha256, job.ident.size), None)
        result.status, result.detail = "error", scanned.failure
        return result
    batch.add_part(scanned.rows, scanned.ledger)
    result.records, result.errors = scanned.records, scanned.errors
    if scanned.truncated:
        result.detail = f"partly read: {scanned.truncated}"
    result.bytes = scanned.bytes_read - job.skip_until
    result.skipped = dict(scanned.skipped)
    if result.errors:
        result.skipped["unparseable record (counted in the ledger)"] = result.errors
    base = job.base
    batch.files[str(job.file_id)] = {"path": os.path.abspath(job.path), "format": job.fmt, "head": job.ident.head,
                                     "indexed_bytes": job.ident.size, "indexed_sha256": job.ident.sha256,
                                     "records": result.records + (int(base.get("records", 0)) if job.same_path and base else 0)}
    if base is not None:
        result.status = "grown"
        grown = f"{job.ident.size - job.skip_until} new bytes after {job.skip_until} already indexed"
        result.detail = f"{result.detail}; {grown}" if result.detail else grown
    else:
        result.status = "indexed"
    return result


def index_file(store: Store, batch: Any, path: str, options: IndexOptions, known: dict[tuple[str, int], str]) -> FileResult:
    """Plan, read and account one file in this process."""
    result, job = plan_file(store, path, options, known)
    if job is None:
        return result
    return finish_file(batch, job, scan_file(job, batch.dir, options), result, known)


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


Scanner = Callable[[list[Job], Path, IndexOptions], Iterator[Scanned]]


def scan_local(jobs: list[Job], folder: Path, options: IndexOptions) -> Iterator[Scanned]:
    """scan_file of each job, in the jobs' order: `options.jobs` forked workers, or this process."""
    workers = min(options.jobs or os.cpu_count() or 1, len(jobs))
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from (scan_file(j, folder, options) for j in jobs)
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    try:
        yield from pool.map(scan_file, jobs, [folder] * len(jobs), [options] * len(jobs))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def index_paths(store: Store, paths: list[str], options: IndexOptions,
                on_file: Callable[[FileResult], None] | None = None, scanner: Scanner = scan_local) -> list[FileResult]:
    """Index files into one batch, committed at the end (all or nothing). One writer at a time (a lock
    file): a second `index` on the same store waits for the first instead of losing its manifest update.
    Files are identified here, one after the other (hashing is fast and decides what is new); their records
    are read by the scanner (`options.jobs` worker processes, or Spark tasks), each file into its own part
    of the batch."""
    with store.lock():
        return _index_locked(store, paths, options, on_file, scanner)


def _index_locked(store: Store, paths: list[str], options: IndexOptions,
                  on_file: Callable[[FileResult], None] | None, scanner: Scanner) -> list[FileResult]:
    store.reload()
    store.cleanup()
    files = expand_paths(paths, globs=False)
    known = {(e["indexed_sha256"], int(e["indexed_bytes"])): e["path"] for e in store.files.values()}
    batch = store.new_batch()
    results: list[FileResult] = []
    scans: Iterator[Scanned] | None = None
    try:
        planned: list[tuple[FileResult, Job | None]] = []
        for f in files:
            planned.append(plan_file(store, f, options, known) if _regular(f) else
                           (FileResult(f, "error", "not a regular file (FIFO, device or socket) or unreadable: skipped"), None))
        scans = iter(scanner([j for _r, j in planned if j is not None], batch.dir, options))
        for r, job in planned:
            if job is not None:
                r = finish_file(batch, job, next(scans), r, known)
            results.append(r)
            if on_file:
                on_file(r)
        _close(scans)
        batch.commit()
    except BaseException:
        _close(scans)  # workers stopped before their batch folder is removed
        batch.abort()
        raise
    return results


def _close(scans: Iterator[Scanned] | None) -> None:
    close = getattr(scans, "close", None)
    if close is not None:
        close()  # a local pool is shut down (scan_local's finally)
