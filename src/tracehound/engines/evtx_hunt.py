"""Hunt one Windows EVTX file: every record's observations through the matcher (coverage from
every record's time); a candidate record with no matching observation is checked on its raw text.
Each record is decoded once: a companion pass (the Sigma rules) gets the same decoded event."""

from __future__ import annotations

from tracehound.engines.finding_doc import finding_doc, raw_finding
from tracehound.engines.hunt_types import EventPass, FileReport, HuntOptions
from tracehound.engines.text_hunt import Emit, _values, observation_matches
from tracehound.findings.ecs import iso_ts
from tracehound.matching.matcher import Matcher
from tracehound.matching.prefilter import Prefilter
from tracehound.matching.raw import raw_check_needed, raw_matches
from tracehound.sources.logs.evtx_source import iter_evtx_events, record_observations
from tracehound.sources.logs.observation import Observation
from tracehound.sources.logs.stream import ReadStats


def hunt_evtx(path: str, matcher: Matcher, prefilter: Prefilter, options: HuntOptions, pack_name: str,
              stats: ReadStats, report: FileReport, emit: Emit, companion: EventPass | None = None) -> object:
    """The indicator hunt of one EVTX file; returns the companion's result (None without one)."""
    window = ReadStats()  # the indicator hunt's own skips, kept apart from the read's (the companion's too)
    try:
        for number, raw, event in iter_evtx_events(path, stats, None):
            if companion is not None:
                companion.event(number, raw, event)
            observations, _computer, _eid, record_id, _image = record_observations(event)
            _hunt_record(path, number, raw, observations, record_id, matcher, prefilter, options, pack_name, window,
                         report, emit)
        return companion.finish(stats) if companion is not None else None
    finally:
        for reason, n in window.skipped.items():
            stats.skip(reason, n)


def _hunt_record(path: str, number: int, raw_text: str, observations: list[Observation],
                 record_id: int | None, matcher: Matcher, prefilter: Prefilter, options: HuntOptions, pack_name: str,
                 stats: ReadStats, report: FileReport, emit: Emit) -> None:
    for obs in observations:
        report.add_time(iso_ts(obs.ts))
    if not prefilter.any_in(raw_text.lower()):
        return
    report.candidates += 1
    for obs in observations:
        obs.record_id = record_id
    in_window, hits = observation_matches(observations, matcher, options, stats)
    for obs, matches in hits:
        emit(finding_doc(obs, matches, raw_text, path, number, None, "evtx", pack_name))
    if hits or (observations and not in_window):
        return
    covered = [v for o in in_window for v in _values(o)]
    if in_window and not raw_check_needed(raw_text, in_window, covered, matcher, prefilter):
        return
    raw = raw_matches(raw_text, matcher, covered)
    if raw:
        report.raw_matches += 1
        emit(raw_finding(in_window[0] if in_window else None, raw, raw_text, path, number, None, "evtx", pack_name))
