"""Geometry of the report's C2-contact timeline (drawn as inline SVG by the template, no script):
one lane per host in order of first contact, date ticks on a calendar step, one dot per pixel
bucket with an SVG <title> naming the host, the time(s) and the number of contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tracehound.defang import strip_control
from tracehound.outputs.case_store import HostView

MAX_LANES = 100  # beyond this the lanes are unreadable: the rest are counted and left to the host table
WIDTH, LEFT, RIGHT = 900, 180, 20
_STEPS = [timedelta(hours=h) for h in (1, 3, 6, 12)] + [timedelta(days=d) for d in (1, 2, 7, 14, 30, 91, 182, 365)]


def _ts(value: str) -> datetime:
    ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _short(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def ticks(t0: datetime, t1: datetime, most: int = 8) -> tuple[list[datetime], str]:
    """Calendar-aligned tick times between t0 and t1 (at most `most`) and their label format."""
    span = t1 - t0
    step = next((s for s in _STEPS if span / s <= most), _STEPS[-1] * max(1, int(span / _STEPS[-1] / most) + 1))
    day = step >= timedelta(days=1)
    start = t0.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if day:
        start = start.replace(hour=0)
    else:
        start = start.replace(hour=start.hour - start.hour % int(step.total_seconds() // 3600))
    out = []
    t = start
    while t <= t1:
        if t >= t0:
            out.append(t)
        t += step
    if not out:
        out = [t0]
    return out, "%Y-%m-%d" if day else "%m-%d %H:%M"


def timeline_svg(hosts: list[HostView]) -> dict[str, Any]:
    contacted = [(h.host, [c["@timestamp"] for c in h.contacts()]) for h in hosts]
    lanes_all = sorted(((host, sorted(ts)) for host, ts in contacted if ts), key=lambda x: (x[1][0], x[0]))
    if not lanes_all:
        return {"lanes": [], "width": 0, "height": 0, "ticks": [], "more": 0}
    lanes, more = lanes_all[:MAX_LANES], max(0, len(lanes_all) - MAX_LANES)
    times = [_ts(t) for _, ts in lanes for t in ts]
    t0, t1 = min(times), max(times)
    span = max((t1 - t0).total_seconds(), 1.0)
    plot = WIDTH - LEFT - RIGHT
    lane_h = 24 if len(lanes) <= 30 else 14
    top = 34

    def x_of(ts: datetime) -> float:
        return round(LEFT + (ts - t0).total_seconds() / span * plot, 1)

    out = []
    for i, (host, ts) in enumerate(lanes):
        name = strip_control(host)
        buckets: dict[int, list[datetime]] = {}
        for t in ts:
            x = _ts(t)
            buckets.setdefault(int(x_of(x) // 3), []).append(x)
        dots = []
        for group in buckets.values():
            first, last = min(group), max(group)
            title = f"{name}: {_short(first)}" if len(group) == 1 else \
                f"{name}: {len(group)} contacts {_short(first)} → {_short(last)}"
            dots.append({"x": x_of(first), "title": title})
        out.append({"host": name[:28], "y": top + i * lane_h, "dots": dots, "count": len(ts)})
    height = top + len(lanes) * lane_h + 10
    tick_times, fmt = ticks(t0, t1)
    tick_rows = [{"x": x_of(t), "label": t.strftime(fmt)} for t in tick_times]
    return {"lanes": out, "width": WIDTH, "height": height, "left": LEFT, "top": top, "ticks": tick_rows,
            "start": _short(t0), "end": _short(t1), "more": more, "r": 4 if lane_h > 14 else 3}
