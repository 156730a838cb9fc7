"""Hunt summary for people: per source host, first and last C2 contact, indicators hit, and
the gap between the host's first appearance in the logs and its first C2 contact (the 3CX
implant waited 7 days); coverage per log format and a look-back check.

First sightings are found by a second, targeted pass (engines/first_seen.py): a prefilter over the
identities of the hosts that had hits (their IPs and names), parsing only their lines, split over
the worker processes like the hunt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tracehound.engines.first_seen import earliest_sightings
from tracehound.engines.hunt_types import FileReport, HuntOptions
from tracehound.engines.hunt_types import report_from_dict as report_from_dict
from tracehound.engines.local_hunt import run_hunt
from tracehound.findings.ecs import VERDICT_ORDER, matched_indicators
from tracehound.intel.model import Pack
from tracehound.matching.normalize import ZONE_NOTE, has_zone


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class HostTimeline:
    host: str
    source_ips: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    first_contact: datetime | None = None
    last_contact: datetime | None = None
    first_seen: datetime | None = None
    count: int = 0
    indicators: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)  # Sigma rule name -> hits (findings with no indicator)
    verdict: str = "clean"

    def add(self, doc: dict[str, Any]) -> None:
        self.count += 1
        ts = _dt(doc.get("@timestamp"))
        if ts is not None:
            self.first_contact = ts if self.first_contact is None or ts < self.first_contact else self.first_contact
            self.last_contact = ts if self.last_contact is None or ts > self.last_contact else self.last_contact
        if (doc.get("source") or {}).get("ip"):
            self.source_ips.add(doc["source"]["ip"])
        if (doc.get("host") or {}).get("name"):
            self.names.add(doc["host"]["name"])
        if (doc.get("user") or {}).get("name"):
            self.users.add(doc["user"]["name"])
        for v in (m["value"] for m in matched_indicators(doc)):
            self.indicators[v] = self.indicators.get(v, 0) + 1
        rule = doc.get("rule")
        if isinstance(rule, dict) and rule.get("name") and (doc.get("tracehound") or {}).get("kind") == "sigma":
            name = str(rule["name"])
            self.rules[name] = self.rules.get(name, 0) + 1
        v = (doc.get("tracehound") or {}).get("verdict", "clean")
        if VERDICT_ORDER.get(v, 0) > VERDICT_ORDER.get(self.verdict, 0):
            self.verdict = v

    def gap(self) -> timedelta | None:
        if self.first_seen and self.first_contact:
            return self.first_contact - self.first_seen
        return None

    def to_dict(self) -> dict[str, Any]:
        gap = self.gap()
        return {
            "host": self.host, "source_ips": sorted(self.source_ips), "names": sorted(self.names),
            "users": sorted(self.users), "verdict": self.verdict, "count": self.count,
            "first_seen": _iso(self.first_seen), "first_contact": _iso(self.first_contact),
            "last_contact": _iso(self.last_contact),
            "gap_first_seen_to_contact_days": round(gap.total_seconds() / 86400, 2) if gap is not None else None,
            "indicators": dict(sorted(self.indicators.items())),
            "rules": dict(sorted(self.rules.items())),
        }


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts else None


@dataclass
class HuntSummary:
    files: list[FileReport] = field(default_factory=list)
    hosts: dict[str, HostTimeline] = field(default_factory=dict)
    findings: int = 0
    warnings: list[str] = field(default_factory=list)
    zone_matches: int = 0  # findings whose IP matched with its IPv6 zone id dropped (matching/normalize.norm_ip)

    def add_finding(self, doc: dict[str, Any]) -> None:
        self.findings += 1
        if any(has_zone(m["atomic"]) for m in matched_indicators(doc) if "%" in m["atomic"]):
            self.zone_matches += 1
        host = (doc.get("tracehound") or {}).get("host") or "unknown"
        self.hosts.setdefault(host, HostTimeline(host)).add(doc)

    def coverage(self) -> dict[str, dict[str, Any]]:
        cov: dict[str, dict[str, Any]] = {}
        for f in self.files:
            if not f.format:
                continue
            c = cov.setdefault(f.format, {"files": 0, "bytes": 0, "records": 0, "first": None, "last": None,
                                          "raw_matches": 0, "no_fields": 0})
            c["files"] += 1
            c["bytes"] += f.bytes
            c["records"] += f.records
            c["raw_matches"] += f.raw_matches
            if f.no_fields():
                c["no_fields"] += f.records  # records of files where no host/destination field was recognised
            for key, val, better in (("first", f.first_ts, min), ("last", f.last_ts, max)):
                if val:
                    c[key] = val if c[key] is None else better(c[key], val)
        return cov

    def skipped(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            for k, v in f.skipped.items():
                out[k] = out.get(k, 0) + v
        return out

    def decoded(self) -> dict[str, int]:
        """Files per non-UTF-8 encoding they were decoded from ('UTF-16LE': 2)."""
        out: dict[str, int] = {}
        for f in self.files:
            if f.encoding:
                out[f.encoding] = out.get(f.encoding, 0) + 1
        return out

    def check_lookback(self, lookback_days: int, delay_days: int | None, since: datetime | None,
                       until: datetime | None) -> None:
        """Coverage warnings: files read without any recognised field, raw-text findings, time span."""
        for f in self.files:
            self.warnings += f.warnings()
        if self.zone_matches:
            self.warnings.append(f"{self.zone_matches} findings: {ZONE_NOTE}")
        for fmt, c in self.coverage().items():
            first, last = _dt(c["first"]), _dt(c["last"])
            if not first or not last:
                self.warnings.append(f"{fmt}: no timestamps read, coverage unknown")
                continue
            end = until or last
            start_needed = since or (end - timedelta(days=lookback_days))
            span = (last - first).total_seconds() / 86400
            if first > start_needed + timedelta(hours=1):
                self.warnings.append(
                    f"{fmt}: logs start {_iso(first)}, {((first - start_needed).total_seconds() / 86400):.1f} days after "
                    f"the look-back start {_iso(start_needed)} ({lookback_days} days): contacts before that are not covered")
            if delay_days and span < delay_days:
                self.warnings.append(
                    f"{fmt}: logs cover {span:.1f} days, less than the {delay_days}-day delay before the implant's "
                    f"first C2 call: a host infected in this window may not have called out yet")

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": self.findings,
            "hosts": [h.to_dict() for h in sorted(self.hosts.values(), key=lambda h: (h.first_contact or datetime.max.replace(tzinfo=UTC), h.host))],
            "files": [f.to_dict() for f in self.files],
            "coverage": self.coverage(),
            "skipped": self.skipped(),
            "decoded": self.decoded(),
            "warnings": self.warnings,
            "zone_matches": self.zone_matches,
            "errors": [{"path": f.path, "error": f.error} for f in self.files if f.error],
            "truncated": [{"path": f.path, "reason": f.truncated} for f in self.files if f.truncated],
        }


def find_first_sightings(summary: HuntSummary, options_mapping: dict[str, str], jobs: int = 0) -> None:
    """Second, targeted pass: earliest record of each hit host anywhere in the hunted logs (first_seen)."""
    identities: dict[str, str] = {}
    for key, h in summary.hosts.items():
        for v in (h.source_ips | h.names):
            identities[v.lower()] = key
    if not identities:
        return
    files = [(f.path, f.format) for f in summary.files if not f.error and f.format]
    parts = {f.path: f.sightings for f in summary.files if f.sightings}
    for ident, ts in earliest_sightings(files, set(identities), options_mapping, jobs, parts).items():
        h = summary.hosts[identities[ident]]
        try:
            if h.first_seen is None or ts < h.first_seen:
                h.first_seen = ts
        except TypeError:  # a naive time beside an aware one: the first kept
            continue


Engine = Callable[[Pack, list[str], HuntOptions], Iterator[tuple[FileReport, Iterator[str]]]]


def hunt_to_writer(pack: Pack, paths: list[str], options: HuntOptions, write_line: Callable[[str], None],
                   on_file: Callable[[FileReport], None] | None = None, first_seen: bool = True,
                   summary: HuntSummary | None = None, engine: Engine | None = None) -> HuntSummary:
    """Run a hunt engine (local by default), pass every finding line to write_line, and build
    the summary (added to `summary` when a resumed run brings the earlier files' part)."""
    summary = summary or HuntSummary()
    for report, lines in (engine or run_hunt)(pack, paths, options):
        summary.files.append(report)
        for line in lines:
            write_line(line)
            summary.add_finding(json.loads(line))
        if on_file is not None:
            on_file(report)
    if summary.hosts and first_seen and all(f.format != "table" for f in summary.files):
        find_first_sightings(summary, options.mapping, options.jobs)
    return summary
