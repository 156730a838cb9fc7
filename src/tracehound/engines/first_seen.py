"""First sightings: the earliest record of each hit host (its IPs and names) anywhere in the hunted logs.

The hunt's pass already followed each host from its first hit on (sight_track.py): where a file's
report carries those parts, only what the hunt did not follow is read here (per range, up to the
block where the last of the hosts began to be followed; all of a range where a host had no hit).
Elsewhere (EVTX, a resumed run's earlier files, a hunt without parts) the whole file is read.

A targeted pass after the hunt (the hit hosts are known only then): a prefilter over the hosts'
identities, parsing only the lines that hold one. It costs far less than the hunt's pass: no line
counting, no probes beyond the file's first MiB (parsed as the hunt parses them, so the result is
the same), and the work is split like the hunt's: files, and newline-aligned ranges of large plain
files, in parallel worker processes (forked: they inherit the prefilter).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

from tracehound.engines.detect import make_reader
from tracehound.engines.hunt_types import WorkUnit
from tracehound.engines.local_hunt import SPLIT_MIN, plan_units
from tracehound.engines.sight_track import Part
from tracehound.engines.text_hunt import (
    PROBE_BYTES,
    _mtime,
    iter_candidate_lines,
    iter_literal_lines,
    prime_reader,
)
from tracehound.matching.prefilter import Prefilter
from tracehound.sources.logs.evtx_source import iter_evtx
from tracehound.sources.logs.observation import RecordError
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO, ReadStats, compression_of
from tracehound.sources.logs.textenc import SNIFF_BYTES, utf16_of

PIECE_MIN = 8 * 1024 * 1024  # smallest piece of a range left to read given to a worker
PIECES_PER_JOB = 4
PARSE_ERRORS = (RecordError, ValueError, KeyError, IndexError, TypeError)
Seen = dict[str, datetime]  # identity (lowercase) -> earliest time

_S: dict[str, Any] = {}  # per pass: prefilter, identities, mapping (inherited by forked workers)


def earliest_sightings(files: list[tuple[str, str]], identities: set[str], mapping: dict[str, str],
                       jobs: int = 0, parts: dict[str, list[Part]] | None = None) -> Seen:
    """files: (path, format); parts: what the hunt's pass collected per file (sight_track.Part).
    The earliest time each identity appears as a record's source."""
    _S.update(pre=Prefilter(identities), ids=identities, mapping=mapping)
    jobs = jobs or os.cpu_count() or 1
    seen: Seen = {}
    rests = {path: _left_to_read(path, (parts or {}).get(path, []), identities, seen) if fmt != "evtx" else None
             for path, fmt in files}
    left = sum(u.end - u.start for rest in rests.values() for u in rest or () if u.end is not None)
    piece = max(PIECE_MIN, left // (PIECES_PER_JOB * jobs))  # pieces of one size: both workers busy to the end
    units: list[tuple[WorkUnit, str]] = []
    for path, fmt in files:
        rest = rests[path]
        if rest is not None:
            units += [(p, fmt) for u in rest for p in _pieces(u, jobs, piece)]
            continue
        split = fmt not in ("evtx",) and not make_reader(fmt, mapping, _mtime(path)).has_headers
        units += [(u, fmt) for u in (plan_units(path, jobs) if split else [WorkUnit(path)])]
    if jobs > 1 and len(units) > 1 and _worth_a_pool(units) and "fork" in multiprocessing.get_all_start_methods():
        with ProcessPoolExecutor(max_workers=min(jobs, len(units)), mp_context=multiprocessing.get_context("fork")) as pool:
            results: Iterator[Seen] = pool.map(_unit, units)
            for part in results:
                _merge(seen, part)
    else:
        for u in units:
            _merge(seen, _unit(u))
    return seen


def _worth_a_pool(units: list[tuple[WorkUnit, str]]) -> bool:
    """Whether what is left to read is worth forking workers for (not a few ranges' heads)."""
    total = 0
    for u, _fmt in units:
        if u.end is None:
            return True
        total += u.end - u.start
    return total >= SPLIT_MIN


def _left_to_read(path: str, parts: list[Part], identities: set[str], seen: Seen) -> list[WorkUnit] | None:
    """The ranges of a file the hunt did not follow every identity through (None: parts that do not
    cover the file from its first byte to its end, read it whole); the sightings it did collect go to `seen`."""
    ordered = sorted(parts, key=lambda p: p[0])
    if not ordered or ordered[0][0] != 0 or not _to_end(path, ordered[-1][1]) or any(
            a[1] != b[0] for a, b in zip(ordered, ordered[1:], strict=False)):
        return None
    out: list[WorkUnit] = []
    for start, end, tracked, found in ordered:
        _merge(seen, {k: ts for k, ts in found.items() if k in identities})
        froms = [tracked.get(i) for i in identities]
        stop = end if any(t is None for t in froms) else max(t for t in froms if t is not None)
        if stop is None or stop > start:
            out.append(WorkUnit(path, start, stop))
    return out


def _pieces(unit: WorkUnit, jobs: int, piece: int) -> list[WorkUnit]:
    """A range of a plain file cut at line starts into pieces of about `piece` bytes (the same size
    for every range left to read, PIECES_PER_JOB per worker: the ranges left differ in size, and one
    piece per range kept one worker busy alone at the end)."""
    if jobs < 2 or unit.end is None or unit.end - unit.start < 2 * piece or _cut_after(unit.path, 0, None) is None:
        return [unit]
    n = (unit.end - unit.start) // piece
    cuts = [unit.start]
    for k in range(1, n):
        cut = _cut_after(unit.path, unit.start + k * (unit.end - unit.start) // n, unit.end)
        if cut is not None and cut > cuts[-1]:
            cuts.append(cut)
    bounds = [*cuts, unit.end]
    return [WorkUnit(unit.path, bounds[i], bounds[i + 1]) for i in range(len(cuts))]


def _to_end(path: str, end: int | None) -> bool:
    try:
        return end is None or end >= os.stat(path).st_size  # a plain file's last range ends at its size
    except OSError:
        return False


def _merge(into: Seen, part: Seen) -> None:
    for k, ts in part.items():
        try:
            if k not in into or ts < into[k]:
                into[k] = ts
        except TypeError:  # a naive time beside an aware one: the first kept
            continue


def _unit(item: tuple[WorkUnit, str]) -> Seen:
    unit, fmt = item
    seen: Seen = {}
    try:
        _scan(unit, fmt, seen)
    except Exception:  # noqa: BLE001 - a sighting pass failure must not lose the hunt's findings
        pass
    return seen


def _scan(unit: WorkUnit, fmt: str, seen: Seen) -> None:
    pre: Prefilter = _S["pre"]
    stats = ReadStats()
    if fmt == "evtx":
        for rec in iter_evtx(unit.path, stats, pre.any_in):
            for obs in rec.observations:
                _note(seen, obs.src_ip, obs.src_host, obs.ts)
        return
    reader = make_reader(fmt, _S["mapping"], _mtime(unit.path))
    lines: Iterator[str]
    if unit.start:
        prime_reader(unit.path, reader, start=unit.start)
        lines = iter_literal_lines(unit.path, reader, pre, stats, DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO,
                                   unit.start, unit.end)
    else:
        lines = _from_top(unit, reader, pre, stats)
    for text in lines:
        try:
            observations = reader.parse(text)
        except PARSE_ERRORS:
            continue
        for obs in observations:
            _note(seen, obs.src_ip, obs.src_host, obs.ts)


def _from_top(unit: WorkUnit, reader: Any, pre: Prefilter, stats: ReadStats) -> Iterator[str]:
    """A range at the top of a file: its first MiB as the hunt reads it (first record, probes), then lean."""
    head_end = _cut_after(unit.path, PROBE_BYTES, unit.end)
    if head_end is None:  # compressed, small or unsplittable: one stream, read as the hunt reads it
        for cand in iter_candidate_lines(unit.path, reader, pre, stats, DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO,
                                         None, 0, unit.end):
            yield cand.text
        return
    for cand in iter_candidate_lines(unit.path, reader, pre, stats, DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO, None, 0, head_end):
        yield cand.text
    yield from iter_literal_lines(unit.path, reader, pre, stats, DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO, head_end, unit.end)


def _cut_after(path: str, at: int, end: int | None) -> int | None:
    """The offset just after the first newline at or after `at` in a plain file (None: compressed or no such line)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
            if compression_of(head[:8]) or utf16_of(head)[0]:
                return None
            size = os.fstat(fh.fileno()).st_size
            limit = size if end is None else min(end, size)
            if at >= limit:
                return None
            fh.seek(at)
            chunk = fh.read(DEFAULT_MAX_LINE + 1)
    except OSError:
        return None
    nl = chunk.find(b"\n")
    return None if nl == -1 or at + nl + 1 >= limit else at + nl + 1


def _note(seen: Seen, ip: str, name: str, ts: datetime | None) -> None:
    if ts is None:
        return
    for ident in (ip.lower(), name.lower()):
        if ident in _S["ids"]:
            _merge(seen, {ident: ts})
