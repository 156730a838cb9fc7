"""Timestamps without a year (syslog) get the year that puts them closest before the file's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracehound.sources.logs.observation import RecordError


def syslog_time(text: str, ref: datetime | None) -> datetime:
    """'Mar 30 10:15:22' -> datetime in UTC, year from ref (the file's modification time)."""
    ref = ref or datetime.now(UTC)
    try:
        dt = datetime.strptime(f"{ref.year} {' '.join(text.split())}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise RecordError(f"bad syslog timestamp {text[:20]!r}") from exc
    if dt > ref + timedelta(days=2):
        dt = dt.replace(year=dt.year - 1)
    return dt
