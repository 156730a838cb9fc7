"""Browser history (the infostealer's targets): Chrome, Edge, Brave, Chromium and Firefox.

The database is copied to a private temporary file (never opened in place: SQLite would
create journal files next to the evidence) and queried read-only.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from tracehound.sweep.reading_glue import copy_evidence

CHROMIUM_MARKERS = ("chrome", "chromium", "edge", "brave", "opera", "vivaldi")
MAX_HISTORY = 512 * 1024 * 1024


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


def history_urls(path: str, browser: str) -> Iterator[tuple[str, datetime | None, int]]:
    """(url, last visit, visit count) rows; raises sqlite3.Error / OSError on unreadable files."""
    fd, tmp = tempfile.mkstemp(prefix="th-history-", suffix=".sqlite")
    os.close(fd)
    try:
        copy_evidence(path, tmp, MAX_HISTORY)
        con = sqlite3.connect(f"file:{tmp}?mode=ro&immutable=1", uri=True)
        # One URL with invalid UTF-8 (found by fuzzing) must not stop the read of the other rows.
        con.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
        try:
            query = ("SELECT url, last_visit_date, visit_count FROM moz_places" if browser == "firefox"
                     else "SELECT url, last_visit_time, visit_count FROM urls")
            when = _firefox_time if browser == "firefox" else _chrome_time
            try:
                rows = con.execute(query)
            except UnicodeDecodeError as exc:  # column names from a corrupted schema (found by fuzzing)
                raise sqlite3.DatabaseError(f"corrupted schema: {exc}") from exc
            for url, last, count in rows:
                yield str(url), when(last), _int(count)
        finally:
            con.close()
    finally:
        os.unlink(tmp)
