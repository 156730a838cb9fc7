"""Spark hunt engine: the same hunt on a cluster, with the same findings.

Two plans, one semantics:

- Text logs (any format the local hunt reads): the driver splits files into newline-aligned
  byte ranges (the local engine's work units); each Spark task runs the local engine on its
  ranges (`mapInPandas`, per partition, not per row): Hyperscan over raw bytes, Python only on
  candidate lines. The pack travels as a broadcast variable. Line numbers are made file-relative
  on the driver from the per-range line counts. Paths must be readable by the executors
  (local or shared file system).
- Tables (Parquet, JSON; any URI Spark reads, hdfs:// and s3a:// included) with a field
  mapping: a native DataFrame plan, no Python UDF. Each observed domain is exploded into its
  label suffixes and joined with the broadcast domain indicators (the local matcher's
  label-boundary semantics); IPs by equality (IPv4 CIDR by numeric range); URLs by host join and
  path-prefix-on-segment-boundary condition after percent-decoding. Only matching rows reach the
  driver, where the findings are built by the same ECS code as the local engine.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tracehound.engines.hunt_types import FileReport, HuntOptions, WorkUnit, merge_reports, report_from_dict
from tracehound.engines.local_hunt import expand_paths, finding_doc, plan_units
from tracehound.errors import UsageError
from tracehound.intel.formats.native import to_dict as pack_to_dict
from tracehound.intel.model import IType, Pack
from tracehound.matching.matcher import Match, Matcher
from tracehound.matching.normalize import norm_url
from tracehound.sources.logs.observation import Observation

INSTALL_HINT = "the Spark engine needs PySpark: pip install 'tracehound[spark]' (and Java 17)"
SPLIT_SIZE = 64 * 1024 * 1024
DEFAULT_MASTER = "local[*]"


@dataclass
class SparkOptions:
    master: str = DEFAULT_MASTER
    conf: dict[str, str] = field(default_factory=dict)
    input_format: str = "text"  # text, parquet, json
    split_size: int = SPLIT_SIZE


def session(opt: SparkOptions) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError(INSTALL_HINT) from exc
    # Under spark-submit (the JVM started first, its gateway in the environment) the master is spark-submit's
    # --master, unless --spark-master names another one.
    submitted = bool(os.environ.get("PYSPARK_GATEWAY_PORT")) and opt.master == DEFAULT_MASTER
    if opt.master.startswith("local") and not submitted:
        # Local executors must run this interpreter (the one with tracehound and its dependencies);
        # on a cluster, tracehound is installed on the executors like any PySpark dependency.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    b = SparkSession.builder.appName("tracehound-hunt")
    if not submitted:
        b = b.master(opt.master)
    b = b.config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
    b = b.config("spark.sql.session.timeZone", "UTC")
    b = b.config("spark.sql.execution.arrow.pyspark.enabled", "true")
    for k, v in opt.conf.items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# ---- text logs: the local engine per byte range ---------------------------------------------
_WORKER: dict[str, Any] = {}


def _hunt_units(batches: Iterator[Any], pack_json: Any, options: HuntOptions) -> Iterator[Any]:
    """Executor side: run the local engine on each unit of the batch; rows are findings and reports."""
    import tempfile

    import pandas as pd

    from tracehound.engines import local_hunt
    from tracehound.intel.formats.native import loads

    key = hash(pack_json.value)
    if _WORKER.get("key") != key:  # once per Python worker, reused across tasks
        local_hunt._init_state(loads(pack_json.value, "<broadcast>"), options)
        _WORKER["key"] = key
    tmpdir = tempfile.mkdtemp(prefix="th-spark-")
    for pdf in batches:
        rows: list[dict[str, Any]] = []
        for r in pdf.itertuples(index=False):
            unit = WorkUnit(r.path, int(r.start), None if r.end < 0 else int(r.end), int(r.index), int(r.count))
            rep = local_hunt.hunt_file(unit, tmpdir)
            with open(rep.findings_file, encoding="utf-8") as fh:
                for line in fh:
                    rows.append({"path": r.path, "order": int(r.order), "index": int(r.index), "kind": "f", "text": line})
            os.unlink(rep.findings_file)
            rows.append({"path": r.path, "order": int(r.order), "index": int(r.index), "kind": "r",
                         "text": json.dumps(rep.to_dict())})
        yield pd.DataFrame(rows, columns=["path", "order", "index", "kind", "text"])
    shutil.rmtree(tmpdir, ignore_errors=True)  # the findings files are gone; the hunt's shared sightings file is not



def hunt_text(spark: Any, pack: Pack, paths: list[str], options: HuntOptions, opt: SparkOptions
              ) -> Iterator[tuple[FileReport, Iterator[str]]]:
    from tracehound.engines import local_hunt

    files = expand_paths(paths, globs=False)  # already expanded by the CLI: names on disk are not patterns
    units: list[WorkUnit] = []
    saved = local_hunt.SPLIT_MIN
    local_hunt.SPLIT_MIN = max(1, opt.split_size // 2)
    try:
        for f in files:
            units += plan_units(f, max(1, os.path.getsize(f) // opt.split_size + 1)) if os.path.isfile(f) else [WorkUnit(f)]
    finally:
        local_hunt.SPLIT_MIN = saved
    rows = [(u.path, n, u.start, -1 if u.end is None else u.end, u.index, u.count) for n, u in enumerate(units)]
    df = spark.createDataFrame(rows, "path string, order long, start long, end long, index int, count int")
    df = df.repartition(max(1, len(units)), "order")
    bc = spark.sparkContext.broadcast(json.dumps(pack_to_dict(pack)))
    out = df.mapInPandas(lambda it: _hunt_units(it, bc, options),
                         "path string, order long, index int, kind string, text string")
    out = out.cache()
    reports = sorted(((r["order"], r["index"], r["path"], json.loads(r["text"]))
                      for r in out.where("kind = 'r'").collect()), key=lambda x: x[0])
    # Per file: merge range reports, and the line offset of each range (records of the ranges before it).
    offsets: dict[tuple[str, int], int] = {}
    parts: dict[str, list[FileReport]] = {}
    for _order, index, path, rep in reports:
        offsets[(path, index)] = sum(r.records for r in parts.get(path, []))
        parts.setdefault(path, []).append(report_from_dict(rep))
    merged = {path: merge_reports(path, reps) for path, reps in parts.items()}
    findings = out.where("kind = 'f'").orderBy("order", "text").toLocalIterator()
    by_file: dict[str, list[str]] = {}
    for r in findings:
        line = r["text"]
        off = offsets.get((r["path"], r["index"]), 0)
        if off:
            doc = json.loads(line)
            doc["tracehound"]["line"] += off
            line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
        by_file.setdefault(r["path"], []).append(line)
    out.unpersist()
    for f in files:
        rep = merged.get(f, FileReport(path=f, error="not hunted"))
        lines = sorted(by_file.get(f, []), key=lambda s: (json.loads(s)["tracehound"]["line"], s))
        yield rep, iter(lines)


# ---- tables: native plan ---------------------------------------------------------------------
TABLE_FIELDS = ("@timestamp", "source.ip", "host.name", "user.name", "destination.domain", "destination.ip",
                "destination.port", "url.full", "file.hash.md5", "file.hash.sha1", "file.hash.sha256")


def _col(df: Any, mapping: dict[str, str], target: str) -> Any:
    from pyspark.sql import functions as F

    name = mapping.get(target)
    if name is None:
        from tracehound.sources.logs.readers.generic import DEFAULT_MAP

        cols = set(df.columns)
        name = next((c for c in DEFAULT_MAP.get(target, ()) if c in cols), None)
    if name is None:
        return F.lit(None).cast("string")
    return F.col(f"`{name}`").cast("string")


def _indicator_frames(spark: Any, pack: Pack) -> dict[str, Any]:
    from pyspark.sql import functions as F

    def frame(rows: list[tuple[Any, ...]], schema: str) -> Any:
        return F.broadcast(spark.createDataFrame(rows, schema))

    ips4, nets = [], []
    for i in pack.of_type(IType.IPV4, IType.IPV6, IType.CIDR):
        if i.type is IType.CIDR and ":" not in i.value:
            import ipaddress

            n = ipaddress.ip_network(i.value, strict=False)
            nets.append((i.value, int(n.network_address), int(n.broadcast_address)))
        else:
            ips4.append((i.value,))
    urls = []
    for i in pack.of_type(IType.URL):
        host, path = norm_url(i.value)
        urls.append((i.value, host, path.rstrip("/") or "/"))
    return {
        "domain": frame([(i.value,) for i in pack.of_type(IType.DOMAIN)], "ind_domain string"),
        "ip": frame(ips4, "ind_ip string"),
        "net": frame(nets, "ind_net string, lo long, hi long"),
        "url": frame(urls, "ind_url string, ind_host string, ind_path string"),
        "hash": frame([(i.value,) for i in pack.indicators if i.type in (IType.MD5, IType.SHA1, IType.SHA256)],
                      "ind_hash string"),
    }


def _ipv4_long(c: Any) -> Any:
    from pyspark.sql import functions as F

    parts = F.split(c, r"\.")
    return F.when(c.rlike(r"^\d{1,3}(\.\d{1,3}){3}$"),
                  parts[0].cast("long") * 16777216 + parts[1].cast("long") * 65536 + parts[2].cast("long") * 256
                  + parts[3].cast("long"))


def hunt_table(spark: Any, pack: Pack, paths: list[str], options: HuntOptions, opt: SparkOptions
               ) -> Iterator[tuple[FileReport, Iterator[str]]]:
    from pyspark.sql import functions as F

    reader = spark.read
    df = reader.parquet(*paths) if opt.input_format == "parquet" else reader.json(paths)
    mapping = options.mapping
    meta = F.col("_metadata.file_path")
    has_row_index = opt.input_format == "parquet"
    base = df.select(
        meta.alias("path"),
        (F.col("_metadata.row_index") + 1 if has_row_index else F.lit(None).cast("long")).alias("record"),
        *[_col(df, mapping, t).alias(t.replace(".", "_").replace("@", "")) for t in TABLE_FIELDS],
        F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns])).alias("original"),
    )
    dom = F.lower(F.regexp_replace(F.col("destination_domain"), r"\.$", ""))
    urlhost = F.lower(F.regexp_extract(F.col("url_full"), r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?([^/?#:]+)", 1))
    base = base.withColumn("d", F.when(dom.isNotNull() & (dom != ""), dom).otherwise(F.when(urlhost != "", urlhost)))
    base = base.withColumn("rid", F.monotonically_increasing_id()).cache()
    frames = _indicator_frames(spark, pack)
    labels = F.split(F.col("d"), r"\.")
    suffixes = F.transform(F.sequence(F.lit(0), F.size(labels) - 1),
                           lambda i: F.array_join(F.slice(labels, i + 1, F.size(labels) - i), "."))
    hits_dom = (base.where(F.col("d").isNotNull()).select("rid", F.explode(suffixes).alias("suffix"))
                .join(frames["domain"], F.col("suffix") == F.col("ind_domain"))
                .select("rid", F.col("ind_domain").alias("indicator"), F.lit("destination.domain").alias("field")))
    dst = F.lower(F.col("destination_ip"))
    hits_ip = (base.where(dst.isNotNull()).join(frames["ip"], dst == F.col("ind_ip"))
               .select("rid", F.col("ind_ip").alias("indicator"), F.lit("destination.ip").alias("field")))
    hits_src = (base.where(F.col("source_ip").isNotNull()).join(frames["ip"], F.col("source_ip") == F.col("ind_ip"))
                .select("rid", F.col("ind_ip").alias("indicator"), F.lit("source.ip").alias("field")))
    ipl = _ipv4_long(F.col("destination_ip"))
    hits_net = (base.where(ipl.isNotNull()).join(frames["net"], (ipl >= F.col("lo")) & (ipl <= F.col("hi")))
                .select("rid", F.col("ind_net").alias("indicator"), F.lit("destination.ip").alias("field")))
    path = F.url_decode(F.regexp_extract(F.col("url_full"), r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*([^#]*)", 1))
    path = F.when(path == "", F.lit("/")).otherwise(path)
    hits_url = (base.where(F.col("url_full").isNotNull()).withColumn("p", path).withColumn("h", urlhost)
                .join(frames["url"], F.col("h") == F.col("ind_host"))
                .where((F.col("ind_path") == "/") | (F.col("p") == F.col("ind_path"))
                       | F.col("p").startswith(F.concat(F.col("ind_path"), F.lit("/")))
                       | F.col("p").startswith(F.concat(F.col("ind_path"), F.lit("?"))))
                .select("rid", F.col("ind_url").alias("indicator"), F.lit("url.full").alias("field")))
    hash_hits = []
    for algo in ("md5", "sha1", "sha256"):
        c = F.lower(F.col(f"file_hash_{algo}"))
        hash_hits.append(base.where(c.isNotNull()).join(frames["hash"], c == F.col("ind_hash"))
                         .select("rid", F.col("ind_hash").alias("indicator"), F.lit(f"file.hash.{algo}").alias("field")))
    hits = hits_dom.unionByName(hits_ip).unionByName(hits_src).unionByName(hits_net).unionByName(hits_url)
    for h in hash_hits:
        hits = hits.unionByName(h)
    grouped = hits.groupBy("rid").agg(F.collect_set(F.struct("indicator", "field")).alias("m"))
    rows = base.join(grouped, "rid").orderBy("path", "record", "rid").collect()
    counts = {r["path"]: r["n"] for r in base.groupBy("path").agg(F.count(F.lit(1)).alias("n")).collect()}
    base.unpersist()
    yield from _table_findings(pack, rows, counts, options)


def _table_findings(pack: Pack, rows: list[Any], counts: dict[str, int], options: HuntOptions
                    ) -> Iterator[tuple[FileReport, Iterator[str]]]:
    from tracehound.sources.logs.observation import epoch, iso

    index = {(i.type, i.value): i for i in pack.indicators}
    matcher = Matcher(pack)
    by_path: dict[str, list[str]] = {}
    for r in rows:
        ts_raw = r["timestamp"]
        ts: datetime | None = None
        if ts_raw:
            try:
                ts = epoch(ts_raw) if ts_raw.replace(".", "", 1).isdigit() else iso(ts_raw)
            except ValueError:
                ts = None
        if ts is not None and ((options.since and ts < options.since) or (options.until and ts > options.until)):
            continue
        obs = Observation(ts=ts, kind="http" if r["url_full"] else "flow", src_ip=r["source_ip"] or "",
                          src_host=r["host_name"] or "", user=r["user_name"] or "",
                          domain=(r["destination_domain"] or "").lower().rstrip("."), dst_ip=r["destination_ip"] or "",
                          url=r["url_full"] or "",
                          hashes={a: r[f"file_hash_{a}"].lower() for a in ("md5", "sha1", "sha256") if r[f"file_hash_{a}"]})
        matches = []
        for m in sorted(r["m"], key=lambda x: (x["field"], x["indicator"])):
            ind = next((index[(t, m["indicator"])] for t in IType if (t, m["indicator"]) in index), None)
            if ind is None:
                continue
            observed = {"destination.domain": obs.domain or (norm_url(obs.url)[0] if obs.url else ""),
                        "destination.ip": obs.dst_ip, "source.ip": obs.src_ip, "url.full": obs.url}.get(
                m["field"], obs.hashes.get(m["field"].rsplit(".", 1)[-1], ""))
            matches.append(Match(ind, m["field"], observed))
        if not matches:
            continue
        _ = matcher  # same indicator objects as the local engine's matcher: identical enrichments
        doc = finding_doc(obs, matches, r["original"], r["path"], int(r["record"] or 0), None, f"spark-{'table'}",
                          pack.name)
        by_path.setdefault(r["path"], []).append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    for path in sorted(counts):
        lines = by_path.get(path, [])
        yield FileReport(path=path, format="table", records=counts[path], findings=len(lines)), iter(lines)


def run_spark_hunt(pack: Pack, paths: list[str], options: HuntOptions, opt: SparkOptions
                   ) -> Iterator[tuple[FileReport, Iterator[str]]]:
    spark = session(opt)
    if opt.input_format == "text":
        yield from hunt_text(spark, pack, paths, options, opt)
    else:
        yield from hunt_table(spark, pack, paths, options, opt)


__all__ = ["INSTALL_HINT", "SparkOptions", "run_spark_hunt", "UTC"]
