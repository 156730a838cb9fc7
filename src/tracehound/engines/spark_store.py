"""`hunt --engine spark --store URI`: the observation store's Parquet layout hunted with Spark.

Same semantics as `hunt --store` (DuckDB, stores/query.py), by construction: Spark selects the
candidate rows with the values stores.query.candidate_keys gives (a name's last one, two and
three labels, URL hosts, addresses, hashes; IPv4 CIDRs as integer ranges on the stored `ip4`
column and the client's address), the candidates are grouped per (kind, value, client, aux) in
Spark, and the small result is confirmed on the driver by the raw hunt's Matcher
(stores.query.confirm_rows). The coverage comes from the ledger parts, grouped in Spark and
summed by stores.query.coverage_of.

Only the parts the manifest names are read (an interrupted `index` may have left others). STORE
is a folder on this machine, or any URI Spark reads (file://, hdfs://, s3a://): the manifest
is then read through Spark too. The pack travels as one broadcast table of (class, key) pairs:
exact values, and IPv4 ranges bucketed per /16 so the range test is the same equality join
followed by a BETWEEN, not a nested loop over every range; one scan of the parts, no shuffle of
anything but the matched rows' aggregates."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from tracehound.errors import InputError, UsageError
from tracehound.intel.model import Pack
from tracehound.matching.matcher import Matcher
from tracehound.stores.layout import Store, parse_manifest
from tracehound.stores.query import StoreHunt, candidate_keys, confirm_rows, coverage_of
from tracehound.stores.rows import UNDATED

DOMAIN_KINDS = ("dns", "http", "tls", "connect", "host", "answer")  # kinds whose value is a name (query.py)
IP_KINDS = ("ip", "iplit", "src", "answer")
HASH_KINDS = ("hash", "cert", "x509")
ROW_SCHEMA = ("kind string, value string, client string, aux string, first timestamp, last timestamp, count long, "
              "file_id int, line long, offset long, ip4 decimal(20,0), day string")
LEDGER_SCHEMA = "file_id int, day string, records long, errors long, first timestamp, last timestamp"
BUCKET_BITS = 16  # IPv4 ranges joined per /16; a range wider than a /16 is one table row per /16 it covers
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PY_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


class ManifestStore(Store):
    """A store read through Spark (hdfs://, s3a://, file://): its manifest, for findings and coverage.
    Read-only; `root` is not a local folder (use `uri`)."""

    def __init__(self, uri: str, manifest: dict[str, Any]) -> None:  # no super(): nothing local to open
        self.uri = uri
        self.root = Path(urlparse(uri).path or "/")
        self.manifest_path = self.root / "manifest.json"
        self.manifest = manifest


def _is_uri(location: str) -> bool:
    return "://" in location


def open_store(spark: Any, location: str) -> tuple[Store, str]:
    """(store, base URI of its files). A local folder is opened as `hunt --store` opens it (the parts it
    names must be there); a URI's manifest is read with Spark (Hadoop file systems)."""
    if not _is_uri(location):
        store = Store(location)
        missing = [p for p in store.manifest["parts"] + store.manifest["ledger"] if not (store.root / p).is_file()]
        if missing:
            raise InputError(f"store damaged: {len(missing)} part(s) the manifest names are missing, e.g. {missing[0]}",
                             path=location)
        return store, "file:" + str(store.root)  # Hadoop quotes what a URI needs quoted
    base = location.rstrip("/")
    try:
        text = spark.sparkContext.wholeTextFiles(base + "/manifest.json").collect()[0][1]
    except Exception as exc:  # py4j: the Hadoop file system's error (no such file, no access)
        raise UsageError("not a tracehound store (no readable manifest.json; build one with 'tracehound index'): "
                         + error_line(exc), path=location) from exc
    return ManifestStore(base, parse_manifest(text, base + "/manifest.json")), base


def error_line(exc: BaseException) -> str:
    """One line of a Spark or py4j error for people: a task's Python exception if there is one, else Spark's
    (error class and message), never the JVM or Python traceback."""
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
    for x in lines:
        if _PY_ERROR.match(x) and not x.startswith(("org.", "java.", "scala.", "py4j.")):
            return x[:300]
    for x in lines:
        if "Exception:" in x or "Error:" in x or x.startswith("["):
            return x.split("Traceback")[0].strip()[:300]
    return lines[0][:300] if lines else type(exc).__name__


def _day_filter(since: datetime | None, until: datetime | None) -> Any:
    """Whole UTC days, undated records always in (query._window)."""
    from pyspark.sql import functions as F

    day = F.col("day")
    cond = None
    if since:
        cond = day >= since.astimezone(UTC).date().isoformat()
    if until:
        c = day <= until.astimezone(UTC).date().isoformat()
        cond = c if cond is None else cond & c
    return None if cond is None else (day == UNDATED) | cond


def _ipv4_of(c: Any) -> Any:
    """A dotted quad as an integer (as layout's derived `cip4`: up to three digits per part, no range check)."""
    from pyspark.sql import functions as F

    p = F.split(c, r"\.")
    return F.when(c.rlike(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$"),
                  p[0].cast("long") * 16777216 + p[1].cast("long") * 65536 + p[2].cast("long") * 256 + p[3].cast("long"))


def _matched(spark: Any, rows: Any, matcher: Matcher) -> Any | None:
    """The rows any indicator may match (query._conditions, in Spark), each with the probe that matched it.

    One scan, one broadcast equi-join: each row gives its probes, (class, key) pairs: a name's last one,
    two and three labels ('d'), a URL host ('u'), an address and the client's ('i'), a hash ('h'), the /16
    bucket of an IPv4 integer ('n', then BETWEEN the range's ends), an IPv6 address ('6'). Which probes a row
    gives depends on (kind, value, client) only, so every row of a (kind, value, client, aux) group matches
    the same probes: grouping by group and probe gives the same aggregate once per matching probe."""
    from pyspark.sql import functions as F

    tables, ranges, v6 = candidate_keys(matcher)
    kind, value, client = F.col("kind"), F.col("value"), F.col("client")
    keys: list[tuple[str, str, int | None, int | None]] = []
    for cls, names in (("d", ("q_d1", "q_d2", "q_d3")), ("u", ("q_uh",)), ("i", ("q_ip",)), ("h", ("q_h",))):
        keys += [(cls, k, None, None) for t in names for k in sorted(tables[t])]
    keys += [("n", str(b), lo, hi) for lo, hi in ranges for b in range(lo >> BUCKET_BITS, (hi >> BUCKET_BITS) + 1)]
    if v6:
        keys.append(("6", "", None, None))
    if not keys:
        return None

    def probe(cls: str, key: Any, cond: Any, x: Any = None) -> Any:
        return F.when(cond, F.struct(F.lit(cls).alias("c"), key.cast("string").alias("k"),
                                     (x if x is not None else F.lit(None)).cast("long").alias("x")))

    labels = F.split(value, r"\.")
    n = F.size(labels)
    name = kind.isin(*DOMAIN_KINDS)
    named = name & ~value.rlike(r"^[0-9.]+$")
    probes = []
    if tables["q_d1"]:
        probes.append(probe("d", F.element_at(labels, -1), name))
    if tables["q_d2"]:
        probes.append(probe("d", F.array_join(F.slice(labels, -2, 2), "."), named & (n >= 2)))
    if tables["q_d3"]:
        probes.append(probe("d", F.array_join(F.slice(labels, -3, 3), "."), named & (n >= 3)))
    if tables["q_uh"]:
        probes.append(probe("u", value, kind == "url"))
    if tables["q_ip"]:
        probes += [probe("i", value, kind.isin(*IP_KINDS)), probe("i", client, kind == "ip")]
    if tables["q_h"]:
        probes.append(probe("h", value, kind.isin(*HASH_KINDS)))
    if ranges:
        for x, cond in ((F.col("ip4").cast("long"), kind.isin(*IP_KINDS)), (_ipv4_of(client), kind == "ip")):
            probes.append(probe("n", F.shiftright(x, BUCKET_BITS), cond & x.isNotNull(), x))
    if v6:
        probes.append(probe("6", F.lit(""), (kind.isin(*IP_KINDS) & F.col("ip4").isNull() & value.contains(":"))
                            | ((kind == "ip") & client.contains(":"))))
    pack = F.broadcast(spark.createDataFrame(keys, "c string, k string, lo long, hi long"))
    exploded = rows.withColumn("p", F.explode(F.array_distinct(F.array(*probes)))).where("p IS NOT NULL")
    joined = exploded.join(pack, (F.col("p.c") == pack["c"]) & (F.col("p.k") == pack["k"]))
    return joined.where((pack["c"] != "n") | F.col("p.x").between(pack["lo"], pack["hi"])) \
        .select(*[F.col(c) for c in rows.columns], F.col("p").alias("via"), pack["lo"].alias("via_lo"),
                pack["hi"].alias("via_hi"))


def _ts(us: int | None) -> datetime | None:
    return None if us is None else _EPOCH + timedelta(microseconds=int(us))


def _read(spark: Any, schema: str, paths: list[str], base: str | None = None) -> Any:
    reader = spark.read.schema(schema)
    if base:
        reader = reader.option("basePath", base)
    return reader.parquet(*paths)


def _spark_errors() -> tuple[type[BaseException], ...]:
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JError)


def hunt_store_spark(spark: Any, location: str, pack: Pack, since: datetime | None = None,
                     until: datetime | None = None) -> tuple[Store, StoreHunt]:
    """The store at `location` (folder or URI) hunted with Spark: (store, hits + coverage), as hunt_store."""
    from pyspark.sql import functions as F

    store, base = open_store(spark, location)
    matcher = Matcher(pack)
    out = StoreHunt()
    m = store.manifest
    window = _day_filter(since, until)
    try:
        if m["parts"]:
            rows = _read(spark, ROW_SCHEMA, [f"{base}/{p}" for p in m["parts"]], f"{base}/obs")
            if window is not None:
                rows = rows.where(window)
            matched = _matched(spark, rows, matcher)
            if matched is not None:
                first = F.coalesce(F.col("first"), F.lit("9999-01-01 00:00:00").cast("timestamp"))
                grouped = (matched.groupBy("kind", "value", "client", "aux", "via", "via_lo", "via_hi")
                           .agg(F.unix_micros(F.min("first")).alias("f"), F.unix_micros(F.max("last")).alias("l"),
                                F.sum("count").alias("n"),
                                F.min(F.struct(first, F.col("file_id"), F.col("line"), F.col("offset"))).alias("ex")))
                found: dict[tuple[str, str, str, str], tuple[Any, ...]] = {}
                for r in grouped.drop("via", "via_lo", "via_hi").collect():  # one per matching probe: the same aggregate
                    found.setdefault((r["kind"], r["value"], r["client"], r["aux"]), (
                        r["kind"], r["value"], r["client"], r["aux"], _ts(r["f"]), _ts(r["l"]), r["n"],
                        r["ex"]["file_id"], r["ex"]["line"], r["ex"]["offset"]))
                found_rows = [found[k] for k in sorted(found)]
                confirm_rows(matcher, found_rows, out)
        ledger: dict[tuple[int, str], list[Any]] = {}
        if m["ledger"]:  # a row per file and day of each batch: small, summed here
            led = _read(spark, LEDGER_SCHEMA, [f"{base}/{p}" for p in m["ledger"]])
            for r in led.select("file_id", "day", "records", "errors", F.unix_micros("first").alias("f"),
                                F.unix_micros("last").alias("l")).collect():
                a = ledger.setdefault((r["file_id"], r["day"]), [0, 0, None, None])
                a[0] += r["records"] or 0
                a[1] += r["errors"] or 0
                if r["f"] is not None and (a[2] is None or r["f"] < a[2]):
                    a[2] = r["f"]
                if r["l"] is not None and (a[3] is None or r["l"] > a[3]):
                    a[3] = r["l"]
    except _spark_errors() as exc:  # a part missing, truncated or replaced behind the manifest's back
        raise InputError(f"store unreadable: {error_line(exc)}", path=location) from exc
    out.coverage = coverage_of([(fid, day, n, e, _ts(f), _ts(last)) for (fid, day), (n, e, f, last) in ledger.items()],
                               store.files, since, until)
    return store, out


def local_path(location: str) -> str:
    """A store folder for the writer: a path, or a file:// URI (index writes with the local file system)."""
    if not _is_uri(location):
        return location
    u = urlparse(location)
    if u.scheme != "file":
        raise UsageError(f"index --engine spark writes the store on a shared POSIX file system (NFS, a mounted "
                         f"volume), seen at the same path by the driver and the executors, not on {u.scheme}://; "
                         "hunt --engine spark reads it from any URI", path=location)
    return os.path.abspath(unquote(u.path))


__all__ = ["ManifestStore", "error_line", "hunt_store_spark", "local_path", "open_store", "parse_manifest"]
