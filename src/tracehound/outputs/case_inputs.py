"""Reading the files `case add` ingests: findings (JSON Lines), a single JSON document (hunt
summary) and address leases (CSV). Untrusted input: every unreadable line is reported, not raised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracehound import safejson
from tracehound.errors import InputError

MAX_LINE = 64 * 1024 * 1024
LEASE_COLUMNS = {
    "ip": ("ip", "ip address", "ipaddress", "address", "client ip"),
    "host": ("host", "hostname", "host name", "client name", "name", "computer"),
    "start": ("start", "starts", "lease start", "from", "begin", "assigned"),
    "end": ("end", "ends", "lease end", "expires", "expiry", "to", "until"),
}


def read_leases(path: Path) -> Iterator[tuple[str, str, str, str] | None]:
    """(ip, host, start, end) per lease row, None for a row that cannot be read (counted by the caller)."""
    import csv

    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader)]
        col = {k: next(i for i, h in enumerate(header) if h in names) for k, names in LEASE_COLUMNS.items()}
        for row in reader:
            try:
                ip, host = row[col["ip"]].strip(), row[col["host"]].strip()
                start, end = utc_iso(row[col["start"]]), utc_iso(row[col["end"]])
            except (IndexError, ValueError):
                yield None
                continue
            yield (ip.lower(), host, start, end) if ip and host else None


def read_docs(path: Path) -> Iterator[tuple[int, dict[str, Any], str]]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        first = fh.read(1)
        fh.seek(0)
        if first == "{" and path.suffix == ".json":
            try:
                doc = safejson.loads(fh.read())
            except ValueError as exc:
                raise InputError(f"invalid JSON: {exc}", path=str(path)) from exc
            yield 1, doc, ""
            return
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if len(line) > MAX_LINE:
                yield n, {}, "line too long"
                continue
            try:
                doc = safejson.loads(line)
            except ValueError:
                yield n, {}, "not JSON"
                continue
            if not isinstance(doc, dict):
                yield n, {}, "not an object"
                continue
            yield n, doc, ""


def utc_iso(value: str) -> str:
    """Timestamps compared as text must share one form: UTC, seconds, 'Z'."""
    v = value.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_lease_file(path: Path) -> bool:
    """A CSV whose header names an IP, a host and a start and end time."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            header = [h.strip().lower() for h in fh.readline().split(",")]
    except OSError:
        return False
    return all(any(h in names for h in header) for names in LEASE_COLUMNS.values())
