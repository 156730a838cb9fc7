"""`tracehound hunt`: find contacts with the C2 infrastructure in logs."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from tracehound.cli.common import err_console, intel_option, safe
from tracehound.defang import defang
from tracehound.errors import UsageError
from tracehound.findings.ecs import VERDICT_ORDER
from tracehound.fsutil import atomic_write_text
from tracehound.intel.builtin import load_intel
from tracehound.intel.model import Pack
from tracehound.matching.sigma.cli import sigma_setup
from tracehound.sources.logs.readers import BY_NAME, TEXT_FORMATS
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE, DEFAULT_MAX_RATIO

if TYPE_CHECKING:
    from tracehound.engines.hunt_summary import HostTimeline, HuntSummary
    from tracehound.engines.local_hunt import FileReport

EXIT_FINDINGS = 1
EXIT_NOTHING_READ = 3

HOST_ROWS = 25  # hit hosts listed on stderr without --all-hosts: the rest are in --summary and the report


def parse_when(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    v = value.strip()
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"{option}: {value!r} is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z])") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_map(items: tuple[str, ...]) -> dict[str, str]:
    from tracehound.sources.logs.readers.generic import TARGETS

    out: dict[str, str] = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep or not key or not val:
            raise UsageError(f"--map {item!r}: expected FIELD=SOURCE_FIELD, e.g. destination.domain=query")
        if key not in TARGETS:
            raise UsageError(f"--map {item!r}: unknown field {key!r} (known: {', '.join(TARGETS)})")
        out[key] = val
    return out


def _formats_help() -> str:
    return "; ".join(f"{name}: {cls.description}" for name, cls in sorted(BY_NAME.items())) + "; evtx: Windows EVTX (Sysmon 3/22, Hashes)"


@click.command(epilog="Formats: " + _formats_help())
@intel_option
@click.argument("paths", nargs=-1)
@click.option("--store", "store", metavar="FOLDER", help="Hunt an observation store built by 'tracehound index' instead of logs.")
@click.option("--evidence", is_flag=True, help="With --store: each finding's raw log line, read back from its file and offset.")
@click.option("--misp-sightings", metavar="FILE", help="With --store: MISP sightings (type 0, date = last contact) as JSON.")
@click.option("--stix-sightings", metavar="FILE", help="With --store: STIX 2.1 sighting objects as a bundle.")
@click.option("-o", "--output", default="-", metavar="FILE", help="Findings as ECS JSON Lines ('-' = stdout).")
@click.option("--summary", "summary_path", metavar="FILE", help="Also write the summary (hosts, coverage, counts) as JSON.")
@click.option("--since", metavar="DATE", help="Ignore records before this time (UTC unless an offset is given).")
@click.option("--until", metavar="DATE", help="Ignore records after this time.")
@click.option("--lookback", type=click.IntRange(1, 3650), default=30, show_default=True, metavar="DAYS",
              help="Warn when logs do not reach this many days back from --until (or the newest record).")
@click.option("--format", "fmt", type=click.Choice(TEXT_FORMATS), help="Force a format instead of detecting it per file.")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=SRC", help="Field mapping for jsonl/csv, e.g. destination.domain=query.")
@click.option("--weak", is_flag=True, help="Also report weak host-only matches (TLS/CONNECT to a host whose indicator is a URL).")
@click.option("--jobs", "-j", type=click.IntRange(0, 256), default=0, help="Worker processes (0 = one per core).")
@click.option("--max-line", type=click.IntRange(1024), default=DEFAULT_MAX_LINE, show_default=True, help="Longest line read, bytes; longer ones are skipped and counted.")
@click.option("--max-ratio", type=click.IntRange(2), default=DEFAULT_MAX_RATIO, show_default=True, help="Stop a compressed file that expands more than this ratio (decompression bomb).")
@click.option("--no-prefilter-cache", is_flag=True,
              help="Compile the literal prefilter of a large pack without reading or writing the cache of compiled "
                   "databases ($XDG_CACHE_HOME/tracehound/hyperscan, else ~/.cache/tracehound/hyperscan).")
@click.option("--no-first-seen", is_flag=True, help="Skip the second pass that finds each hit host's first appearance in the logs.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="spark: run on Apache Spark (pip install 'tracehound[spark]'); text logs on shared storage, or tables.")
@click.option("--spark-master", default="local[*]", show_default=True, metavar="URL", help="Spark master (local[N], spark://..., yarn).")
@click.option("--spark-conf", multiple=True, metavar="K=V", help="Spark configuration, repeatable.")
@click.option("--input-format", type=click.Choice(["text", "parquet", "json"]), default="text", show_default=True,
              help="Spark engine: text logs (any supported format), or Parquet/JSON tables read with --map.")
@click.option("--output-format", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True,
              help="parquet (Spark engine): findings written as a Parquet folder at -o.")
@click.option("--resume", is_flag=True, help="Continue an interrupted hunt with the same -o FILE: files done are skipped, nothing is duplicated.")
@click.option("--sigma", "sigma_paths", multiple=True, metavar="PATH",
              help="Sigma rule file or folder, repeatable: run the rules over the same logs (docs/sigma.md).")
@click.option("--explain", "explain_rule", metavar="RULE", help="With --sigma: show a rule's records and field mapping, then exit.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary on stderr.")
@click.option("--all-hosts", is_flag=True, help=f"List every hit host on stderr (default: the first {HOST_ROWS}).")
def hunt(intel: tuple[str, ...], paths: tuple[str, ...], output: str, summary_path: str | None, since: str | None,
         until: str | None, lookback: int, fmt: str | None, mapping: tuple[str, ...], weak: bool, jobs: int,
         max_line: int, max_ratio: int, no_prefilter_cache: bool, no_first_seen: bool, engine: str, spark_master: str, spark_conf: tuple[str, ...],
         input_format: str, output_format: str, resume: bool, sigma_paths: tuple[str, ...], explain_rule: str | None,
         quiet: bool, all_hosts: bool = False, store: str | None = None, evidence: bool = False,
         misp_sightings: str | None = None, stix_sightings: str | None = None) -> None:
    """Hunt logs for contacts with the pack's C2 domains, IPs, URLs, hashes and certificates.

    PATHS are files, folders (searched recursively) or globs; .gz .bz2 .xz .zst are read
    transparently. The format is detected per file. Domains match with their subdomains on
    label boundaries, IPs exactly, URLs by host and path prefix (scheme-agnostic).

    \b
    Examples:
      tracehound hunt /var/log/squid/ -o hits.jsonl
      tracehound hunt --since 2023-03-01 --intel 3cx --intel extra.stix.json dns/*.log.gz
      tracehound hunt --format jsonl --map destination.domain=query export.jsonl
      tracehound hunt --store store/ --intel new.csv --evidence   # logs indexed once (tracehound index)
      tracehound hunt --engine spark --spark-master spark://m:7077 --store hdfs:///th/store --intel new.csv

    Exit status: 0 no finding, 1 findings, 2 bad usage, 3 nothing could be read.
    """
    if store and sigma_paths:
        raise UsageError("--sigma runs over log PATHS, not over --store (the store keeps observations, not records)")
    pack = load_intel(intel)
    sigma = sigma_setup(sigma_paths, explain_rule, engine, quiet, None if store else pack)  # --explain exits here
    if store and not quiet and any(r.kind == "sigma" for r in pack.rules):
        err_console.print("[yellow]the pack's Sigma rules are not run over --store[/] (it keeps observations, not records)")
    if not store and not paths:
        raise UsageError("Missing argument 'PATHS...' (log files or folders), or --store FOLDER")
    if store and paths:
        raise UsageError("give log PATHS or --store FOLDER, not both")
    if not store and (evidence or misp_sightings or stix_sightings):
        raise UsageError("--evidence, --misp-sightings and --stix-sightings need --store")
    if store:
        from tracehound.cli.index import run_store_hunt, spark_options

        run_store_hunt(pack, store, output, summary_path, parse_when(since, "--since"), parse_when(until, "--until"),
                       evidence, misp_sightings, stix_sightings, quiet,
                       spark_options(spark_master, spark_conf) if engine == "spark" else None)
    # The raw hunt's modules are imported here, not at start-up: `hunt --store` does not pay for them
    from tracehound.engines.hunt_summary import HuntSummary, hunt_to_writer, report_from_dict
    from tracehound.engines.inputs import Expansion, expand_inputs
    from tracehound.engines.local_hunt import HuntOptions
    from tracehound.engines.resume import HuntState
    from tracehound.findings.writer import FindingWriter

    options = HuntOptions(since=parse_when(since, "--since"), until=parse_when(until, "--until"), fmt=fmt,
                          mapping=parse_map(mapping), include_weak=weak, max_line=max_line, max_ratio=max_ratio, jobs=jobs,
                          prefilter_cache="" if no_prefilter_cache else None, track_sightings=not no_first_seen)
    progress = _progress() if not quiet and sys.stderr.isatty() else _NoProgress()
    started = time.monotonic()
    seen = {"records": 0, "files": 0}

    def on_file(report: FileReport) -> None:
        if report.error and not quiet:
            err_console.print(f"[yellow]skipped[/] {safe(report.path)}: {safe(report.error)}")
        if report.truncated and not quiet:
            err_console.print(f"[yellow]partly read[/] {safe(report.path)}: {safe(report.truncated)}")
        seen["records"] += report.records
        seen["files"] += 1
        rate = seen["records"] / max(time.monotonic() - started, 1e-6)
        progress.update(task, advance=_size(report.path), files=seen["files"], records=seen["records"], rate=rate)

    run_engine = None
    if engine == "spark":
        from tracehound.engines.spark_hunt import SparkOptions, run_spark_hunt

        conf = dict(kv.split("=", 1) for kv in spark_conf if "=" in kv)
        if len(conf) != len(spark_conf):
            raise UsageError("--spark-conf takes KEY=VALUE")
        sopt = SparkOptions(master=spark_master, conf=conf, input_format=input_format)

        def run_engine(p: Pack, f: list[str], o: HuntOptions) -> Iterator[tuple[FileReport, Iterator[str]]]:
            return run_spark_hunt(p, f, o, sopt)
    elif input_format != "text" or output_format != "jsonl":
        raise UsageError("--input-format parquet/json and --output-format parquet need --engine spark")
    if engine == "spark" and resume:
        raise UsageError("--resume works with the local engine (Spark retries failed tasks itself)")
    jsonl_out = output
    if output_format == "parquet":
        if output in ("", "-"):
            raise UsageError("--output-format parquet needs -o FOLDER")
        jsonl_out = output.rstrip("/") + ".jsonl"
    if sigma is not None:
        run_engine = sigma.engine(run_engine)
    state = HuntState.start(jsonl_out, resume)
    expansion = expand_inputs(list(paths)) if input_format == "text" else Expansion(list(paths))
    files = expansion.files
    if expansion.symlinks and not quiet:
        err_console.print(f"[yellow]not followed[/]: {len(expansion.symlinks)} symlink(s) inside the folders or globs given, "
                          f"e.g. {safe(expansion.symlinks[0])} (name a symlink itself to hunt what it points to)")
    todo = state.pending(files)
    summary = HuntSummary()
    for line in state.previous_findings():
        summary.add_finding(json.loads(line))
    summary.files += [report_from_dict(rec["report"]) for f, rec in state.done.items() if f in files]
    if resume and not quiet:
        err_console.print(f"resuming: {len(files) - len(todo)} of {len(files)} files already hunted")
    try:
        with FindingWriter(jsonl_out, append=resume) as writer, progress:
            task = progress.add_task("hunt", total=sum(_size(f) for f in files),
                                     completed=sum(_size(f) for f in files if f not in todo), files=0, records=0, rate=0.0)

            def recorded(report: FileReport) -> None:
                on_file(report)
                state.record(report.path, report.to_dict(), writer.tell())

            if todo:
                summary = hunt_to_writer(pack, todo, options, writer.write_line, recorded,
                                         first_seen=not no_first_seen, summary=summary, engine=run_engine)
    except KeyboardInterrupt:
        err_console.print(f"[red]interrupted[/]: {safe(output)} holds the complete findings of "
                          f"{len(state.done)} files; continue with the same command and --resume")
        raise SystemExit(130) from None
    state.finish()
    if output_format == "parquet":
        from tracehound.engines.spark_hunt import SparkOptions as _SO
        from tracehound.engines.spark_hunt import session

        spark = session(_SO(master=spark_master))
        spark.read.json(jsonl_out).write.mode("overwrite").parquet(output)
    summary.check_lookback(lookback, pack.c2_delay_days, options.since, options.until)
    if summary_path:
        atomic_write_text_path(summary_path, json.dumps(dict(summary.to_dict(), **sigma.summary() if sigma else {}),
                                                        indent=1, ensure_ascii=False))
    if not quiet:
        print_summary(summary, all_hosts)
        if sigma is not None:
            sigma.print_run()
    readable = [f for f in summary.files if not f.error]
    if not readable:
        raise SystemExit(EXIT_NOTHING_READ)
    raise SystemExit(EXIT_FINDINGS if summary.findings else 0)


def _progress() -> Any:
    """The progress bar on a terminal (rich.progress imported only then: 0.01 s of every start otherwise)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    return Progress(TextColumn("[bold]hunt"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TextColumn("{task.fields[files]} files, {task.fields[records]:,} records ({task.fields[rate]:,.0f}/s)"),
                    TimeElapsedColumn(), console=err_console)


class _NoProgress:
    """What the hunt calls of a rich Progress, doing nothing (-q, or stderr not a terminal)."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *args: Any, **fields: Any) -> int:
        return 0

    def update(self, *args: Any, **fields: Any) -> None:
        return None


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def atomic_write_text_path(path: str, text: str) -> None:
    from pathlib import Path

    atomic_write_text(Path(path), text + "\n")


def _fmt_ts(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _hit_names(h: HostTimeline, limit: int = 200) -> str:
    """What a host hit: its indicators (defanged), then the Sigma rules it hit ('sigma: NAME')."""
    names = [defang(v) for v in sorted(h.indicators)] + [f"sigma: {r}" for r in sorted(h.rules)]
    text = ", ".join(names)
    return text if len(text) <= limit else text[:limit] + f" … ({len(names)} in all)"


def print_summary(summary: HuntSummary, all_hosts: bool = False) -> None:
    from rich.table import Table

    c = err_console
    files_ok = sum(1 for f in summary.files if not f.error)
    records = sum(f.records for f in summary.files)
    c.print(f"[bold]hunt:[/] {files_ok}/{len(summary.files)} files read, {records} records, "
            f"{summary.findings} findings on {len(summary.hosts)} hosts")
    if summary.hosts:
        t = Table(title="Hosts in contact with the C2 infrastructure")
        for col in ("host", "verdict", "first seen", "first contact", "last contact", "gap", "hits", "indicators / rules"):
            t.add_column(col, overflow="fold")
        # Strongest verdict first, then by first contact: a cut table never hides a compromised host behind others.
        ordered = sorted(summary.hosts.values(), key=lambda h: (-VERDICT_ORDER.get(h.verdict, 0), h.first_contact is None,
                                                                h.first_contact or 0, h.host))
        shown = ordered if all_hosts else ordered[:HOST_ROWS]
        for h in shown:
            gap = h.gap()
            t.add_row(safe(h.host), h.verdict, _fmt_ts(h.first_seen), _fmt_ts(h.first_contact), _fmt_ts(h.last_contact),
                      f"{gap.total_seconds() / 86400:.1f} d" if gap is not None else "-", str(h.count),
                      safe(_hit_names(h)))
        c.print(t)
        if len(ordered) > len(shown):
            c.print(f"… and {len(ordered) - len(shown)} more (see --summary or the report; --all-hosts lists them all)")
    cov = summary.coverage()
    if cov:
        t = Table(title="Coverage")
        for col in ("format", "files", "records", "from", "to"):
            t.add_column(col)
        for fmt, v in sorted(cov.items()):
            t.add_row(fmt, str(v["files"]), str(v["records"]), v["first"] or "-", v["last"] or "-")
        c.print(t)
    for reason, n in sorted(summary.skipped().items()):
        c.print(f"  skipped {n}: {safe(reason)}")
    for enc, n in sorted(summary.decoded().items()):
        c.print(f"  decoded as {enc}: {n} file{'s' if n != 1 else ''}")
    for w in summary.warnings:
        c.print(f"[yellow]warning:[/] {safe(w)}")
