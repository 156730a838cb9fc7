"""Local hunt engine: logs on this machine, across all cores.

Work units are files, and newline-aligned byte ranges of large plain files. Per unit: detect
the format (detect.py), then hunt it (text_hunt.py: prefilter on raw blocks, exact matcher on
candidate lines, raw-text check of candidates no reader field matched; evtx_hunt.py). Workers
are forked with the matcher and prefilter already built (and a companion pass, the Sigma rules:
it gets each EVTX record from the same decode); each writes its findings to a temporary JSON Lines
file and the parent concatenates them in input order (line numbers of ranges made file-relative),
so the output is deterministic whatever the scheduling.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import stat
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

from tracehound.engines.detect import detect_format, make_reader
from tracehound.engines.evtx_hunt import hunt_evtx
from tracehound.engines.finding_doc import MAX_ORIGINAL, finding_doc
from tracehound.engines.hunt_types import Companion, FileReport, HuntOptions, WorkUnit, merge_reports
from tracehound.engines.inputs import expand_paths
from tracehound.engines.text_hunt import CandidateLine, _mtime, hunt_text, iter_candidate_lines, prime_reader
from tracehound.errors import InputError
from tracehound.intel.formats.native import loads as load_native
from tracehound.intel.formats.native import to_dict as pack_to_dict
from tracehound.intel.model import Pack
from tracehound.matching import hs_cache
from tracehound.matching.matcher import Matcher
from tracehound.matching.prefilter import Prefilter, literals_for
from tracehound.sources.logs.evtx_source import EVTX_MAGIC
from tracehound.sources.logs.members import index_members, line_cuts
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE, ReadStats, compression_of, text_encoding
from tracehound.sources.logs.textenc import SNIFF_BYTES, utf16_of

_make_reader = make_reader  # the names other modules import
__all__ = ["MAX_ORIGINAL", "CandidateLine", "FileReport", "HuntOptions", "WorkUnit", "detect_format", "expand_paths",
           "finding_doc", "hunt_file", "iter_candidate_lines", "plan_units", "prime_reader", "run_hunt", "_mtime"]

SPLIT_MIN = 64 * 1024 * 1024  # ranges smaller than this are not worth a process
IN_FLIGHT = 256  # work units submitted ahead of the one whose findings the parent is writing
SHARED_IDS = "hit-hosts.txt"  # in the hunt's temporary folder: identities of hit hosts, found by any worker


def plan_units(path: str, jobs: int) -> list[WorkUnit]:
    """Split a large file into up to `jobs` ranges that start right after a newline: plain text anywhere,
    compressed files where they hold independent members (BGZF, multi-frame zstd: see members.py)."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
            magic = head[:8]
            kind = compression_of(magic)
            if kind in ("gzip", "zstd") and jobs >= 2:
                return _compressed_units(path, fh, kind, size, jobs)
            if (jobs < 2 or size < 2 * SPLIT_MIN or kind or magic.startswith(EVTX_MAGIC)
                    or utf16_of(head)[0]):  # a UTF-16 file is read whole (a cut at a 0x0A byte is mid-character)
                return [WorkUnit(path)]
            n = min(jobs, size // SPLIT_MIN)
            cuts = [0]
            for k in range(1, n):
                fh.seek(k * size // n)
                chunk = fh.read(DEFAULT_MAX_LINE)
                nl = chunk.find(b"\n")
                if nl == -1:
                    continue
                cut = k * size // n + nl + 1
                if cut > cuts[-1]:
                    cuts.append(cut)
    except OSError:
        return [WorkUnit(path)]
    bounds = cuts + [size]
    return [WorkUnit(path, bounds[i], bounds[i + 1], i, len(cuts)) for i in range(len(cuts))]




def _compressed_units(path: str, fh: Any, kind: str, size: int, jobs: int) -> list[WorkUnit]:
    members = index_members(fh, kind, size)
    total = members[-1].raw_offset + members[-1].raw_size if members else 0
    if not members or total < 2 * SPLIT_MIN or text_encoding(path):  # UTF-16 inside: read whole
        return [WorkUnit(path)]
    cuts = line_cuts(fh, kind, size, members, min(jobs, total // SPLIT_MIN), DEFAULT_MAX_LINE)
    bounds: list[int | None] = [*cuts[1:], None]
    return [WorkUnit(path, cuts[i], bounds[i], i, len(cuts)) for i in range(len(cuts))]


# ---- per-process state (matcher and prefilter built once per worker) ----------------------
_STATE: dict[str, Any] = {}


def _init_state(pack: Pack, options: HuntOptions, companion: Companion | None = None) -> None:
    """Matcher and prefilter, built once: fork-started workers inherit them (a 100,000-literal
    Hyperscan database takes seconds to compile; recompiling it per worker would waste that)."""
    _STATE.clear()
    _STATE.update(pack=pack, matcher=Matcher(pack), prefilter=Prefilter(literals_for(pack), cache_dir=_cache_dir(options)),
                  options=options, companion=companion)


def _cache_dir(options: HuntOptions) -> str:
    return hs_cache.default_dir() if options.prefilter_cache is None else options.prefilter_cache


def _init_worker(pack_json: str, options: HuntOptions) -> None:
    """Where processes cannot fork: rebuild the state from the serialized pack."""
    _init_state(load_native(pack_json, "<hunt>"), options)


def _prefilter_for(fmt: str) -> Prefilter:
    if fmt != "windns":
        return _STATE["prefilter"]
    if "prefilter_wire" not in _STATE:
        _STATE["prefilter_wire"] = Prefilter(literals_for(_STATE["pack"], wire=True), cache_dir=_cache_dir(_STATE["options"]))
    return _STATE["prefilter_wire"]


def hunt_file(unit: WorkUnit, out_dir: str) -> FileReport:
    """Hunt one work unit; findings go to a temporary JSONL in out_dir (named in the report)."""
    matcher: Matcher = _STATE["matcher"]
    options: HuntOptions = _STATE["options"]
    pack: Pack = _STATE["pack"]
    report = FileReport(path=unit.path)
    fd, tmp = tempfile.mkstemp(prefix="hunt-", suffix=".jsonl", dir=out_dir)
    report.findings_file = tmp
    stats = ReadStats()
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as out:
        def emit(doc: dict[str, Any]) -> None:
            out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
            report.findings += 1

        try:
            fmt = detect_format(unit.path, options.fmt, options.max_line, options.max_ratio)
            report.format = fmt
            prefilter = _prefilter_for(fmt)
            companion: Companion | None = _STATE.get("companion")
            if fmt == "evtx":
                report.companion = hunt_evtx(unit.path, matcher, prefilter, options, pack.name, stats, report, emit,
                                             companion.evtx_pass(unit.path, options, out_dir) if companion else None)
            else:
                hunt_text(unit, fmt, matcher, prefilter, options, pack.name, stats, report, emit,
                          os.path.join(out_dir, SHARED_IDS))
                if companion is not None and unit.index == 0:  # a split file is handed over once, whole
                    report.companion = companion.other_file(unit.path, options, out_dir)
        except InputError as exc:
            report.error = exc.message
        except OSError as exc:
            report.error = f"cannot read: {exc.strerror or exc}"
    report.bytes, report.records = stats.bytes_read, stats.lines
    report.encoding = stats.encoding
    report.skipped.update(stats.skipped)
    report.truncated = report.truncated or stats.truncated
    if stats.truncated and "breaks at" in stats.truncated:
        report.truncated += f"; {stats.lines} lines read and hunted before the break"
    return report


def run_hunt(pack: Pack, paths: list[str], options: HuntOptions, companion: Companion | None = None
             ) -> Iterator[tuple[FileReport, Iterator[str]]]:
    """Hunt files in parallel; yields, in input order, each file's report and its findings as
    JSON lines (line numbers of split files already made file-relative). With a companion, each
    report carries its result for the file (report.companion; None where the worker could not run it)."""
    files = expand_paths(paths, globs=False)  # the CLI expanded the user's globs: names on disk are not patterns
    tmpdir = tempfile.mkdtemp(prefix="tracehound-hunt-")
    jobs = options.jobs or os.cpu_count() or 1
    units: list[WorkUnit] = []
    for f in files:
        try:
            st = os.stat(f)  # follows a symlink given explicitly on the command line
            ok = stat.S_ISREG(st.st_mode)
        except OSError as exc:
            yield FileReport(path=f, error=f"cannot read: {exc.strerror}"), iter(())
            continue
        if not ok:
            yield FileReport(path=f, error="not a regular file (FIFO, device or socket): skipped"), iter(())
            continue
        units += plan_units(f, jobs)
    try:
        _init_state(pack, options, companion)
        if jobs == 1 or len(units) == 1:
            results: Iterator[FileReport] = (hunt_file(u, tmpdir) for u in units)
            yield from _merge_ranges(units, results)
        else:
            workers = min(jobs, len(units))
            if "fork" in multiprocessing.get_all_start_methods():
                # Objects that exist now (the matcher, the compiled rules) out of the collector's reach:
                # a collection in a worker would otherwise write to their pages and unshare them.
                gc.collect()
                gc.freeze()
                pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
            else:  # pragma: no cover - non-Linux platforms
                pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                           initargs=(json.dumps(pack_to_dict(pack)), options))
            with pool:
                yield from _merge_ranges(units, _in_order(pool, units, tmpdir))
    finally:
        gc.unfreeze()
        for leftover in Path(tmpdir).glob("*"):
            leftover.unlink(missing_ok=True)
        os.rmdir(tmpdir)


def _in_order(pool: ProcessPoolExecutor, units: list[WorkUnit], tmpdir: str) -> Iterator[FileReport]:
    """pool.map with at most IN_FLIGHT units submitted ahead of the one the parent is reading: the
    parent's memory (pending reports) and the workers' temporary files stay bounded however many files."""
    pending: deque[Future[FileReport]] = deque()
    todo = iter(units)
    try:
        for unit in islice(todo, IN_FLIGHT):
            pending.append(pool.submit(hunt_file, unit, tmpdir))
        while pending:
            report = pending.popleft().result()
            for unit in islice(todo, 1):
                pending.append(pool.submit(hunt_file, unit, tmpdir))
            yield report
    finally:
        for fut in pending:
            fut.cancel()


def _merge_ranges(units: list[WorkUnit], reports: Iterator[FileReport]) -> Iterator[tuple[FileReport, Iterator[str]]]:
    parts: list[tuple[WorkUnit, FileReport]] = []
    for unit, rep in zip(units, reports, strict=True):
        parts.append((unit, rep))
        if unit.index < unit.count - 1:
            continue
        merged = merge_reports(unit.path, (r for _u, r in parts))
        files: list[tuple[str, int]] = []
        line_offset = 0
        for _u, r in parts:
            files.append((r.findings_file, line_offset))
            line_offset += r.records
        parts = []
        yield merged, _finding_lines(files)


def _finding_lines(files: list[tuple[str, int]]) -> Iterator[str]:
    """Lines of the workers' temporary files, in order, deleting each once read."""
    for path, line_offset in files:
        try:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line_offset:
                        doc = json.loads(line)
                        doc["tracehound"]["line"] += line_offset
                        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
                    yield line
        finally:
            Path(path).unlink(missing_ok=True)
