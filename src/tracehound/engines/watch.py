"""One poll of `tracehound watch`: sources -> indicator diff -> store re-hunt of what changed -> new findings.

Only new or changed indicators are hunted (the same `hunt_store` query as `hunt --store`); when the
store itself changed since the last poll (logs indexed since), every current indicator is hunted
again, so new logs are covered too. A finding already recorded (same host, observed value and
indicators) is never emitted twice, across polls and runs; the case is also asked, so a lost state
file does not duplicate findings there. A withdrawn indicator (gone from every source, revoked,
expired) marks its earlier findings withdrawn in the state and adds one `indicator-withdrawn` record
per host to the case; nothing is deleted."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracehound.engines.watch_state import WatchState, finding_key, now_iso
from tracehound.findings.ecs import iso_ts
from tracehound.intel.model import Exclusion, Indicator, Pack
from tracehound.intel.sources import Source, SourceError
from tracehound.stores.layout import Store
from tracehound.stores.query import hit_doc, hunt_store

PACK_NAME = "watch"
_SAME = ("type", "value", "confidence", "context")  # what makes an indicator 'changed' (not its source lines)


@dataclass
class SourceReport:
    label: str
    kind: str
    status: str  # changed | unchanged | error | waiting
    error: str = ""
    retry_at: str = ""
    retry_in: float = 0.0
    failures: int = 0
    indicators: int = 0
    fetched: int = 0
    requests: int = 0
    rejected: list[Exclusion] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class PollReport:
    poll: int
    at: str
    sources: list[SourceReport] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    hunted: int = 0
    store_changed: bool = False
    findings: list[dict[str, Any]] = field(default_factory=list)  # new finding documents
    docs: list[dict[str, Any]] = field(default_factory=list)  # findings and withdrawal records, as written
    new_hosts: list[tuple[str, str]] = field(default_factory=list)  # (host, first contact)
    earlier: list[tuple[str, str, str]] = field(default_factory=list)  # (host, new first contact, previous)
    withdrawn_hits: dict[str, list[str]] = field(default_factory=dict)  # indicator key -> hosts marked
    reinstated: int = 0
    dropped: list[tuple[str, int]] = field(default_factory=list)  # sources of earlier runs not given this time
    already_in_case: int = 0
    case_file: str = ""
    indicator_view: dict[str, str] = field(default_factory=dict)  # key -> defanged display

    @property
    def all_failed(self) -> bool:
        return bool(self.sources) and all(s.status in ("error", "waiting") for s in self.sources)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in _SAME)


def store_generation(store: Store) -> str:
    parts = sorted(store.manifest.get("parts") or []) + sorted(store.manifest.get("ledger") or [])
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def poll_sources(sources: list[Source], state: WatchState, interval: float, now: datetime,
                 report: PollReport) -> None:
    for src in sources:
        s = state.source(src.label)
        wait = state.waiting(src.label, now)
        if wait is not None:
            report.sources.append(SourceReport(src.label, src.kind, "waiting", s.get("last_error", ""),
                                               now_iso(wait), (wait - now).total_seconds(), int(s.get("failures", 0)),
                                               len(s.get("indicators") or {})))
            continue
        try:
            got = src.poll(dict(s.get("token") or {}))
        except SourceError as exc:
            delay = state.failed(src.label, str(exc), interval, now)
            report.sources.append(SourceReport(src.label, src.kind, "error", str(exc), s["retry_at"], delay,
                                               int(s["failures"]), len(s.get("indicators") or {})))
            continue
        old = s.get("indicators") or {}
        changed = set(old) != set(got.indicators) or any(not _same(old[k], got.indicators[k]) for k in old)
        state.succeeded(src.label, got.token, got.indicators, now)
        report.sources.append(SourceReport(src.label, src.kind, "changed" if changed else "unchanged",
                                           indicators=len(got.indicators), fetched=got.fetched, requests=got.requests,
                                           rejected=got.rejected, skipped=got.skipped))


def _case_keys(case: Any) -> set[str]:
    if case is None:
        return set()
    rows = case.db.execute("SELECT json_extract(doc, '$.tracehound.watch.key') FROM findings "
                           "WHERE source IN ('store', 'watch')").fetchall()
    return {r[0] for r in rows if r[0]}


def run_poll(store_path: str, sources: list[Source], state: WatchState, *, interval: float = 300.0,
             since: datetime | None = None, until: datetime | None = None, case: Any = None,
             now: datetime | None = None) -> PollReport:
    """Poll every source once, hunt what changed, record it. The state is saved by the caller
    (after the case and output received the new findings)."""
    now = now or datetime.now(UTC)
    report = PollReport(int(state.data.get("polls", 0)) + 1, now_iso(now))
    before = state.indicators()
    host_first, live_before = state.host_first(), state.live_hosts()
    report.dropped = state.forget_others([s.label for s in sources])  # their indicators are withdrawn below
    poll_sources(sources, state, interval, now, report)
    after = state.indicators()
    report.added = sorted(set(after) - set(before))
    report.changed = sorted(k for k in set(after) & set(before) if not _same(after[k], before[k]))
    report.withdrawn = sorted(set(before) - set(after))
    for k in [*report.added, *report.changed, *report.withdrawn]:
        d = after.get(k) or before[k]
        report.indicator_view[k] = Indicator.from_dict(d).display()
    store = Store(store_path)
    generation = store_generation(store)
    report.store_changed = bool(state.data.get("store_generation")) and state.data["store_generation"] != generation
    todo = sorted(after) if report.store_changed else [*report.added, *report.changed]
    docs: list[dict[str, Any]] = []
    if todo:
        docs += _hunt(store, state, {k: after[k] for k in todo}, report, host_first, live_before, since, until, case)
    docs += _withdraw(state, report, before, now)
    report.findings = [d for d in docs if d["tracehound"].get("record") is None]
    state.data["store_generation"] = generation
    state.data["polls"] = report.poll
    report.docs = docs
    return report


def _origin(state: WatchState) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for label, s in state.data["sources"].items():
        for k in s.get("indicators") or {}:
            out.setdefault(k, []).append(label)
    return out


def _hunt(store: Store, state: WatchState, inds: dict[str, dict[str, Any]], report: PollReport,
          host_first: dict[str, datetime], live_before: set[str], since: datetime | None, until: datetime | None,
          case: Any) -> list[dict[str, Any]]:
    pack = Pack(name=PACK_NAME, indicators=[Indicator.from_dict(d) for d in inds.values()])
    report.hunted = len(pack.indicators)
    result = hunt_store(store, pack, since, until)
    in_case = _case_keys(case)
    origin = _origin(state)
    docs: list[dict[str, Any]] = []
    firsts: dict[str, datetime] = {}
    for hit in result.hits:
        keys = sorted({"|".join(m.indicator.key) for m in hit.matches})
        fkey = finding_key(hit.host, hit.kind, hit.value, hit.aux, keys)
        rec = state.findings.get(fkey)
        if hit.first and (hit.host not in firsts or hit.first < firsts[hit.host]):
            firsts[hit.host] = hit.first
        if rec is not None:
            if rec.get("withdrawn"):  # its indicator came back (re-published, a revocation undone)
                rec["withdrawn"] = ""
                report.reinstated += 1
                docs += [_record("indicator-reinstated", hit.host, k, inds[k], [fkey], report)
                         for k in keys if k in inds]
            rec.update(first=iso_ts(hit.first), last=iso_ts(hit.last), count=hit.count)
            continue
        state.findings[fkey] = {"host": hit.host, "kind": hit.kind, "value": hit.value, "indicators": keys,
                                "first": iso_ts(hit.first), "last": iso_ts(hit.last), "count": hit.count,
                                "poll": report.poll, "withdrawn": ""}
        if fkey in in_case:
            report.already_in_case += 1
            continue
        doc = hit_doc(store, hit, PACK_NAME)
        doc["tracehound"]["watch"] = {"key": fkey, "poll": report.poll,
                                      "sources": sorted({lab for k in keys for lab in origin.get(k, [])})}
        docs.append(doc)
    new_hosts = {d["tracehound"]["host"] for d in docs} - live_before
    report.new_hosts = sorted((h, iso_ts(firsts.get(h)) or "-") for h in new_hosts)
    for host, first in sorted(firsts.items()):
        prev = host_first.get(host)
        if host in live_before and prev is not None and first < prev:
            report.earlier.append((host, iso_ts(first) or "", iso_ts(prev) or ""))
    return docs


def _withdraw(state: WatchState, report: PollReport, before: dict[str, dict[str, Any]],
              now: datetime) -> list[dict[str, Any]]:
    gone = set(report.withdrawn)
    if not gone:
        return []
    live = set(state.indicators())
    per_host: dict[tuple[str, str], list[str]] = {}
    for fkey, rec in state.findings.items():
        if rec.get("withdrawn") or not (set(rec["indicators"]) & gone):
            continue
        for k in set(rec["indicators"]) & gone:
            per_host.setdefault((k, rec["host"]), []).append(fkey)
        if not set(rec["indicators"]) & live:  # every indicator it matched is gone
            rec["withdrawn"] = now_iso(now)
    docs = []
    for (k, host), fkeys in sorted(per_host.items()):
        report.withdrawn_hits.setdefault(k, []).append(host)
        docs.append(_record("indicator-withdrawn", host, k, before[k], fkeys, report))
    return docs


def _record(action: str, host: str, key: str, ind: dict[str, Any], fkeys: list[str],
            report: PollReport) -> dict[str, Any]:
    """A case record saying an indicator was withdrawn (or came back) for a host's findings: verdict clean,
    the findings themselves unchanged."""
    view = report.indicator_view.get(key) or Indicator.from_dict(ind).display()
    what = ("withdrawn by its source(s); {n} earlier finding(s) on this host are marked withdrawn (kept, not deleted)"
            if action == "indicator-withdrawn" else "published again; {n} finding(s) on this host are no longer "
            "marked withdrawn")
    return {
        "@timestamp": report.at,
        "event": {"kind": "event", "category": ["threat"], "type": ["indicator"], "module": "tracehound",
                  "dataset": "tracehound.watch", "action": action},
        "message": f"indicator {view} " + what.format(n=len(fkeys)),
        "tracehound": {"source": "watch", "record": action, "host": host, "verdict": "clean",
                       "indicator": {"type": ind.get("type"), "value": ind.get("value")}, "findings": sorted(fkeys),
                       "watch": {"key": finding_key(host, action, key, report.at, fkeys), "poll": report.poll}},
    }


def write_poll(report: PollReport, state: WatchState, case: Any, output: str | None) -> None:
    """New findings and withdrawal records to the case (one input per poll) and the output, then the state."""
    from tracehound.fsutil import atomic_write_text

    docs = report.docs
    text = "".join(json.dumps(d, ensure_ascii=False, separators=(",", ":"), default=str) + "\n" for d in docs)
    folder = state.path.with_name(state.path.name + ".polls")
    if case is not None and (report.added or report.changed or report.withdrawn):
        _case_pack(state, case, folder, report)
    if docs and case is not None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"poll-{report.poll:06d}-{report.at.replace(':', '')}.jsonl"
        atomic_write_text(path, text)
        case.add_file(str(path))
        report.case_file = str(path)
    if docs and output:
        if output == "-":
            import sys

            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            with Path(output).open("a", encoding="utf-8") as fh:
                fh.write(text)
    state.save()


def _case_pack(state: WatchState, case: Any, folder: Path, report: PollReport) -> None:
    """The indicators followed, as the case's `watch` pack (the report quotes the packs its findings name);
    the previous version is taken out of the case first, so the case holds the current one."""
    from tracehound.fsutil import atomic_write_text
    from tracehound.intel.formats import native

    current = state.indicators()
    if not current:
        return
    pack = Pack(name=PACK_NAME, title="Indicators followed by tracehound watch",
                documents=[{"path": label} for label in sorted(state.data["sources"])],
                indicators=[Indicator.from_dict(d) for d in current.values()])
    pack.sorted()
    previous = state.data.get("case_pack", "")
    if previous and any(i["path"] == previous for i in case.ingests()):
        case.remove_input(previous)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pack-{report.poll:06d}.json"
    atomic_write_text(path, native.dumps(pack))
    case.add_file(str(path))
    state.data["case_pack"] = str(path)
