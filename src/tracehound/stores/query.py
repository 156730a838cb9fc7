"""`hunt --store`: a pack against the store, with the raw hunt's matching semantics.

DuckDB narrows the rows to candidates (names ending with an indicator's last two or three labels, URL hosts,
addresses equal or inside a CIDR, hashes); each candidate is then confirmed in Python by the
same Matcher the raw hunt uses (label-boundary suffixes, CIDRs, segment-boundary URL paths), so
the store answers what the hunt would have answered. Findings are one per (kind, value, client,
extra) over the period asked, with first/last contact and the count of observations."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from tracehound.engines.finding_doc import finding_doc
from tracehound.errors import InputError
from tracehound.findings.ecs import VERDICT_ORDER, iso_ts, matched_indicators, put
from tracehound.intel.model import Pack
from tracehound.matching.matcher import Match, Matcher
from tracehound.matching.normalize import norm_domain, norm_ip, path_prefix_match
from tracehound.sources.logs.observation import Observation
from tracehound.stores.evidence import fetch_line
from tracehound.stores.key_join import (
    SMALL,
    held_condition,
    in_list,
    key_conditions,
    key_files,
    lit,
    side_conditions,
)
from tracehound.stores.layout import Store
from tracehound.stores.rows import DOMAIN_KINDS, UNDATED

_SELECT = """
SELECT kind, value, client, aux, min("first") AS f, max("last") AS l, sum("count") AS n,
       arg_min(file_id, coalesce("first", TIMESTAMPTZ '9999-01-01')) AS fid,
       arg_min(line, coalesce("first", TIMESTAMPTZ '9999-01-01')) AS ln,
       arg_min("offset", coalesce("first", TIMESTAMPTZ '9999-01-01')) AS off
FROM obs WHERE ({window}) AND ({conds})
GROUP BY kind, value, client, aux
"""


def _conditions(tables: dict[str, int], v6: bool) -> str:
    """Candidate conditions for the indicator types the pack has (equality semi-joins on stored columns)."""
    conds = []
    if tables["q_d2"]:
        conds.append("s2 IN (SELECT s FROM q_d2)")
    if tables["q_d3"]:
        conds.append("s3 IN (SELECT s FROM q_d3)")
    if tables["q_d1"]:
        conds.append("(kind IN ('dns', 'http', 'tls', 'connect', 'host', 'answer') "
                     "AND string_split(value, '.')[-1] IN (SELECT s FROM q_d1))")
    if tables["q_uh"]:
        conds.append("(kind = 'url' AND value IN (SELECT s FROM q_uh))")
    if tables["q_ip"]:
        conds.append("(kind IN ('ip', 'iplit', 'src', 'answer') AND value IN (SELECT s FROM q_ip))")
        conds.append("(kind = 'ip' AND client IN (SELECT s FROM q_ip))")
    if tables["q_c4"]:
        conds.append("(ip4 IS NOT NULL AND kind IN ('ip', 'iplit', 'src', 'answer') AND EXISTS "
                     "(SELECT 1 FROM q_c4 WHERE ip4 BETWEEN lo AND hi))")
        conds.append("(cip4 IS NOT NULL AND EXISTS (SELECT 1 FROM q_c4 WHERE cip4 BETWEEN lo AND hi))")
    if v6:
        conds.append("(kind IN ('ip', 'iplit', 'src', 'answer') AND ip4 IS NULL AND contains(value, ':'))")
        conds.append("(kind = 'ip' AND contains(client, ':'))")
    if tables["q_h"]:
        conds.append("(kind IN ('hash', 'cert', 'x509') AND value IN (SELECT s FROM q_h))")
    return " OR ".join(conds) or "false"


def _pruned(matcher: Matcher, clients: list[str], v6: bool, con: Any = None) -> list[str] | None:
    """Layout 2: conditions DuckDB checks against each row group's min/max of the sorted key `k` (a domain is
    the key range of its reversed labels, 'com.example' .. 'com.example/'), so it reads only the row groups
    that can hold an indicator. The inbound lookup uses the store's list of distinct clients (the ones the
    pack names). None for a pack too large for constant lists (key_join looks it up). `con`: where a long list
    of inbound clients goes as a temp table (None: constants)."""
    if len(matcher.domains) + len(matcher.urls) + len(matcher.ips) + len(matcher.hashes) + len(matcher.certs) + \
            len(matcher.networks4) > SMALL:
        return None
    key = _key_cond(matcher)
    return ([key] if key else []) + side_conditions(con, matcher, _inbound(matcher, clients), v6)


def _inbound(matcher: Matcher, clients: list[str]) -> list[str]:
    return [c for c in clients if matcher.ip(c) is not None]


def _key_cond(matcher: Matcher) -> str:
    """One condition on `k` for every name and value (an OR on one column is checked against each row group's
    min/max); a row it finds that the pack does not name is dropped by confirm(), like any candidate. '' if none."""
    on_key = [f"(k >= {lit(r)} AND k < {lit(r + '/')})"
              for r in sorted(".".join(reversed(d.split("."))) for d in matcher.domains)]
    values = set(matcher.urls) | set(matcher.ips) | set(matcher.hashes) | set(matcher.certs)
    if values:
        on_key.append(f"k IN {in_list(values)}")
    return " OR ".join(on_key)


def _held_keys(con: Any, store: Store, key: str) -> list[str] | None:
    """The store's keys the condition holds, from the key index (a few distinct keys a day, not every row);
    None if the store has no key index (created before it) or the keys are too many for a constant list."""
    files = key_files(store)
    if not files:
        return None if files is None else []
    listed = ", ".join(lit(p) for p in files)
    held = [k for (k,) in con.execute(f"SELECT DISTINCT k FROM read_parquet([{listed}]) WHERE {key}").fetchall()]
    return held if len(held) <= SMALL else None


_ROW = 'kind, value, client, aux, "first", "last", "count", file_id, line, "offset", day'


def _clients(con: Any, store: Store) -> list[str]:
    files = [str(store.root / p) for p in store.manifest.get("clients", [])]
    if not files:
        return []
    listed = ", ".join(lit(f) for f in files)
    return [c for (c,) in con.execute(f"SELECT DISTINCT client FROM read_parquet([{listed}])").fetchall()]


def _candidates_sql(con: Any, store: Store, matcher: Matcher, window: str) -> str:
    """The candidate rows' aggregate: pruned lookups on a layout-2 store, the semi-joins otherwise."""
    v6 = any(net.version == 6 for net, _ in matcher.networks)
    # The clients side file is read only when a client can be an indicator (a pack with addresses or CIDRs)
    clients = _clients(con, store) if store.layout >= 2 and (matcher.ips or matcher.networks) else []
    conds = _pruned(matcher, clients, v6, con) if store.layout >= 2 else None
    if conds is None and store.layout >= 2:
        conds = key_conditions(con, store, matcher, _inbound(matcher, clients), v6)  # a large pack, the key index
        if conds is not None:
            return _union(window, conds)
    if conds is None:  # no key index: the pack's tables semi-joined against every row
        sizes, v6 = _load_pack(con, matcher)
        return _SELECT.format(window=window, conds=_conditions(sizes, v6))
    key = _key_cond(matcher)
    if conds and key and conds[0] == key:
        # Key index: the OR of ranges is checked against the distinct keys, the rows read by the exact keys found
        # (each row group's min/max and bloom filter); no key found, no read of the rows for it
        held = _held_keys(con, store, key)
        if held is not None:
            conds = held_condition(con, held) + conds[1:]
    return _union(window, conds)


def _union(window: str, conds: list[str]) -> str:
    """The aggregate over the rows any condition selects (none: no read of the rows at all)."""
    if not conds:
        return _SELECT.format(window=window, conds="false")
    # UNION (not ALL): a row two lookups find (an address that is the value and the client) counts once
    union = " UNION ".join(f"SELECT {_ROW} FROM obs WHERE ({window}) AND ({c})" for c in conds)
    return _SELECT.format(window="true", conds="true").replace("FROM obs", f"FROM ({union})")


@dataclass
class StoreHit:
    host: str
    kind: str
    value: str
    aux: str
    first: datetime | None
    last: datetime | None
    count: int
    file_id: int
    line: int
    offset: int
    matches: list[Match]


@dataclass
class StoreHunt:
    hits: list[StoreHit] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    candidates: int = 0


def _window(since: datetime | None, until: datetime | None) -> str:
    """Whole UTC days (the store's grain); records without a time are always in, as in the raw hunt."""
    conds = []
    if since:
        conds.append(f"day >= '{since.astimezone(UTC).date().isoformat()}'")
    if until:
        conds.append(f"day <= '{until.astimezone(UTC).date().isoformat()}'")
    return f"day = '{UNDATED}' OR ({' AND '.join(conds)})" if conds else "true"


def candidate_keys(matcher: Matcher) -> tuple[dict[str, set[str]], list[tuple[int, int]], bool]:
    """The values candidate rows are selected by (any engine): names' last one, two or three labels (q_d1, q_d2,
    q_d3), URL hosts, addresses, hashes and certificates; IPv4 CIDRs as integer ranges; whether any CIDR is IPv6."""
    d2 = {d for d in matcher.domains if d.count(".") == 1}
    d3 = {".".join(d.split(".")[-3:]) for d in matcher.domains if d.count(".") >= 2}
    d1 = {d for d in matcher.domains if "." not in d}
    tables = {"q_d2": d2, "q_d3": d3, "q_d1": d1, "q_uh": set(matcher.urls), "q_ip": set(matcher.ips),
              "q_h": set(matcher.hashes) | set(matcher.certs)}
    return tables, [(lo, hi) for lo, hi, _i in matcher.networks4], any(net.version == 6 for net, _ in matcher.networks)


def _load_pack(con: Any, matcher: Matcher) -> tuple[dict[str, int], bool]:
    tables, ranges, v6 = candidate_keys(matcher)
    for name, values in tables.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (s VARCHAR)")
        if values:  # one statement for the whole list (executemany is a statement per row)
            con.execute(f"INSERT INTO {name} SELECT unnest(?)", [sorted(values)])
    con.execute("CREATE OR REPLACE TEMP TABLE q_c4 (lo UBIGINT, hi UBIGINT)")
    if ranges:
        con.execute("INSERT INTO q_c4 SELECT unnest(?), unnest(?)", [[lo for lo, _h in ranges], [hi for _l, hi in ranges]])
    sizes = {name: len(v) for name, v in tables.items()}
    sizes["q_c4"] = len(ranges)
    return sizes, v6


def confirm(matcher: Matcher, kind: str, value: str, aux: str, include_weak: bool = False) -> list[Match]:
    """The raw hunt's matches for this row's field (the Matcher on a rebuilt observation)."""
    if kind == "url":
        for prefix, ind in matcher.urls.get(value, ()):
            if path_prefix_match(aux, prefix):
                return [Match(ind, "url.full", value + aux)]
        return []
    if kind in DOMAIN_KINDS:
        obs = Observation(kind="" if kind == "host" else kind, domain=value)
    elif kind in ("ip", "iplit"):
        obs = Observation(dst_ip=value)
    elif kind == "src":
        obs = Observation(src_ip=value)
    elif kind == "answer" and aux:
        together = [m for m in matcher.match(Observation(kind="dns", answers=aux.split("\t"))) if include_weak or not m.weak]
        return [m for m in together if (norm_ip(m.observed) or norm_domain(m.observed)) == value]
    elif kind == "answer":
        obs = Observation(kind="dns", answers=[value])
    elif kind == "hash":
        obs = Observation(hashes={aux: value})
    elif kind in ("cert", "x509"):
        obs = Observation(kind="tls" if kind == "cert" else "x509", cert_hashes={aux: value})
    else:
        return []
    return [m for m in matcher.match(obs) if include_weak or not m.weak]


def hunt_store(store: Store, pack: Pack, since: datetime | None = None, until: datetime | None = None) -> StoreHunt:
    matcher = Matcher(pack)
    out = StoreHunt()
    con = store.connect()
    try:
        try:  # the key and clients side files are read while the query is built
            rows = con.execute(_candidates_sql(con, store, matcher, _window(since, until))).fetchall()
        except duckdb.Error as exc:  # a part replaced or truncated behind the manifest's back
            raise InputError(f"store unreadable: {exc}".splitlines()[0], path=str(store.root)) from exc
        confirm_rows(matcher, rows, out)
        out.coverage = coverage(con, store, since, until)
    finally:
        con.close()
    return out


def confirm_rows(matcher: Matcher, rows: list[tuple[Any, ...]], out: StoreHunt) -> None:
    """Candidate rows (kind, value, client, aux, first, last, count, file_id, line, offset), from any engine,
    confirmed by the Matcher into out.hits (sorted by host, first contact)."""
    for kind, value, client, aux, f, last, n, fid, ln, off in rows:
        out.candidates += 1
        matches = confirm(matcher, kind, value, aux)
        inbound = matcher.ip(client) if kind == "ip" else None
        if matches:
            # Both ends match (a range holding the clients too): one contact of the client, both matches, as the
            # raw hunt reports the record.
            if inbound is not None:
                matches = [*matches, Match(inbound, "source.ip", client)]
            out.hits.append(StoreHit(client, kind, value, aux, f, last, int(n), int(fid), int(ln), int(off), matches))
        elif inbound is not None:  # from the client's address to ours: our end is the destination
            out.hits.append(StoreHit(value, "src", client, "", f, last, int(n), int(fid), int(ln), int(off),
                                     [Match(inbound, "source.ip", client)]))
    out.hits.sort(key=lambda h: (h.host, h.first or datetime.max.replace(tzinfo=UTC), h.kind, h.value))


def _gaps(days: set[date], start: date, end: date) -> list[str]:
    """Ranges of days in [start, end] with no record ('2023-03-02..2023-03-05', or one day)."""
    out: list[str] = []
    prev = start - timedelta(days=1)
    for d in [*sorted(x for x in days if start <= x <= end), end + timedelta(days=1)]:
        if (d - prev).days > 1:
            a, b = prev + timedelta(days=1), d - timedelta(days=1)
            out.append(a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}")
        prev = d
    return out


def coverage(con: Any, store: Store, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """What the store holds for the period asked: days with records, days without (no data, not no hit)."""
    rows = con.execute("SELECT file_id, day, sum(records), sum(errors), min(\"first\"), max(\"last\") FROM ledger "
                       "GROUP BY file_id, day").fetchall()
    return coverage_of(rows, store.files, since, until)


def coverage_of(rows: list[tuple[Any, ...]], files: dict[str, dict[str, Any]], since: datetime | None,
                until: datetime | None) -> dict[str, Any]:
    """Coverage from the ledger grouped by (file_id, day): (file_id, day, records, errors, first, last), any engine."""
    lo = since.astimezone(UTC).date() if since else None
    hi = until.astimezone(UTC).date() if until else None
    days: set[date] = set()
    per_format: dict[str, dict[str, Any]] = {}
    records = errors = undated = 0
    for fid, day, n, e, first, last in rows:
        if day != UNDATED:
            d = date.fromisoformat(day)
            if (lo and d < lo) or (hi and d > hi):
                continue
            days.add(d)
        else:
            undated += int(n)
        fmt = str(files.get(str(fid), {}).get("format", "?"))
        c = per_format.setdefault(fmt, {"files": set(), "records": 0, "unparsed": 0, "first": None, "last": None})
        c["files"].add(fid)
        c["records"] += int(n)
        c["unparsed"] += int(e)
        records += int(n)
        errors += int(e)
        for key, val, better in (("first", first, min), ("last", last, max)):
            if val is not None:
                c[key] = val if c[key] is None else better(c[key], val)
    start = lo or (min(days) if days else None)
    end = hi or (max(days) if days else None)
    return {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
            "days_with_data": len(days), "days_without_data": _gaps(days, start, end) if start and end else [], "records": records,
            "unparsed": errors, "undated_records": undated,
            "formats": {f: {"files": len(c["files"]), "records": c["records"], "unparsed": c["unparsed"],
                            "first": iso_ts(c["first"]), "last": iso_ts(c["last"])} for f, c in sorted(per_format.items())}}


def _is_ip(v: str) -> bool:
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return False
    return True


def hit_doc(store: Store, hit: StoreHit, pack_name: str, evidence: bool = False) -> dict[str, Any]:
    """A store finding in the hunt's ECS finding schema (tracehound.source: store)."""
    obs = Observation(ts=hit.first)
    if hit.kind in DOMAIN_KINDS:
        obs.kind, obs.domain = ("" if hit.kind == "host" else hit.kind), hit.value
    elif hit.kind in ("ip", "iplit", "src"):
        obs.dst_ip, obs.src_ip = ("", hit.value) if hit.kind == "src" else (hit.value, "")
    elif hit.kind == "answer":
        obs.kind, obs.answers = "dns", [hit.value]
    elif hit.kind == "hash":
        obs.hashes = {hit.aux: hit.value}
    elif hit.kind in ("cert", "x509"):
        obs.kind, obs.cert_hashes = ("tls" if hit.kind == "cert" else "x509"), {hit.aux: hit.value}
    path = store.file_path(hit.file_id)
    entry = store.files.get(str(hit.file_id), {})
    doc = finding_doc(obs, hit.matches, "", path, hit.line, hit.offset, str(entry.get("format", "")), pack_name)
    doc["event"].pop("original", None)
    doc["event"]["dataset"] = "tracehound.store"
    put(doc, "event.start", iso_ts(hit.first))
    put(doc, "event.end", iso_ts(hit.last))
    if hit.kind == "url":
        doc["url"] = {"domain": hit.value.split(":")[0] if hit.value.count(":") == 1 else hit.value, "path": hit.aux}
    if hit.kind != "src":
        put(doc, "source.ip" if _is_ip(hit.host) else "host.name", hit.host if hit.host != "unknown" else "")
    th = doc["tracehound"]
    th.update(source="store", host=hit.host, count=hit.count, first_contact=iso_ts(hit.first),
              last_contact=iso_ts(hit.last), observed_kind=hit.kind)
    if evidence:
        line, why = fetch_line(path, hit.offset, entry)
        if line is not None:
            doc["event"]["original"] = line
        th["evidence"] = why
    return doc


def host_table(hits: list[StoreHit]) -> dict[str, dict[str, Any]]:
    """Per host: first/last contact, count, indicators (value -> count), strongest verdict."""
    from tracehound.findings.ecs import network_verdict, strongest

    hosts: dict[str, dict[str, Any]] = {}
    for h in hits:
        t = hosts.setdefault(h.host, {"host": h.host, "first_contact": None, "last_contact": None, "count": 0,
                                      "indicators": {}, "verdict": "clean"})
        t["count"] += h.count
        if h.first and (t["first_contact"] is None or h.first < t["first_contact"]):
            t["first_contact"] = h.first
        if h.last and (t["last_contact"] is None or h.last > t["last_contact"]):
            t["last_contact"] = h.last
        for m in h.matches:
            t["indicators"][m.indicator.value] = t["indicators"].get(m.indicator.value, 0) + h.count
        v = strongest([network_verdict(m.indicator, m.weak) for m in h.matches])
        if VERDICT_ORDER.get(v, 0) > VERDICT_ORDER.get(t["verdict"], 0):
            t["verdict"] = v
    return hosts


__all__ = ["StoreHit", "StoreHunt", "candidate_keys", "confirm", "confirm_rows", "coverage", "coverage_of", "hit_doc", "host_table", "hunt_store", "matched_indicators"]
