"""Helpers for the store tests: index, hunt the store, and the raw hunt's (host, indicator) set."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from huntutil import hunt
from tracehound.findings.ecs import iso_ts, matched_indicators
from tracehound.intel.model import Pack
from tracehound.stores.ingest import FileResult, IndexOptions, index_paths
from tracehound.stores.layout import Store
from tracehound.stores.query import hunt_store

Table = dict[tuple[str, str], tuple[datetime | None, datetime | None, int]]


def fixture_logs(base: Path) -> list[str]:
    """Every fixture log format, one file each under `base` (created): the paths."""
    from logfixtures import FORMATS

    base.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in FORMATS.items():
        f = base / f"{name}.log"
        f.write_text(make()[0])
        paths.append(str(f))
    return paths


def index(store: Path, paths: list[str]) -> list[FileResult]:
    return index_paths(Store(str(store), create=True), paths, IndexOptions())


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v.replace("Z", "+00:00")) if v else None


def _add(out: dict[tuple[str, str], list[Any]], key: tuple[str, str], first_s: str | None, last_s: str | None,
         n: int) -> None:
    """Times compared as times (ISO strings with and without fractions do not sort as text)."""
    first, last = _dt(first_s), _dt(last_s)
    a = out.setdefault(key, [None, None, 0])
    a[2] += n
    if first and (a[0] is None or first < a[0]):
        a[0] = first
    if last and (a[1] is None or last > a[1]):
        a[1] = last


def raw_table(pack: Pack, paths: list[str]) -> tuple[Table, int]:
    """(host, indicator) -> (first, last, count) from the raw hunt; and its raw-text findings (not in a store)."""
    docs, _ = hunt(pack, paths, jobs=1)
    out: dict[tuple[str, str], list[Any]] = {}
    raw = 0
    for d in docs:
        if d["tracehound"].get("match") == "raw":
            raw += 1
            continue
        for m in matched_indicators(d):
            _add(out, (d["tracehound"]["host"], m["value"]), d.get("@timestamp"), d.get("@timestamp"), 1)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}, raw


def store_table(store: Path, pack: Pack, **kw: Any) -> Table:
    out: dict[tuple[str, str], list[Any]] = {}
    for h in hunt_store(Store(str(store)), pack, **kw).hits:
        for m in h.matches:
            _add(out, (h.host, m.indicator.value), iso_ts(h.first), iso_ts(h.last), h.count)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}
