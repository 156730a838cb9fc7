"""Local hunt engine: logs on this machine, across all cores.

Work units are files, and newline-aligned byte ranges of large plain files. Per unit: detect
the format, stream line-aligned blocks (memory-mapped for plain files, decoded incrementally
for compressed ones), run the case-insensitive literal prefilter on the raw block, and parse
only candidate lines (plus header lines, and the first and last line for time coverage).
Candidates go through the exact matcher. Workers are forked with the matcher and prefilter
already built; each writes its findings to a temporary JSON Lines file and the parent
concatenates them in input order (line numbers of ranges made file-relative), so the output
is deterministic whatever the scheduling.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracehound.engines.inputs import expand_paths
from tracehound.errors import InputError
from tracehound.findings.ecs import attach_threat, iso_ts, network_verdict, put, strongest
from tracehound.intel.formats.native import loads as load_native
from tracehound.intel.formats.native import to_dict as pack_to_dict
from tracehound.intel.model import Pack
from tracehound.matching.matcher import Match, Matcher
from tracehound.matching.prefilter import Prefilter, literals_for
from tracehound.sources.logs.evtx_source import EVTX_MAGIC, iter_evtx
from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers import BY_NAME, READERS, Reader
from tracehound.sources.logs.stream import (
    DEFAULT_MAX_LINE,
    DEFAULT_MAX_RATIO,
    ReadStats,
    compression_of,
    iter_blocks,
    read_head,
)

MAX_ORIGINAL = 16 * 1024


@dataclass
class HuntOptions:
    since: datetime | None = None
    until: datetime | None = None
    fmt: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    include_weak: bool = False
    max_line: int = DEFAULT_MAX_LINE
    max_ratio: int = DEFAULT_MAX_RATIO
    jobs: int = 0


@dataclass
class FileReport:
    path: str
    format: str = ""
    bytes: int = 0
    records: int = 0
    candidates: int = 0
    findings: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    truncated: str = ""
    error: str = ""
    first_ts: str | None = None
    last_ts: str | None = None
    findings_file: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("findings_file")
        return d


@dataclass(frozen=True)
class WorkUnit:
    """A file, or a newline-aligned byte range of a large uncompressed file (range index of count)."""

    path: str
    start: int = 0
    end: int | None = None
    index: int = 0
    count: int = 1


SPLIT_MIN = 64 * 1024 * 1024  # ranges smaller than this are not worth a process


def plan_units(path: str, jobs: int) -> list[WorkUnit]:
    """Split a large plain-text file into up to `jobs` ranges that start right after a newline."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as fh:
            magic = fh.read(8)
            if jobs < 2 or size < 2 * SPLIT_MIN or compression_of(magic) or magic.startswith(EVTX_MAGIC):
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


def detect_format(path: str, forced: str | None = None) -> str:
    head = read_head(path, 65536)
    if head.startswith(EVTX_MAGIC):
        return "evtx"
    if forced:
        return forced
    if not head:
        raise InputError("empty or unreadable file", path=path)
    if b"\x00" in head[:4096]:
        raise InputError("binary file of unknown format (not a text log, not EVTX): skipped", path=path)
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()[:-1] if len(head) == 65536 else text.splitlines()
    lines = lines or text.splitlines()
    for reader in READERS:
        if reader.sniff(lines):
            return reader.name
    raise InputError("unknown log format (use --format to force one; see 'tracehound hunt --help')", path=path)


def _make_reader(name: str, mapping: dict[str, str], ref_time: datetime) -> Reader:
    cls = BY_NAME[name]
    try:
        return cls(mapping, ref_time=ref_time)  # type: ignore[call-arg]
    except TypeError:
        return cls(mapping)


# ---- per-process state (matcher and prefilter built once per worker) ----------------------
_STATE: dict[str, Any] = {}


def _init_state(pack: Pack, options: HuntOptions) -> None:
    """Matcher and prefilter, built once: fork-started workers inherit them (a 100,000-literal
    Hyperscan database takes seconds to compile; recompiling it per worker would waste that)."""
    _STATE.clear()
    _STATE.update(pack=pack, matcher=Matcher(pack), prefilter=Prefilter(literals_for(pack)), options=options)


def _init_worker(pack_json: str, options: HuntOptions) -> None:
    """Where processes cannot fork: rebuild the state from the serialized pack."""
    _init_state(load_native(pack_json, "<hunt>"), options)


def _prefilter_for(fmt: str) -> Prefilter:
    if fmt != "windns":
        return _STATE["prefilter"]
    if "prefilter_wire" not in _STATE:
        _STATE["prefilter_wire"] = Prefilter(literals_for(_STATE["pack"], wire=True))
    return _STATE["prefilter_wire"]


def _truncate(raw: str) -> str:
    return raw if len(raw) <= MAX_ORIGINAL else raw[:MAX_ORIGINAL] + f"…[{len(raw) - MAX_ORIGINAL} more characters]"


def finding_doc(obs: Observation, matches: list[Match], raw: str, path: str, line: int, offset: int | None,
                fmt: str, pack_name: str, parse_error: str = "") -> dict[str, Any]:
    doc: dict[str, Any] = {}
    put(doc, "@timestamp", iso_ts(obs.ts))
    verdict = strongest([network_verdict(m.indicator, m.weak) for m in matches])
    file_hit = any(m.field.startswith("file.") for m in matches)
    doc["event"] = {"kind": "alert", "category": ["threat", "file" if file_hit else "network"], "type": ["indicator"],
                    "module": "tracehound", "dataset": "tracehound.hunt", "original": _truncate(raw)}
    put(doc, "event.action", obs.action)
    put(doc, "host.name", obs.src_host)
    put(doc, "source.ip", obs.src_ip)
    put(doc, "user.name", obs.user)
    put(doc, "destination.domain", obs.domain if obs.kind != "dns" else "")
    put(doc, "dns.question.name", obs.domain if obs.kind == "dns" else "")
    put(doc, "dns.answers", [{"data": a} for a in obs.answers])
    put(doc, "destination.ip", obs.dst_ip)
    put(doc, "destination.port", obs.dst_port)
    put(doc, "url.full", obs.url)
    put(doc, "http.request.method", obs.method)
    put(doc, "process.executable", obs.process)
    for algo, h in obs.hashes.items():
        put(doc, f"file.hash.{algo}", h)
    for algo, h in obs.cert_hashes.items():
        put(doc, f"tls.server.hash.{algo}", h)
    attach_threat(doc, [(m.indicator, m.field, m.observed) for m in matches], pack_name)
    doc["log"] = {"file": {"path": path}}
    put(doc, "tracehound.log.offset", offset)
    # The host is our end of the record: the source, unless the indicator *is* the source
    # (an inbound connection from a C2 address), in which case it is the destination.
    inbound = all(m.field == "source.ip" for m in matches)
    host = (obs.dst_ip or obs.src_host) if inbound else (obs.src_host or obs.src_ip or obs.user)
    th: dict[str, Any] = {"source": "hunt", "line": line, "format": fmt, "verdict": verdict,
                          "host": host or "unknown", "kind": obs.kind}
    if any(m.weak for m in matches):
        th["weak"] = True
    if parse_error:
        th["parse_error"] = parse_error
    if obs.record_id is not None:
        put(doc, "tracehound.winlog.record_id", obs.record_id)
    doc.setdefault("tracehound", {}).update(th)
    return doc


_TOKEN = re.compile(r"[A-Za-z0-9_.:%-]{3,}")


def _raw_matches(line: str, matcher: Matcher) -> list[Match]:
    """For a candidate line that does not parse: match its tokens so no evidence is lost."""
    out: list[Match] = []
    seen: set[str] = set()
    for tok in _TOKEN.findall(line):
        t = tok.strip(".:-")
        for ind, fld in ((matcher.domain(t), "event.original"), (matcher.ip(t), "event.original"),
                         (matcher.hashes.get(t.lower()), "event.original")):
            if ind is not None and ind.value not in seen:
                seen.add(ind.value)
                out.append(Match(ind, fld, t))
    return out


def _in_window(ts: datetime | None, options: HuntOptions) -> bool:
    if ts is None:
        return True
    if options.since and ts < options.since:
        return False
    return not (options.until and ts > options.until)


def _parse_ts(reader: Reader, line: str) -> datetime | None:
    try:
        obs = reader.parse(line)
    except (RecordError, ValueError, KeyError, IndexError, TypeError):
        return None
    return next((o.ts for o in obs if o.ts is not None), None)


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
            fmt = detect_format(unit.path, options.fmt)
            report.format = fmt
            prefilter = _prefilter_for(fmt)
            if fmt == "evtx":
                _hunt_evtx(unit.path, matcher, prefilter, options, pack.name, stats, report, emit)
            else:
                _hunt_text(unit, fmt, matcher, prefilter, options, pack.name, stats, report, emit)
        except InputError as exc:
            report.error = exc.message
        except OSError as exc:
            report.error = f"cannot read: {exc.strerror or exc}"
    report.bytes, report.records = stats.bytes_read, stats.lines
    report.skipped.update(stats.skipped)
    report.truncated = report.truncated or stats.truncated
    return report


@dataclass
class CandidateLine:
    text: str
    line: int
    offset: int
    first: bool  # the file's first data line (always yielded: time coverage, CSV header rows)


def iter_candidate_lines(path: str, reader: Reader, prefilter: Prefilter, stats: ReadStats, max_line: int,
                         max_ratio: int, last: list[str] | None = None, start: int = 0,
                         end: int | None = None) -> Iterator[CandidateLine]:
    """Lines of a text log (or of the byte range [start, end)) that contain a prefilter literal,
    header lines applied to the reader on the way. Lines without a literal cost no Python work:
    the prefilter scans raw bytes, case-insensitively, block by block."""
    first_done = start > 0  # only the file's first range reports the first data line
    line_no = 1  # of the current block's first line (relative to `start`)
    for block in iter_blocks(path, stats, max_line, max_ratio, start_offset=start, end_offset=end):
        data = block.data
        size = len(data)
        line_no += block.skipped_lines
        stats.lines += block.skipped_lines
        events: list[tuple[int, int]] = []  # (line start, kind): 0 header, 1 candidate, 2 first data line
        if reader.has_headers:
            if data.startswith(b"#"):
                events.append((0, 0))
            pos = data.find(b"\n#")
            while pos != -1:
                events.append((pos + 1, 0))
                pos = data.find(b"\n#", pos + 1)
        starts: set[int] = set()
        if not first_done:
            s = 0
            while s < size and data[s : s + 1] in (b"#", b"\n", b"\r"):
                nl = data.find(b"\n", s)
                s = size if nl == -1 else nl + 1
            if s < size:
                starts.add(s)
                events.append((s, 2))
                first_done = True
        for hit_end in prefilter.candidate_ends(data):
            s = data.rfind(b"\n", 0, hit_end) + 1
            if s not in starts:
                starts.add(s)
                events.append((s, 1))
        events.sort()
        cur = line_no
        last_pos = 0
        for line_start, kind in events:
            cur += data.count(b"\n", last_pos, line_start)
            last_pos = line_start
            line_end = data.find(b"\n", line_start)
            line_end = size if line_end == -1 else line_end
            if line_end - line_start > max_line:
                # Never parsed (bounded work per record); lines longer than a read block are
                # counted by iter_blocks, shorter ones here, where they could have mattered.
                stats.long_lines += 1
                stats.skip(f"line longer than {max_line} bytes")
                continue
            text = data[line_start:line_end].decode("utf-8", errors="replace").rstrip("\r")
            if kind == 0:
                reader.header(text)
            elif not (reader.has_headers and text.startswith("#")):
                yield CandidateLine(text, cur, block.offset + line_start, kind == 2)
        n = cur - line_no + data.count(b"\n", last_pos) + (1 if size and not data.endswith(b"\n") else 0)
        stats.lines += n
        line_no += n
        if last is not None and size:
            stop = size
            while stop:
                while stop and data[stop - 1 : stop] in (b"\n", b"\r"):
                    stop -= 1
                cut = data.rfind(b"\n", 0, stop)
                if not data.startswith(b"#", cut + 1):
                    if stop > cut + 1:
                        last[:] = [data[cut + 1 : stop].decode("utf-8", errors="replace")]
                    break
                stop = cut if cut != -1 else 0


def prime_reader(path: str, reader: Reader) -> None:
    """For a range that does not start the file: give the reader the file's header lines and,
    for CSV-like formats, its header row, as if it had read the file from the top."""
    head = read_head(path, 1 << 20)
    for raw in head.split(b"\n")[:-1]:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        if not line:
            continue
        if line.startswith("#"):
            if reader.has_headers:
                reader.header(line)
            continue
        try:
            reader.parse(line)  # CSV-like readers take their header row here
        except (RecordError, ValueError, KeyError, IndexError, TypeError):
            pass
        break


def _hunt_text(unit: WorkUnit, fmt: str, matcher: Matcher, prefilter: Prefilter, options: HuntOptions,
               pack_name: str, stats: ReadStats, report: FileReport, emit: Callable[[dict[str, Any]], None]) -> None:
    path = unit.path
    reader = _make_reader(fmt, options.mapping, _mtime(path))
    if unit.start:
        prime_reader(path, reader)
    last: list[str] = []
    for cand in iter_candidate_lines(path, reader, prefilter, stats, options.max_line, options.max_ratio, last,
                                     unit.start, unit.end):
        if cand.first:
            # Parsed for its time (and, for CSV-like formats, to read the header row); it may also be a candidate.
            report.first_ts = iso_ts(_parse_ts(reader, cand.text))
            if not prefilter.any_in(cand.text.encode("utf-8", "surrogateescape")):
                continue
        report.candidates += 1
        _match_line(cand.text, reader, matcher, options, pack_name, path, cand.line, cand.offset, fmt, stats, emit)
    if unit.index == unit.count - 1 and last and last[0] and not last[0].startswith("#"):
        report.last_ts = iso_ts(_parse_ts(reader, last[0]))


def _mtime(path: str) -> datetime:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, tz=UTC)
    except OSError:
        return datetime.now(UTC)


def _match_line(text: str, reader: Reader, matcher: Matcher, options: HuntOptions, pack_name: str, path: str,
                line_no: int, offset: int, fmt: str, stats: ReadStats, emit: Callable[[dict[str, Any]], None]) -> None:
    try:
        observations = reader.parse(text)
    except (RecordError, ValueError, KeyError, IndexError, TypeError) as exc:
        reason = str(exc) if isinstance(exc, RecordError) else f"{type(exc).__name__}"
        stats.skip(f"unparseable line with an indicator literal ({reason[:60]})")
        matches = _raw_matches(text, matcher)
        if matches:
            emit(finding_doc(Observation(), matches, text, path, line_no, offset, fmt, pack_name, parse_error=reason))
        return
    for obs in observations:
        if not _in_window(obs.ts, options):
            stats.skip("outside --since/--until")
            continue
        matches = [m for m in matcher.match(obs) if options.include_weak or not m.weak]
        if matches:
            emit(finding_doc(obs, matches, text, path, line_no, offset, fmt, pack_name))


def _hunt_evtx(path: str, matcher: Matcher, prefilter: Prefilter, options: HuntOptions, pack_name: str,
               stats: ReadStats, report: FileReport, emit: Callable[[dict[str, Any]], None]) -> None:
    first: datetime | None = None
    last: datetime | None = None
    for rec in iter_evtx(path, stats, None):
        for obs in rec.observations:
            if obs.ts is not None:
                first = obs.ts if first is None or obs.ts < first else first
                last = obs.ts if last is None or obs.ts > last else last
        if not prefilter.any_in(rec.raw.lower()):
            continue
        report.candidates += 1
        for obs in rec.observations:
            obs.record_id = rec.record_id
            if not _in_window(obs.ts, options):
                stats.skip("outside --since/--until")
                continue
            matches = [m for m in matcher.match(obs) if options.include_weak or not m.weak]
            if matches:
                emit(finding_doc(obs, matches, rec.raw, path, rec.number, None, "evtx", pack_name))
    report.first_ts, report.last_ts = iso_ts(first), iso_ts(last)


def run_hunt(pack: Pack, paths: list[str], options: HuntOptions) -> Iterator[tuple[FileReport, Iterator[str]]]:
    """Hunt files in parallel; yields, in input order, each file's report and its findings as
    JSON lines (line numbers of split files already made file-relative)."""
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
        _init_state(pack, options)
        if jobs == 1 or len(units) == 1:
            results: Iterator[FileReport] = (hunt_file(u, tmpdir) for u in units)
            yield from _merge_ranges(units, results)
        else:
            workers = min(jobs, len(units))
            if "fork" in multiprocessing.get_all_start_methods():
                pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
            else:  # pragma: no cover - non-Linux platforms
                pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                           initargs=(json.dumps(pack_to_dict(pack)), options))
            with pool:
                yield from _merge_ranges(units, pool.map(hunt_file, units, [tmpdir] * len(units)))
    finally:
        for leftover in Path(tmpdir).glob("*"):
            leftover.unlink(missing_ok=True)
        os.rmdir(tmpdir)


def _merge_ranges(units: list[WorkUnit], reports: Iterator[FileReport]) -> Iterator[tuple[FileReport, Iterator[str]]]:
    parts: list[tuple[WorkUnit, FileReport]] = []
    for unit, rep in zip(units, reports, strict=True):
        parts.append((unit, rep))
        if unit.index < unit.count - 1:
            continue
        merged = FileReport(path=unit.path, format=parts[0][1].format, first_ts=parts[0][1].first_ts,
                            last_ts=parts[-1][1].last_ts)
        files: list[tuple[str, int]] = []
        line_offset = 0
        for _u, r in parts:
            merged.bytes += r.bytes
            merged.records += r.records
            merged.candidates += r.candidates
            merged.findings += r.findings
            for k, v in r.skipped.items():
                merged.skipped[k] = merged.skipped.get(k, 0) + v
            merged.error = merged.error or r.error
            merged.truncated = merged.truncated or r.truncated
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
