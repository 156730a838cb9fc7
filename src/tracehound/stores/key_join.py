"""`hunt --store` with a large pack (over query.SMALL indicators) through the key index.

The pack's names and values go to temp tables joined against the store's DISTINCT keys (keys/part-*.parquet: the
distinct sort keys `k` of each index batch, a few hundred thousand where the store has tens of millions of rows),
not against every row. A name's key is its labels reversed ('com.example.www'), so an indicator holds a key when
its reversed labels are a label prefix of the key: the key's first label, first two or first three labels equal
(hash joins), then, for indicators of three labels or more, the key equal or starting with the indicator and a dot.
The values (URL hosts, addresses, hashes, certificates) hold the keys equal to them. The rows are then read by the
keys held (a semi-join of a temp table of them, pushed into the scan as a filter: row group min/max, bloom
filter). Client-side matches (the clients side file), IPv4 CIDRs and IPv6 take the same conditions as the small
packs' pruned lookup; confirm() decides every candidate as for any lookup."""

from __future__ import annotations

from typing import Any

from tracehound.matching.matcher import Matcher

SMALL = 3000  # values a condition may list as constants (larger sets go to a temp table)
IP_KINDS = "kind IN ('ip', 'iplit', 'src', 'answer')"


def _first(labels: int, col: str = "k") -> str:
    """A key's first `labels` labels ('' when it has fewer): the join key of indicators of that many labels."""
    return f"regexp_extract({col}, '^[^.]*" + "\\.[^.]*" * (labels - 1) + "')"


def lit(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def in_list(values: Any) -> str:
    return "(" + ", ".join(lit(v) for v in sorted(values)) + ")"


def key_files(store: Any) -> list[str] | None:
    """The key index's files; None if the store has none (created before it: rows but no key file)."""
    files = store.manifest.get("keys")
    if files is None or len(files) == 0 and store.manifest["parts"]:
        return None
    return [str(store.root / p) for p in files]


def _table(con: Any, name: str, columns: dict[str, list[str]]) -> None:
    """TEMP TABLE name (columns VARCHAR) from equal-length lists, one statement for the whole list."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({', '.join(f'{c} VARCHAR' for c in columns)})")
    lists = list(columns.values())
    if lists and lists[0]:
        con.execute(f"INSERT INTO {name} SELECT {', '.join('unnest(?)' for _ in lists)}", lists)


def held_keys(con: Any, files: list[str], matcher: Matcher) -> list[str]:
    """The distinct keys of the key index some indicator of the pack can match (sorted)."""
    if not files:
        return []
    by_labels: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for d in matcher.domains:  # the matcher's keys: distinct names
        labels = d.split(".")
        by_labels[min(len(labels), 3)].append(".".join(reversed(labels)))
    values = [*matcher.urls, *matcher.ips, *matcher.hashes, *matcher.certs]  # distinct: hosts, addresses, hex
    many = by_labels[3]
    _table(con, "q_kv", {"s": values})
    _table(con, "q_k1", {"s": by_labels[1]})
    _table(con, "q_k2", {"s": by_labels[2]})
    _table(con, "q_k3", {"p": [".".join(r.split(".", 3)[:3]) for r in many], "s": many})
    exact, first3 = [], ""
    if values:
        exact.append("k IN (SELECT s FROM q_kv)")
    if by_labels[1]:
        exact.append("split_part(k, '.', 1) IN (SELECT s FROM q_k1)")
    if by_labels[2]:
        exact.append(f"{_first(2)} IN (SELECT s FROM q_k2)")
    if many:
        first3 = f"{_first(3)} IN (SELECT p FROM q_k3)"
    if not exact and not first3:
        return []
    listed = ", ".join(lit(f) for f in files)
    # The key files hold each key once per batch: candidates first (hash probes on every key), then DISTINCT
    con.execute("CREATE OR REPLACE TEMP TABLE q_kc AS SELECT DISTINCT k FROM read_parquet([" + listed + "]) WHERE "
                + " OR ".join([*exact, first3] if first3 else exact))
    selects = [f"SELECT k FROM q_kc WHERE {' OR '.join(exact)}"] if exact else []
    if first3:  # an indicator of 3+ labels: the key is it, or under it on a label boundary
        selects.append(f"SELECT c.k FROM q_kc c JOIN q_k3 ON {_first(3, 'c.k')} = q_k3.p "
                       "AND (c.k = q_k3.s OR starts_with(c.k, q_k3.s || '.'))")
    return sorted(k for (k,) in con.execute(" UNION ".join(selects)).fetchall())


def key_conditions(con: Any, store: Any, matcher: Matcher, inbound: list[str], v6: bool) -> list[str] | None:
    """The candidate conditions of a large pack on a store with a key index (None without one: the caller joins
    the pack against every row, as before the index). `inbound`: the store's clients that are indicators."""
    files = key_files(store)
    if files is None:
        return None
    return held_condition(con, held_keys(con, files, matcher)) + side_conditions(con, matcher, inbound, v6)


def held_condition(con: Any, held: list[str]) -> list[str]:
    """The rows of the keys held, by a semi-join of a temp table of them ([] if none: no read of the rows). DuckDB
    turns the table into a filter of the scan (an IN list up to 50 keys, min/max otherwise, and a bloom filter), so
    it reads the row groups that can hold a key; measured faster than a constant `k IN` list from 3 to 10,000 keys
    (docs/bench.md, "Key index")."""
    if not held:
        return []
    _table(con, "q_held", {"s": held})
    return ["k IN (SELECT s FROM q_held)"]


def side_conditions(con: Any, matcher: Matcher, inbound: list[str], v6: bool) -> list[str]:
    """What the key does not find: contacts from a client that is an indicator (the clients side file), values in
    an IPv4 CIDR (the `ip4` column, row group min/max), IPv6 addresses (any could be in an IPv6 CIDR). Lists
    longer than SMALL go to temp tables on `con` (None: constant lists whatever their length)."""
    conds = []
    if con is not None and len(inbound) > SMALL:
        _table(con, "q_inbound", {"s": sorted(inbound)})
        conds.append("client IN (SELECT s FROM q_inbound) AND kind = 'ip'")
    elif inbound:
        conds.append(f"client IN {in_list(inbound)} AND kind = 'ip'")
    if con is not None and len(matcher.networks4) > SMALL:
        con.execute("CREATE OR REPLACE TEMP TABLE q_c4 (lo UBIGINT, hi UBIGINT)")
        con.execute("INSERT INTO q_c4 SELECT unnest(?), unnest(?)",
                    [[lo for lo, _h, _i in matcher.networks4], [hi for _l, hi, _i in matcher.networks4]])
        conds.append(f"ip4 IS NOT NULL AND {IP_KINDS} AND EXISTS (SELECT 1 FROM q_c4 WHERE ip4 BETWEEN lo AND hi)")
    elif matcher.networks4:
        nets = " OR ".join(f"ip4 BETWEEN {lo} AND {hi}" for lo, hi, _i in matcher.networks4)
        conds.append(f"ip4 IS NOT NULL AND {IP_KINDS} AND ({nets})")
    if v6:
        conds.append(f"{IP_KINDS} AND ip4 IS NULL AND contains(value, ':')")
    return conds
