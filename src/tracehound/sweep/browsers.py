"""Browser history (the infostealer's targets): Chrome, Edge, Brave, Chromium, Firefox and Safari
(`~/Library/Safari/History.db`: `history_items` with their latest `history_visits`).

The database is copied through the safe reader to a private temporary folder together with its
`-wal` and `-journal` siblings (never opened in place: SQLite would create or replay journal
files next to the evidence), so the copy reads as the browser left it: a visit still in
`places.sqlite-wal` (Firefox running, or a triage copy taken while it ran) is read, a hot
rollback journal is rolled back on the copy. A hostile file cannot stall the sweep: only a real
table is queried (a `urls` view with WITH RECURSIVE is refused), at most MAX_ROWS rows are read,
and a progress handler stops any query after TIME_LIMIT seconds; each refusal is raised as
HistoryLimit, so the caller counts it. Chromium's download history (`downloads`,
`downloads_url_chains`) is read the same way; Firefox records a download's source as a place,
so `moz_places` covers it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from tracehound.sources.hosts.walk import Entry
from tracehound.sweep.reading_glue import copy_evidence

CHROMIUM_MARKERS = ("chrome", "chromium", "edge", "brave", "opera", "vivaldi")
MAX_HISTORY = 512 * 1024 * 1024
MAX_ROWS = 2_000_000  # Chrome keeps 90 days (about 100k URLs); Firefox places rarely pass 500k
TIME_LIMIT = 60.0  # seconds per history, SQL and matching together
PROGRESS_STEPS = 10_000  # SQLite VM steps between two checks of the clock
MAX_VALUE = 32 * 1024 * 1024  # longest string or row SQLite may build (Chrome caps URLs at 2 MB)


def browser_of(rel_path: str) -> str:
    p = rel_path.lower()
    name = os.path.basename(p)
    if name == "places.sqlite" and "firefox" in p or name == "places.sqlite" and "mozilla" in p:
        return "firefox"
    if name == "history.db" and "/library/safari/" in "/" + p:
        return "safari"
    if name == "history":
        for m in CHROMIUM_MARKERS:
            if m in p:
                return m
    return ""


def _chrome_time(v: int | None) -> datetime | None:
    if not v:
        return None
    try:
        return datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(v))
    except (OverflowError, ValueError, TypeError):
        return None


def _safari_time(v: float | None) -> datetime | None:
    """Core Data time: seconds since 2001-01-01 UTC (a REAL)."""
    if not v:
        return None
    try:
        return datetime(2001, 1, 1, tzinfo=UTC) + timedelta(seconds=float(v))
    except (OverflowError, ValueError, TypeError):
        return None


def _firefox_time(v: int | None) -> datetime | None:
    if not v:
        return None
    try:
        return datetime.fromtimestamp(int(v) / 1_000_000, tz=UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _int(value: object) -> int:
    try:
        return int(value or 0)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


class HistoryLimit(sqlite3.DatabaseError):
    """A history refused (the table is a view or virtual) or stopped at the time or row limit."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def _table_ok(con: sqlite3.Connection, table: str) -> None:
    """Only a plain real table is queried: a view (WITH RECURSIVE: runs for ever), a virtual table
    (any module) or generated columns would run the evidence's own SQL at read time."""
    rows = con.execute("SELECT type, sql FROM sqlite_master WHERE name = ? COLLATE NOCASE", (table,)).fetchall()
    if not rows:
        raise sqlite3.DatabaseError(f"no {table} table")
    kinds = sorted({str(k) for k, _sql in rows})
    if len(rows) > 1 or kinds != ["table"]:
        raise HistoryLimit(f"refused ({table} is not a table)",
                           f"{table} is {' and '.join(kinds)} ({len(rows)} schema entries), not one table: not queried")
    if str(rows[0][1] or "").lstrip().upper().startswith("CREATE VIRTUAL"):
        raise HistoryLimit(f"refused ({table} is not a table)", f"{table} is a virtual table: not queried")
    if any(int(col[6] or 0) in (2, 3) for col in con.execute(f"PRAGMA table_xinfo({table})")):
        raise HistoryLimit(f"refused ({table} is not a table)", f"{table} has generated columns: not queried")


SIBLINGS = ("-wal", "-journal")  # SQLite's write-ahead log and rollback journal, beside the database


@dataclass
class Record:
    kind: str  # "visit" or "download"
    url: str
    when: datetime | None
    count: int  # visits (1 for a download)
    target: str = ""  # a download's file on disk


def _sibling(src: str | Entry, suffix: str) -> str | Entry:
    if isinstance(src, Entry):  # opened from the sweep root one component at a time, as the database
        member = {"member": src.member + suffix} if getattr(src, "member", "") else {}  # type: ignore[attr-defined]
        return replace(src, path=src.path + suffix, rel=src.rel + suffix, size=0, mtime=0.0, dev=0, ino=0,
                       root=src.base(), **member)
    return str(src) + suffix


def copy_with_siblings(src: str | Entry, folder: str, name: str, max_bytes: int) -> list[str]:
    """Copy a SQLite database and its -wal/-journal siblings into folder; the suffixes copied."""
    copy_evidence(src, os.path.join(folder, name), max_bytes)
    found = []
    for suffix in SIBLINGS:
        try:
            copy_evidence(_sibling(src, suffix), os.path.join(folder, name + suffix), max_bytes)
        except FileNotFoundError:
            continue
        found.append(suffix)
    return found


def history_urls(path: str | Entry, browser: str) -> Iterator[tuple[str, datetime | None, int]]:
    """(url, last visit, visit count) rows of the visits (see history_records)."""
    for r in history_records(path, browser):
        if r.kind == "visit":
            yield r.url, r.when, r.count


def history_records(path: str | Entry, browser: str) -> Iterator[Record]:
    """Visits, then (Chromium) downloads; raises sqlite3.Error / OSError on unreadable files and
    HistoryLimit (after the rows read so far) at MAX_ROWS or TIME_LIMIT seconds."""
    folder = tempfile.mkdtemp(prefix="th-history-")
    try:
        copy_with_siblings(path, folder, "history.sqlite", MAX_HISTORY)
        # Read-write on the private copy only: SQLite applies the WAL and rolls back a hot journal.
        con = sqlite3.connect(f"file:{os.path.join(folder, 'history.sqlite')}?mode=rw", uri=True)
        # One URL with invalid UTF-8 (found by fuzzing) must not stop the read of the other rows.
        con.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
        deadline = time.monotonic() + TIME_LIMIT
        con.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
        con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE)
        try:
            con.execute("PRAGMA trusted_schema = OFF")
            table = {"firefox": "moz_places", "safari": "history_items"}.get(browser, "urls")
            query = {"firefox": f"SELECT url, last_visit_date, visit_count FROM {table}",
                     # Safari: the latest visit of each item from history_visits (Core Data seconds)
                     "safari": "SELECT i.url, (SELECT MAX(v.visit_time) FROM history_visits v WHERE v.history_item "
                               "= i.id), i.visit_count FROM history_items i"}.get(
                browser, f"SELECT url, last_visit_time, visit_count FROM {table}")
            when = {"firefox": _firefox_time, "safari": _safari_time}.get(browser, _chrome_time)
            n = 0
            try:
                _table_ok(con, table)
                if browser == "safari":
                    _table_ok(con, "history_visits")
                rows = con.execute(query)
                for url, last, count in rows:
                    n += 1
                    if n > MAX_ROWS:
                        raise HistoryLimit("stopped at the row cap", f"more than {MAX_ROWS} rows: the rest not read")
                    if n % 1024 == 0 and time.monotonic() > deadline:  # the progress handler runs inside one step only
                        raise sqlite3.OperationalError("interrupted")
                    yield Record("visit", str(url), when(last), _int(count))
                if browser not in ("firefox", "safari"):
                    for rec in _chromium_downloads(con, deadline):
                        n += 1
                        if n > MAX_ROWS:
                            raise HistoryLimit("stopped at the row cap", f"more than {MAX_ROWS} rows: the rest not read")
                        yield rec
            except UnicodeDecodeError as exc:  # column names from a corrupted schema (found by fuzzing)
                raise sqlite3.DatabaseError(f"corrupted schema: {exc}") from exc
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise HistoryLimit("stopped at the time limit",
                                       f"query stopped after {TIME_LIMIT:g} s (time limit), {n} rows read") from None
                raise
        finally:
            con.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _chromium_downloads(con: sqlite3.Connection, deadline: float) -> Iterator[Record]:
    """Chromium downloads: every URL of each download's redirect chain, its tab and referrer pages."""
    names = {str(r[0]).lower() for r in con.execute("SELECT name FROM sqlite_master")}
    if "downloads" not in names:
        return  # older or stripped profiles: visits only
    _table_ok(con, "downloads")
    cols = {str(c[1]).lower() for c in con.execute("PRAGMA table_info(downloads)")}
    target = "target_path" if "target_path" in cols else "''"
    pages = [c for c in ("tab_url", "referrer", "site_url") if c in cols]
    extra = "".join(f", {c}" for c in pages)
    chains: dict[int, list[str]] = {}
    if "downloads_url_chains" in names:
        _table_ok(con, "downloads_url_chains")
        for did, url in con.execute("SELECT id, url FROM downloads_url_chains ORDER BY id, chain_index"):
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("interrupted")
            chains.setdefault(_int(did), []).append(str(url))
    start = "start_time" if "start_time" in cols else "0"
    for row in con.execute(f"SELECT id, {target}, {start}{extra} FROM downloads"):
        did, path, started = _int(row[0]), str(row[1] or ""), _chrome_time(row[2])
        urls = chains.get(did, []) + [str(u) for u in row[3:] if u]
        for url in dict.fromkeys(urls):
            yield Record("download", url, started, 1, path)
