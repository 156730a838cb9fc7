"""The per-file Sigma pass: read a log's records once, give each to the rules its logsource
selects, and yield an ECS finding per (rule, record) match.

EVTX records are decoded with every System/EventData/UserData field; text logs through the same
readers as the indicator hunt (their observations under Sigma taxonomy names).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracehound.matching.sigma.findings import sigma_finding
from tracehound.matching.sigma.record import SigmaRecord
from tracehound.matching.sigma.records import evtx_record, observation_record, windows_json_record
from tracehound.matching.sigma.ruleset import CompiledRule, RuleSet
from tracehound.sources.logs.evtx_source import iter_evtx_events
from tracehound.sources.logs.observation import RecordError, iso
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO, ReadStats, iter_blocks


@dataclass
class SigmaStats:
    files: int = 0
    records: int = 0
    evaluations: int = 0
    hits: int = 0
    bytes: int = 0
    seconds: float = 0.0
    per_rule: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def _in_window(ts: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if ts is None:
        return True
    return not ((since and ts < since) or (until and ts > until))


def _evtx_time(rec: dict[str, Any]) -> datetime | None:
    v = rec.get("TimeCreated_SystemTime")
    if not v:
        return None
    try:
        return iso(str(v))
    except RecordError:
        return None


def sigma_evtx(path: str, rules: RuleSet, stats: SigmaStats, since: datetime | None = None,
               until: datetime | None = None) -> Iterator[dict[str, Any]]:
    rs = ReadStats()
    t0 = time.monotonic()
    try:
        for number, raw, event in iter_evtx_events(path, rs):
            yield from windows_hits(evtx_record(event), raw, path, number, "evtx", rules, stats, since, until)
    finally:
        _done(stats, rs, t0, _size(path))


def windows_hits(rec: SigmaRecord, raw: str, path: str, number: int, fmt: str, rules: RuleSet, stats: SigmaStats,
                 since: datetime | None, until: datetime | None) -> Iterator[dict[str, Any]]:
    """Findings of one Windows event (from EVTX or a JSON line)."""
    candidates = rules.candidates(rec)
    if not candidates:
        return
    ts = _evtx_time(rec)
    if not _in_window(ts, since, until):
        return
    stats.evaluations += len(candidates)
    host = str(rec.get("Computer") or "")
    for rule in candidates:
        if rule.predicate(rec) and _keep(rules, rule, ts, rec, path, number, host):
            yield _hit(rule, stats, raw, path, number, fmt, ts, host,
                       {"host.name": host, "event.code": str(rec.get("EventID") or "") or None,
                        "event.provider": rec.get("Provider_Name"), "tracehound.winlog.channel": rec.get("Channel"),
                        "tracehound.winlog.record_id": rec.get("EventRecordID"), "process.executable": rec.get("Image")})


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _keep(rules: RuleSet, rule: CompiledRule, ts: datetime | None, rec: Any, path: str, line: int, host: str) -> bool:
    """Give a hit to the correlations naming its rule; False when it gives no finding of its own."""
    if rules.correlator is None or id(rule) not in rules.correlator.by_rule:
        return True
    keep = bool(rules.correlator.observe(rule, ts, rec, {"path": path, "line": line, "host": host}))
    if not keep:
        rule.hits += 1  # counted, its finding is the correlation's
    return keep


def _hit(rule: CompiledRule, stats: SigmaStats, raw: str, path: str, line: int, fmt: str, ts: datetime | None,
         host: str, extra: dict[str, Any]) -> dict[str, Any]:
    rule.hits += 1
    stats.hits += 1
    stats.per_rule[rule.id or rule.title] += 1
    return sigma_finding(rule, raw, path, line, fmt, ts, host, extra)


def _done(stats: SigmaStats, rs: ReadStats, t0: float, size: int | None = None) -> None:
    """size: the EVTX file's bytes (its decoded JSON is larger); text logs count decompressed bytes."""
    stats.files += 1
    stats.records += rs.lines
    stats.bytes += rs.bytes_read if size is None else size
    stats.seconds += time.monotonic() - t0
    stats.skipped.update(rs.skipped)


def sigma_text(path: str, fmt: str, reader: Any, rules: RuleSet, stats: SigmaStats, since: datetime | None = None,
               until: datetime | None = None, max_line: int = DEFAULT_MAX_LINE,
               max_ratio: int = DEFAULT_MAX_RATIO) -> Iterator[dict[str, Any]]:
    rs = ReadStats()
    t0 = time.monotonic()
    by_kind: dict[str, list[CompiledRule]] = {}
    line_no = 0
    try:
        for block in iter_blocks(path, rs, max_line, max_ratio):
            line_no += block.skipped_lines
            data = block.data[:-1] if block.data.endswith(b"\n") else block.data
            for raw_line in data.split(b"\n"):
                line_no += 1
                if not raw_line.strip():
                    continue
                if len(raw_line) > max_line:
                    rs.skip(f"line longer than {max_line} bytes")
                    continue
                text = raw_line.decode("utf-8", errors="replace").rstrip("\r")
                rs.lines += 1
                if text.startswith("#") and reader.has_headers:
                    reader.header(text)
                    continue
                if fmt == "jsonl":
                    wrec = windows_json_record(text)
                    if wrec is not None:  # Sysmon/Windows events as JSON lines: the EVTX rules
                        yield from windows_hits(wrec, text, path, line_no, fmt, rules, stats, since, until)
                        continue
                try:
                    observations = reader.parse(text)
                except (RecordError, ValueError, KeyError, IndexError, TypeError):
                    rs.skip("Sigma pass: unparseable line")
                    continue
                for obs in observations:
                    cands = by_kind.get(obs.kind)
                    if cands is None:
                        cands = by_kind[obs.kind] = rules.for_text(fmt, obs.kind)
                    if not cands or not _in_window(obs.ts, since, until):
                        continue
                    tables: dict[str, Any] = {}
                    stats.evaluations += len(cands)
                    for rule in cands:
                        rec = tables.get(rule.text_table)
                        if rec is None:
                            rec = tables[rule.text_table] = observation_record(obs, rule.text_table)
                        host = obs.src_host or obs.src_ip or obs.user
                        if rule.predicate(rec) and _keep(rules, rule, obs.ts, rec, path, line_no, host):
                            yield _hit(rule, stats, text, path, line_no, fmt, obs.ts,
                                       obs.src_host or obs.src_ip or obs.user,
                                       {"host.name": obs.src_host, "source.ip": obs.src_ip, "destination.domain": obs.domain,
                                        "url.full": obs.url, "destination.ip": obs.dst_ip})
    finally:
        _done(stats, rs, t0)
