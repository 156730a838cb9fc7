"""`tracehound index`: logs into an observation store; and `hunt --store` (the store side of hunt)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from tracehound.cli.common import err_console, safe
from tracehound.defang import defang
from tracehound.engines.inputs import expand_inputs
from tracehound.errors import UsageError
from tracehound.findings.writer import FindingWriter
from tracehound.intel.model import Pack
from tracehound.sources.logs.readers import TEXT_FORMATS
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO

if TYPE_CHECKING:
    from tracehound.engines.spark_hunt import SparkOptions

EXIT_FINDINGS = 1
EXIT_NOTHING_READ = 3


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--store", "store_path", required=True, metavar="FOLDER", help="The store (created if absent).")
@click.option("--format", "fmt", type=click.Choice(TEXT_FORMATS), help="Force a format instead of detecting it per file.")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=SRC", help="Field mapping for jsonl/csv, e.g. destination.domain=query.")
@click.option("--max-line", type=click.IntRange(1024), default=DEFAULT_MAX_LINE, show_default=True, help="Longest line read, bytes.")
@click.option("--max-ratio", type=click.IntRange(2), default=DEFAULT_MAX_RATIO, show_default=True, help="Decompression bomb ratio.")
@click.option("--jobs", "-j", type=click.IntRange(0), default=0, show_default=True,
              help="Worker processes reading files (0: one per core). Files are read in parallel, each by one worker.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="spark: files read by Spark tasks (logs and STORE on storage every executor sees at the same path).")
@click.option("--spark-master", default="local[*]", show_default=True, metavar="URL", help="Spark master (local[N], spark://..., yarn).")
@click.option("--spark-conf", multiple=True, metavar="K=V", help="Spark configuration, repeatable.")
@click.option("--quiet", "-q", is_flag=True, help="No per-file lines on stderr.")
def index(paths: tuple[str, ...], store_path: str, fmt: str | None, mapping: tuple[str, ...], max_line: int,
          max_ratio: int, jobs: int, quiet: bool, engine: str = "local", spark_master: str = "local[*]",
          spark_conf: tuple[str, ...] = ()) -> None:
    """Index logs once into an observation store, then hunt it with every new pack (hunt --store).

    Every record's observations (DNS queries, HTTP hosts, TLS SNI, URL host+path, destination and
    public source IPs, DNS answers, file hashes, certificates) are kept per day, value and client
    with first/last time, count and an example (file, line, offset), plus the records read per
    file and day. Re-running is safe: content already indexed is skipped, a grown log adds only
    its new lines, an interrupted run leaves the store as it was.

    \b
    Examples:
      tracehound index /var/log/squid/ /data/zeek/ --store store/
      tracehound hunt --store store/ --intel new-iocs.csv --since 2023-01-01
      tracehound index --engine spark --spark-master spark://m:7077 /nfs/logs/ --store /nfs/th-store
    """
    from tracehound.cli.hunt import parse_map
    from tracehound.stores.ingest import FileResult, IndexOptions, index_paths
    from tracehound.stores.layout import Store

    if engine == "spark":
        from tracehound.engines.spark_store import local_path

        if jobs:
            raise UsageError("-j sets the local engine's worker processes; with --engine spark the executors' cores "
                             "read the files (--spark-master local[N], or the cluster's)")
        store_path = local_path(store_path)
    elif spark_conf:
        raise UsageError("--spark-conf needs --engine spark")
    store = Store(store_path, create=True)
    expansion = expand_inputs(list(paths))
    if expansion.symlinks and not quiet:
        shown = ", ".join(safe(p) for p in expansion.symlinks[:5])
        more = f" and {len(expansion.symlinks) - 5} more" if len(expansion.symlinks) > 5 else ""
        err_console.print(f"[yellow]not followed[/]: {len(expansion.symlinks)} symlink(s) inside the folders or globs "
                          f"given: {shown}{more} (name a symlink itself to index what it points to)")
    options = IndexOptions(fmt=fmt, mapping=parse_map(mapping), max_line=max_line, max_ratio=max_ratio, jobs=jobs)

    def on_file(r: FileResult) -> None:
        if quiet and r.status != "error":
            return
        colour = {"error": "yellow", "skipped": "dim"}.get(r.status, "green")
        detail = f": {safe(r.detail)}" if r.detail else ""
        err_console.print(f"[{colour}]{r.status}[/] {safe(r.path)} ({r.format or '-'}, {r.records} records){detail}")

    if engine == "spark":
        from tracehound.engines.spark_hunt import session
        from tracehound.engines.spark_index import index_paths_spark

        results = index_paths_spark(session(spark_options(spark_master, spark_conf)), store, expansion.files, options,
                                    on_file)
    else:
        results = index_paths(store, expansion.files, options, on_file)
    done = [r for r in results if r.status in ("indexed", "grown")]
    if not quiet:
        skipped: dict[str, int] = {}
        for r in done:
            for k, v in r.skipped.items():
                skipped[k] = skipped.get(k, 0) + v
        err_console.print(f"[bold]index:[/] {len(done)} files added ({sum(r.records for r in done)} records, "
                          f"{sum(r.bytes for r in done)} bytes), {sum(r.status == 'skipped' for r in results)} already "
                          f"indexed, {sum(r.status == 'error' for r in results)} not indexed; store {safe(store_path)}")
        for reason, n in sorted(skipped.items()):
            err_console.print(f"  skipped {n}: {safe(reason)}")
    if results and all(r.status == "error" for r in results):
        raise SystemExit(EXIT_NOTHING_READ)


def spark_options(master: str, conf_items: tuple[str, ...]) -> SparkOptions:
    from tracehound.engines.spark_hunt import SparkOptions

    conf = dict(kv.split("=", 1) for kv in conf_items if "=" in kv)
    if len(conf) != len(conf_items):
        raise UsageError("--spark-conf takes KEY=VALUE")
    return SparkOptions(master=master, conf=conf)


def run_store_hunt(pack: Pack, store_path: str, output: str, summary_path: str | None, since: datetime | None,
                   until: datetime | None, evidence: bool, misp_sightings: str | None, stix_sightings: str | None,
                   quiet: bool, spark: SparkOptions | None = None) -> None:
    """hunt --store: DuckDB on a local store, or Spark (`spark` given) on a folder or URI."""
    from tracehound.stores.layout import Store
    from tracehound.stores.query import hit_doc, host_table, hunt_store

    if spark is not None:
        from tracehound.engines.spark_hunt import session
        from tracehound.engines.spark_store import hunt_store_spark

        store, result = hunt_store_spark(session(spark), store_path, pack, since, until)
    else:
        store = Store(store_path)
        result = hunt_store(store, pack, since, until)
    with FindingWriter(output) as writer:
        for hit in result.hits:
            writer.write_line(json.dumps(hit_doc(store, hit, pack.name, evidence), ensure_ascii=False,
                                         separators=(",", ":"), default=str) + "\n")
    hosts = host_table(result.hits)
    if misp_sightings or stix_sightings:
        from tracehound.stores.sightings import misp_sightings as misp
        from tracehound.stores.sightings import stix_sightings as stix
        from tracehound.stores.sightings import write_json

        if misp_sightings:
            write_json(misp_sightings, misp(result.hits, pack.name))
        if stix_sightings:
            write_json(stix_sightings, stix(result.hits, pack.name))
    if summary_path:
        from tracehound.cli.hunt import atomic_write_text_path

        summary = {"findings": len(result.hits), "hosts": [_host_dict(h) for h in hosts.values()],
                   "coverage": result.coverage, "candidates": result.candidates}
        atomic_write_text_path(summary_path, json.dumps(summary, indent=1, ensure_ascii=False, default=str))
    if not quiet:
        _print(hosts, result.coverage, len(result.hits), pack)
    if not result.coverage["records"]:
        raise SystemExit(EXIT_NOTHING_READ)
    raise SystemExit(EXIT_FINDINGS if result.hits else 0)


def _host_dict(h: dict[str, Any]) -> dict[str, Any]:
    from tracehound.findings.ecs import iso_ts

    return {**h, "first_contact": iso_ts(h["first_contact"]), "last_contact": iso_ts(h["last_contact"])}


def _print(hosts: dict[str, dict[str, Any]], cov: dict[str, Any], findings: int, pack: Pack) -> None:
    c = err_console
    c.print(f"[bold]hunt --store:[/] {cov['records']} records indexed for {cov['from'] or '-'}..{cov['to'] or '-'}, "
            f"{findings} findings on {len(hosts)} hosts ({pack.name})")
    if hosts:
        t = Table(title="Hosts in contact with the C2 infrastructure")
        for col in ("host", "verdict", "first contact", "last contact", "hits", "indicators"):
            t.add_column(col, overflow="fold")
        for h in sorted(hosts.values(), key=lambda h: (h["first_contact"] is None, h["first_contact"] or 0, h["host"])):
            t.add_row(safe(h["host"]), h["verdict"], str(h["first_contact"] or "-"), str(h["last_contact"] or "-"),
                      str(h["count"]), safe(", ".join(defang(v) for v in sorted(h["indicators"]))[:200]))
        c.print(t)
    t = Table(title="Coverage (store)")
    for col in ("format", "files", "records", "unparsed", "from", "to"):
        t.add_column(col)
    for fmt, v in cov["formats"].items():
        t.add_row(fmt, str(v["files"]), str(v["records"]), str(v["unparsed"]), v["first"] or "-", v["last"] or "-")
    c.print(t)
    if cov["days_without_data"]:
        gaps = ", ".join(cov["days_without_data"][:10])
        more = f" and {len(cov['days_without_data']) - 10} more" if len(cov["days_without_data"]) > 10 else ""
        c.print(f"[yellow]no data[/] (not 'no hit'): {gaps}{more}")
    if cov["unparsed"]:
        c.print(f"[yellow]warning:[/] {cov['unparsed']} records the readers could not parse are in the ledger, not in "
                "the store (the raw hunt checks their raw text: hunt those files directly)")
    if sys.stderr.isatty():
        c.print("(--since/--until select whole UTC days: the store's grain)")
