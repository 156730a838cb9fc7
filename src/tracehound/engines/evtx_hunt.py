"""Hunt one Windows EVTX file: every record's observations through the matcher (coverage from
every record's time); a candidate record with no matching observation is checked on its raw text."""

from __future__ import annotations

from tracehound.engines.finding_doc import finding_doc, raw_finding
from tracehound.engines.hunt_types import FileReport, HuntOptions
from tracehound.engines.text_hunt import Emit, _values, observation_matches
from tracehound.findings.ecs import iso_ts
from tracehound.matching.matcher import Matcher
from tracehound.matching.prefilter import Prefilter
from tracehound.matching.raw import raw_check_needed, raw_matches
from tracehound.sources.logs.evtx_source import iter_evtx
from tracehound.sources.logs.stream import ReadStats


def hunt_evtx(path: str, matcher: Matcher, prefilter: Prefilter, options: HuntOptions, pack_name: str,
              stats: ReadStats, report: FileReport, emit: Emit) -> None:
    for rec in iter_evtx(path, stats, None):
        for obs in rec.observations:
            report.add_time(iso_ts(obs.ts))
        if not prefilter.any_in(rec.raw.lower()):
            continue
        report.candidates += 1
        for obs in rec.observations:
            obs.record_id = rec.record_id
        in_window, hits = observation_matches(rec.observations, matcher, options, stats)
        for obs, matches in hits:
            emit(finding_doc(obs, matches, rec.raw, path, rec.number, None, "evtx", pack_name))
        matched = bool(hits)
        if matched or (rec.observations and not in_window):
            continue
        covered = [v for o in in_window for v in _values(o)]
        if in_window and not raw_check_needed(rec.raw, in_window, covered, matcher, prefilter):
            continue
        raw = raw_matches(rec.raw, matcher, covered)
        if raw:
            report.raw_matches += 1
            doc = raw_finding(in_window[0] if in_window else None, raw, rec.raw, path, rec.number, None, "evtx",
                              pack_name)
            emit(doc)
