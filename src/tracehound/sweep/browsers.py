"""Browser history (the infostealer's targets): Chrome, Edge, Brave, Chromium and Firefox.

The database is copied through the safe reader to a private temporary file (never opened in
place: SQLite would create journal files next to the evidence) and queried read-only. A
hostile file cannot stall the sweep: only a real table is queried (a `urls` view with WITH
RECURSIVE is refused), at most MAX_ROWS rows are read, and a progress handler stops any query
after TIME_LIMIT seconds; each refusal is raised as HistoryLimit, so the caller counts it.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
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


def history_urls(path: str | Entry, browser: str) -> Iterator[tuple[str, datetime | None, int]]:
    """(url, last visit, visit count) rows; raises sqlite3.Error / OSError on unreadable files and
    HistoryLimit (after the rows read so far) at MAX_ROWS or TIME_LIMIT seconds."""
    fd, tmp = tempfile.mkstemp(prefix="th-history-", suffix=".sqlite")
    os.close(fd)
    try:
        copy_evidence(path, tmp, MAX_HISTORY)
        con = sqlite3.connect(f"file:{tmp}?mode=ro&immutable=1", uri=True)
        # One URL with invalid UTF-8 (found by fuzzing) must not stop the read of the other rows.
        con.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
        deadline = time.monotonic() + TIME_LIMIT
        con.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
        con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE)
        try:
            con.execute("PRAGMA trusted_schema = OFF")
            table = "moz_places" if browser == "firefox" else "urls"
            query = (f"SELECT url, last_visit_date, visit_count FROM {table}" if browser == "firefox"
                     else f"SELECT url, last_visit_time, visit_count FROM {table}")
            when = _firefox_time if browser == "firefox" else _chrome_time
            n = 0
            try:
                _table_ok(con, table)
                rows = con.execute(query)
                for url, last, count in rows:
                    n += 1
                    if n > MAX_ROWS:
                        raise HistoryLimit("stopped at the row cap", f"more than {MAX_ROWS} rows: the rest not read")
                    if n % 1024 == 0 and time.monotonic() > deadline:  # the progress handler runs inside one step only
                        raise sqlite3.OperationalError("interrupted")
                    yield str(url), when(last), _int(count)
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
        os.unlink(tmp)
