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
from datetime import UTC, datetime
from functools import lru_cache

from tracehound.matching.normalize import norm_domain, norm_ip, norm_url
from tracehound.sources.logs.observation import Observation

DOMAIN_KINDS = ("dns", "http", "tls", "connect", "host")
UNDATED = "undated"  # day of a record without a time
Key = tuple[str, str, str, str, str]  # day, kind, value, client, aux


@dataclass
class Agg:
    first: datetime | None
    last: datetime | None
    count: int
    file_id: int
    line: int
    offset: int


@dataclass
class LedgerDay:
    records: int = 0
    errors: int = 0
    first: datetime | None = None
    last: datetime | None = None


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
def _day(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


def obs_entries(obs: Observation) -> list[tuple[str, str, str, str]]:
    """(kind, value, client, aux) of one observation, each field once."""
    client = obs.src_host or obs.src_ip or obs.user or "unknown"
    out: list[tuple[str, str, str, str]] = []
    if obs.url:
        host, path = norm_url(obs.url)
        if host:
            out.append(("url", host, client, path))
    lit = ""
    if obs.domain:
        lit = _ip(obs.domain) if obs.domain[:1].isdigit() else ""
        if not lit:
            name = norm_domain(obs.domain)
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
        v = _ip(a) or norm_domain(a)
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
    rows: dict[Key, Agg] = field(default_factory=dict)
    ledger: dict[tuple[int, str], LedgerDay] = field(default_factory=dict)

    def add_record(self, file_id: int, line: int, offset: int, observations: list[Observation],
                   error: str | None) -> None:
        if error is not None or not observations:
            day_key = (file_id, UNDATED)
            led = self.ledger.setdefault(day_key, LedgerDay())
            led.records += 1
            led.errors += 1 if error is not None else 0
            return
        days: set[str] = set()
        for obs in observations:
            ts = _utc(obs.ts)
            day = _day(ts.year, ts.month, ts.day) if ts else UNDATED
            if day not in days:
                days.add(day)
                led = self.ledger.setdefault((file_id, day), LedgerDay())
                led.records += 1
                if ts is not None:
                    led.first = ts if led.first is None or ts < led.first else led.first
                    led.last = ts if led.last is None or ts > led.last else led.last
            for kind, value, client, aux in obs_entries(obs):
                key = (day, kind, value, client, aux)
                agg = self.rows.get(key)
                if agg is None:
                    self.rows[key] = Agg(ts, ts, 1, file_id, line, offset)
                    continue
                agg.count += 1
                if ts is not None:
                    if agg.first is None or ts < agg.first:
                        agg.first, agg.file_id, agg.line, agg.offset = ts, file_id, line, offset
                    if agg.last is None or ts > agg.last:
                        agg.last = ts
