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
    except (OverflowError, ValueError):
        return None


def _firefox_time(v: int | None) -> datetime | None:
    if not v:
        return None
    try:
        return datetime.fromtimestamp(int(v) / 1_000_000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


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
            if browser == "firefox":
                rows = con.execute("SELECT url, last_visit_date, visit_count FROM moz_places")
                for url, last, count in rows:
                    yield str(url), _firefox_time(last), int(count or 0)
            else:
                rows = con.execute("SELECT url, last_visit_time, visit_count FROM urls")
                for url, last, count in rows:
                    yield str(url), _chrome_time(last), int(count or 0)
        finally:
            con.close()
    finally:
        os.unlink(tmp)
