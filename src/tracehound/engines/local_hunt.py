"""Local hunt engine: logs on this machine, one process per file across all cores.

Per file: detect the format, stream line-aligned blocks, run the literal prefilter on the
lowercased block, and parse only candidate lines (plus header lines, and the first and last
line for time coverage). Candidates go through the exact matcher. Each worker writes its
findings to a temporary JSON Lines file; the parent concatenates them in input order, so the
output is deterministic whatever the scheduling.
"""

from __future__ import annotations

import glob
import json
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

from tracehound.errors import InputError, UsageError
from tracehound.findings.ecs import enrichment, iso_ts, network_verdict, put, strongest
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


def expand_paths(specs: list[str]) -> list[str]:
    """Files, folders (recursively, sorted) and globs; symlinks are not followed into folders."""
    out: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        matches = sorted(glob.glob(spec, recursive=True)) if any(c in spec for c in "*?[") else [spec]
        if not matches:
            raise UsageError(f"no file matches {spec!r}")
        for m in matches:
            if os.path.isdir(m) and not os.path.islink(m):
                for root, dirs, files in os.walk(m, followlinks=False):
                    dirs.sort()
                    for name in sorted(files):
                        p = os.path.join(root, name)
                        if p not in seen:
                            seen.add(p)
                            out.append(p)
            elif os.path.exists(m) or os.path.islink(m):
                if m not in seen:
                    seen.add(m)
                    out.append(m)
            else:
                raise UsageError(f"no such file or folder: {m}")
    return out


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


def _init_worker(pack_json: str, options: HuntOptions) -> None:
    pack = load_native(pack_json, "<hunt>")
    _STATE["pack"] = pack
    _STATE["matcher"] = Matcher(pack)
    _STATE["prefilter"] = Prefilter(literals_for(pack))
    _STATE["options"] = options


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
    doc["threat"] = {"enrichments": [enrichment(m.indicator, m.field, m.observed, pack_name) for m in matches]}
    doc["log"] = {"file": {"path": path}}
    put(doc, "log.offset", offset)
    th: dict[str, Any] = {"source": "hunt", "line": line, "format": fmt, "verdict": verdict,
                          "host": obs.src_host or obs.src_ip or obs.user or "unknown", "kind": obs.kind}
    if any(m.weak for m in matches):
        th["weak"] = True
    if parse_error:
        th["parse_error"] = parse_error
    if obs.record_id is not None:
        put(doc, "winlog.record_id", obs.record_id)
    doc["tracehound"] = th
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


def hunt_file(path: str, out_dir: str) -> FileReport:
    """Hunt one file; findings go to a temporary JSONL in out_dir (returned in the report)."""
    matcher: Matcher = _STATE["matcher"]
    prefilter: Prefilter = _STATE["prefilter"]
    options: HuntOptions = _STATE["options"]
    pack: Pack = _STATE["pack"]
    report = FileReport(path=path)
    fd, tmp = tempfile.mkstemp(prefix="hunt-", suffix=".jsonl", dir=out_dir)
    report.findings_file = tmp
    stats = ReadStats()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        def emit(doc: dict[str, Any]) -> None:
            out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
            report.findings += 1

        try:
            fmt = detect_format(path, options.fmt)
            report.format = fmt
            if fmt == "evtx":
                _hunt_evtx(path, matcher, prefilter, options, pack.name, stats, report, emit)
            else:
                _hunt_text(path, fmt, matcher, prefilter, options, pack.name, stats, report, emit)
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
                         max_ratio: int, last: list[str] | None = None) -> Iterator[CandidateLine]:
    """Lines of a text log that contain a prefilter literal, header lines applied to the reader
    on the way. Lines without a literal cost no Python work beyond the block-level scan."""
    first_done = False
    for block in iter_blocks(path, stats, max_line, max_ratio):
        data = block.data
        low = data.lower().decode("latin-1")  # 1 byte = 1 char: positions are byte offsets
        events: list[tuple[int, int]] = []  # (line start, kind): 0 header, 1 candidate, 2 first data line
        if reader.has_headers:
            if low.startswith("#"):
                events.append((0, 0))
            pos = low.find("\n#")
            while pos != -1:
                events.append((pos + 1, 0))
                pos = low.find("\n#", pos + 1)
        starts: set[int] = set()
        if not first_done:
            s = 0
            while s < len(low) and (low.startswith("#", s) or low.startswith("\n", s)):
                nl = low.find("\n", s)
                s = len(low) if nl == -1 else nl + 1
            if s < len(low):
                starts.add(s)
                events.append((s, 2))
                first_done = True
        for end in prefilter.candidate_ends(low):
            s = low.rfind("\n", 0, end) + 1
            if s not in starts:
                starts.add(s)
                events.append((s, 1))
        events.sort()
        line_no = block.first_line
        last_pos = 0
        for start, kind in events:
            line_no += low.count("\n", last_pos, start)
            last_pos = start
            end = low.find("\n", start)
            end = len(low) if end == -1 else end
            if end - start > max_line:
                # Never parsed (bounded work per record); lines longer than a read block are
                # counted by iter_blocks, shorter ones here, where they could have mattered.
                stats.long_lines += 1
                stats.skip(f"line longer than {max_line} bytes")
                continue
            text = data[start:end].decode("utf-8", errors="replace").rstrip("\r")
            if kind == 0:
                reader.header(text)
            elif not (reader.has_headers and text.startswith("#")):
                yield CandidateLine(text, line_no, block.offset + start, kind == 2)
        if last is not None:
            tail = data.rstrip(b"\r\n")
            while tail:
                cut = tail.rfind(b"\n")
                line = tail[cut + 1 :]
                if not line.startswith(b"#"):
                    last[:] = [line.decode("utf-8", errors="replace")]
                    break
                tail = tail[:cut].rstrip(b"\r\n") if cut != -1 else b""


def _hunt_text(path: str, fmt: str, matcher: Matcher, prefilter: Prefilter, options: HuntOptions, pack_name: str,
               stats: ReadStats, report: FileReport, emit: Callable[[dict[str, Any]], None]) -> None:
    reader = _make_reader(fmt, options.mapping, _mtime(path))
    last: list[str] = []
    for cand in iter_candidate_lines(path, reader, prefilter, stats, options.max_line, options.max_ratio, last):
        if cand.first:
            # Parsed for its time (and, for CSV-like formats, to read the header row); it may also be a candidate.
            report.first_ts = iso_ts(_parse_ts(reader, cand.text))
            if not prefilter.any_in(cand.text.lower()):
                continue
        report.candidates += 1
        _match_line(cand.text, reader, matcher, options, pack_name, path, cand.line, cand.offset, fmt, stats, emit)
    if last and last[0] and not last[0].startswith("#"):
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


def run_hunt(pack: Pack, paths: list[str], options: HuntOptions,
             on_file: Callable[[FileReport], None] | None = None) -> Iterator[tuple[FileReport, str]]:
    """Hunt files in parallel; yields (report, findings temp file) in input order. Caller deletes the temp files."""
    files = expand_paths(paths)
    pack_json = json.dumps(pack_to_dict(pack))
    tmpdir = tempfile.mkdtemp(prefix="tracehound-hunt-")
    jobs = options.jobs or os.cpu_count() or 1
    jobs = max(1, min(jobs, len(files)))
    regular = []
    for f in files:
        try:
            st = os.stat(f)  # follows a symlink given explicitly on the command line
            ok = stat.S_ISREG(st.st_mode)
        except OSError as exc:
            yield FileReport(path=f, error=f"cannot read: {exc.strerror}"), ""
            continue
        if not ok:
            yield FileReport(path=f, error="not a regular file (FIFO, device or socket): skipped"), ""
            continue
        regular.append(f)
    try:
        if jobs == 1:
            _init_worker(pack_json, options)
            for f in regular:
                rep = hunt_file(f, tmpdir)
                yield rep, rep.findings_file
        else:
            with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(pack_json, options)) as pool:
                for rep in pool.map(hunt_file, regular, [tmpdir] * len(regular)):
                    yield rep, rep.findings_file
    finally:
        for leftover in Path(tmpdir).glob("*"):
            leftover.unlink(missing_ok=True)
        os.rmdir(tmpdir)
