"""Store rows from observations: one row per (day, kind, value, client, aux), with first/last
time, count and the earliest example (file, line, offset); a coverage ledger per file and day.

Kinds (what field of the observation the value came from, so the hunt can rebuild the field the
raw hunt would report):
  dns, http, tls, connect, host — the destination name (DNS query, Host header, SNI, CONNECT target,
      other), normalized like the matcher (lowercase, no trailing dot, no port);
  url — value the URL's host (with a non-default port), aux its percent-decoded path and query;
  ip — destination address, client as for names (also what an inbound match from the client reads);
  iplit — a destination name that is an IP literal other than the destination address;
  src — a source address the `ip` row cannot stand for (a record with a source name or no
      destination), client the host the raw hunt names for an inbound contact;
  answer — a DNS answer (address or name), aux the record's answers when it has several;
  hash, cert, x509 — file hash / TLS certificate / other certificate, aux the algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from tracehound.matching.normalize import norm_domain, norm_ip, norm_url
from tracehound.sources.logs.observation import Observation

DOMAIN_KINDS = ("dns", "http", "tls", "connect", "host")
UNDATED = "undated"  # day of a record without a time
Key = tuple[str, str, str, str, str]  # day, kind, value, client, aux


# An aggregated row: [first, last, count, file_id, line, offset] (a list, not an object: one per row, millions)
Agg = list
# A ledger day: [records, errors, first, last]
LedgerDay = list


def _utc(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    if ts.tzinfo is UTC:
        return ts
    return ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)


@lru_cache(maxsize=1 << 16)
def _ip(value: str) -> str:
    """norm_ip, cached: a log repeats the same few thousand addresses."""
    return norm_ip(value) if value else ""


@lru_cache(maxsize=1 << 12)
def _day(d: date) -> str:
    return d.isoformat()


@lru_cache(maxsize=1 << 16)
def _url(value: str) -> tuple[str, str]:
    """norm_url, cached: the same URLs come back (a page's resources, polling clients)."""
    return norm_url(value)


@lru_cache(maxsize=1 << 16)
def _name(value: str) -> str:
    return norm_domain(value)


def obs_entries(obs: Observation) -> list[tuple[str, str, str, str]]:
    """(kind, value, client, aux) of one observation, each field once."""
    client = obs.src_host or obs.src_ip or obs.user or "unknown"
    out: list[tuple[str, str, str, str]] = []
    if obs.url:
        host, path = _url(obs.url)
        if host:
            out.append(("url", host, client, path))
    lit = ""
    if obs.domain:
        lit = _ip(obs.domain) if obs.domain[:1].isdigit() else ""
        if not lit:
            name = _name(obs.domain)
            if name:
                out.append((obs.kind if obs.kind in DOMAIN_KINDS else "host", name, client, ""))
    dst = _ip(obs.dst_ip)
    if dst:
        out.append(("ip", dst, client, ""))
    if lit and lit != dst:
        out.append(("iplit", lit, client, ""))
    src = _ip(obs.src_ip)
    if src and (obs.src_host or not dst):
        # An inbound contact names our end: the destination, else the source host name. When the record
        # has a destination and no source name, the `ip` row (client = the source address) says it already.
        out.append(("src", src, obs.dst_ip or obs.src_host or "unknown", ""))
    answers: list[str] = []
    for a in obs.answers:
        v = _ip(a) or _name(a)
        if v and v not in answers:
            answers.append(v)
    # Several answers: each row keeps the record's list, so the hunt counts an indicator once per record
    # (as the matcher does), not once per answer under it.
    together = "\t".join(answers) if len(answers) > 1 else ""
    out += [("answer", v, client, together) for v in answers]
    for algo, h in obs.hashes.items():
        if h:
            out.append(("hash", h.lower(), client, algo))
    for algo, h in obs.cert_hashes.items():
        if h:
            out.append(("cert" if obs.kind == "tls" else "x509", h.lower(), client, algo))
    return out


@dataclass
class Aggregator:
    rows: dict[Key, list[Any]] = field(default_factory=dict)
    ledger: dict[tuple[int, str], list[Any]] = field(default_factory=dict)

    def add_record(self, file_id: int, line: int, offset: int, observations: list[Observation],
                   error: str | None) -> None:
        ledger = self.ledger
        if error is not None or not observations:
            led = ledger.get((file_id, UNDATED))
            if led is None:
                led = ledger[(file_id, UNDATED)] = [0, 0, None, None]
            led[0] += 1
            led[1] += 1 if error is not None else 0
            return
        rows = self.rows
        days: list[str] = []
        for obs in observations:
            ts = obs.ts
            if ts is not None and ts.tzinfo is not UTC:
                ts = _utc(ts)
            day = _day(ts.date()) if ts is not None else UNDATED
            if day not in days:
                days.append(day)
                led = ledger.get((file_id, day))
                if led is None:
                    led = ledger[(file_id, day)] = [0, 0, ts, ts]
                led[0] += 1
                if ts is not None:
                    if led[2] is None or ts < led[2]:
                        led[2] = ts
                    if led[3] is None or ts > led[3]:
                        led[3] = ts
            for kind, value, client, aux in obs_entries(obs):
                key = (day, kind, value, client, aux)
                agg = rows.get(key)
                if agg is None:
                    rows[key] = [ts, ts, 1, file_id, line, offset]
                    continue
                agg[2] += 1
                if ts is not None:
                    first = agg[0]
                    if first is None or ts < first:
                        agg[0], agg[3], agg[4], agg[5] = ts, file_id, line, offset
                    if agg[1] is None or ts > agg[1]:
                        agg[1] = ts
