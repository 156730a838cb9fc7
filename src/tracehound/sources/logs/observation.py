"""The normalized observation every reader produces and the matcher consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


class RecordError(ValueError):
    """A record that does not parse in its format (counted per reason, never fatal)."""


@dataclass(slots=True)
class Observation:
    ts: datetime | None = None
    kind: str = ""  # dns, http, connect, tls, flow, file, x509, process
    src_ip: str = ""
    src_host: str = ""
    user: str = ""
    domain: str = ""  # destination host name: DNS query, SNI, Host header, CONNECT target
    dst_ip: str = ""
    dst_port: int | None = None
    url: str = ""
    method: str = ""
    answers: list[str] = field(default_factory=list)  # DNS answers: addresses or names
    hashes: dict[str, str] = field(default_factory=dict)  # md5/sha1/sha256 -> hex
    cert_hashes: dict[str, str] = field(default_factory=dict)  # sha1/sha256 -> hex
    action: str = ""
    process: str = ""
    record_id: int | None = None  # EVTX record number


def epoch(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError("bad epoch timestamp") from exc


def iso(value: str) -> datetime:
    v = value.strip().replace("Z", "+00:00")
    if len(v) >= 5 and v[-5] in "+-" and v[-4:].isdigit() and v[-3] != ":":
        v = v[:-2] + ":" + v[-2:]  # -0400 -> -04:00
    try:
        dt = datetime.fromisoformat(v)
    except ValueError as exc:
        raise RecordError(f"bad timestamp {value[:40]!r}") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def host_of(value: str) -> str:
    """Host name from 'host', 'host:port', '[v6]:port'; lowercase, no trailing dot."""
    v = value.strip().lower()
    if v.startswith("["):
        return v[1:].split("]", 1)[0]
    if v.count(":") == 1:
        v = v.split(":", 1)[0]
    return v.rstrip(".")


def clean(value: str | None) -> str:
    """Zeek/Squid/W3C placeholders for 'no value' become the empty string."""
    if value is None:
        return ""
    v = value.strip()
    return "" if v in ("-", "(empty)", "", "null", "None") else v
