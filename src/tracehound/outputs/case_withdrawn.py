"""Findings of indicators `tracehound watch` later saw withdrawn: kept in the case, not counted in verdicts.

watch appends an `indicator-withdrawn` record (and `indicator-reinstated` when the indicator comes back)
naming the findings (their watch keys) of each host that matched it; a finding every indicator of which
is withdrawn is marked `tracehound.withdrawn` when the case is read."""

from __future__ import annotations

from typing import Any

from tracehound.findings.ecs import matched_indicators


def withdrawals(th: dict[str, Any], gone: dict[str, set[tuple[str, str]]]) -> None:
    """A `watch` record (indicator withdrawn, or published again) applied to the findings it names."""
    record, ind = th.get("record"), th.get("indicator")
    if record not in ("indicator-withdrawn", "indicator-reinstated") or not isinstance(ind, dict):
        return
    pair = (str(ind.get("type") or ""), str(ind.get("value") or ""))
    for key in th.get("findings") or []:
        if record == "indicator-withdrawn":
            gone.setdefault(str(key), set()).add(pair)
        else:
            gone.get(str(key), set()).discard(pair)


def mark_withdrawn(findings: list[dict[str, Any]], gone: dict[str, set[tuple[str, str]]]) -> None:
    """A watch finding every indicator of which was withdrawn (and not published again) no longer counts
    for the verdict: marked `tracehound.withdrawn` (kept in the case and the report, not deleted)."""
    for f in findings:
        th = f.get("tracehound") or {}
        watch = th.get("watch")
        key = str(watch.get("key") or "") if isinstance(watch, dict) else ""
        if not key or not gone.get(key) or th.get("record"):
            continue
        pairs = {(m["type"], m["value"]) for m in matched_indicators(f)}
        if pairs and pairs <= gone[key]:
            th["withdrawn"] = True
