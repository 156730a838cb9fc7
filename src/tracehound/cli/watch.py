"""`tracehound watch`: follow intel sources and re-hunt the store when they change."""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO

import click

from tracehound.cli.common import err_console, safe
from tracehound.defang import defang
from tracehound.errors import InputError, UsageError
from tracehound.findings.ecs import matched_indicators
from tracehound.intel.model import rejection_summary

EXIT_NEW = 1
EXIT_NO_SOURCE = 3
EXIT_INTERRUPTED = 130


def _state_path(store: str, case: str | None, state: str | None) -> Path:
    if state:
        return Path(state)
    if case:
        return Path(case) / "watch-state.json"
    root = Path(store).absolute()
    return root.with_name(root.name + ".watch.json")


@click.command()
@click.option("--store", "store_path", required=True, metavar="FOLDER", help="The observation store ('tracehound index').")
@click.option("--source", "source_uris", multiple=True, required=True, metavar="URI",
              help="taxii+https://HOST/ROOT/collections/ID/, misp+https://HOST/FEED/, or a pack file or folder. Repeatable.")
@click.option("--case", "case_dir", metavar="CASE", help="Append new findings and withdrawals to this case.")
@click.option("--state", "state_file", metavar="FILE",
              help="Watch state (default: CASE/watch-state.json, or STORE.watch.json beside the store).")
@click.option("-o", "--output", metavar="FILE", help="Also append new findings as ECS JSON Lines ('-' = stdout).")
@click.option("--interval", type=click.FloatRange(1.0), default=300.0, show_default=True, metavar="S",
              help="Seconds between polls.")
@click.option("--once", is_flag=True, help="Poll once and exit (scripts, cron): 0 nothing new, 1 new findings, "
              "3 no source could be polled.")
@click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True, metavar="S",
              help="Network timeout per request.")
@click.option("--since", metavar="DATE", help="Hunt store days from this date.")
@click.option("--until", metavar="DATE", help="Hunt store days up to this date.")
@click.option("--quiet", "-q", is_flag=True, help="Only polls that found something, and errors.")
def watch(store_path: str, source_uris: tuple[str, ...], case_dir: str | None, state_file: str | None,
          output: str | None, interval: float, once: bool, timeout: float, since: str | None, until: str | None,
          quiet: bool) -> None:
    """Follow intel sources; on each change hunt the store for the new or changed indicators only.

    Prints, per poll, what is new: hosts never seen in contact before, earlier first contacts,
    indicators withdrawn (their earlier findings are marked, not deleted). Requests are
    conditional (ETag / If-Modified-Since, TAXII added_after, MISP manifest timestamps); a
    failing source is retried with back-off and keeps its last good indicators.

    \b
    Examples:
      tracehound watch --store store/ --case case/ --source taxii+https://taxii.example/api/collections/ID/
      tracehound watch --store store/ --source misp+https://feeds.example/misp/ --source extra.csv --once
    """
    from tracehound.cli.hunt import parse_when
    from tracehound.engines.watch import run_poll, write_poll
    from tracehound.engines.watch_state import WatchState
    from tracehound.intel.sources import Options, SourceError, open_source
    from tracehound.outputs.case_store import Case
    from tracehound.stores.layout import Store

    Store(store_path)  # a usage error now, not at the first poll
    options = Options(timeout=timeout)
    sources = []
    for uri in source_uris:
        try:
            sources.append(open_source(uri, options))
        except SourceError as exc:
            raise UsageError(f"--source {exc}") from None
    if len({s.label for s in sources}) != len(sources):
        raise UsageError("--source: the same source given twice")
    state_path = _state_path(store_path, case_dir, state_file)
    lock = _lock(state_path)
    state = WatchState.load(state_path, str(Path(store_path).absolute()))
    case = Case(case_dir) if case_dir else None
    window = parse_when(since, "--since"), parse_when(until, "--until")
    polls = 0
    try:
        while True:
            try:
                report = run_poll(store_path, sources, state, interval=interval, since=window[0], until=window[1],
                                  case=case)
            except InputError as exc:  # the store mid-commit by an 'index' run, a damaged part: next poll retries
                if once:
                    raise
                err_console.print(f"[red]poll failed[/]: {safe(exc)}; state unchanged, next poll in {interval:g} s",
                                  soft_wrap=True)
                state = WatchState.load(state_path, str(Path(store_path).absolute()))
                time.sleep(interval)
                continue
            write_poll(report, state, case, output)
            polls += 1
            _print(report, quiet)
            if once:
                if report.all_failed:
                    raise SystemExit(EXIT_NO_SOURCE)
                raise SystemExit(EXIT_NEW if report.findings else 0)
            time.sleep(interval)
    except KeyboardInterrupt:
        err_console.print(f"watch: stopped after {polls} poll(s); state in {safe(state.path)}")
        raise SystemExit(EXIT_INTERRUPTED) from None
    finally:
        if case is not None:
            case.close()
        lock.close()


def _lock(state_path: Path) -> IO[str]:
    """One watch per state file: a second one would poll, hunt and append the same findings twice."""
    import fcntl

    state_path.parent.mkdir(parents=True, exist_ok=True)
    fh = state_path.with_name(state_path.name + ".lock").open("a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise UsageError(f"another 'tracehound watch' is using {state_path} (give it its own --state FILE)") from None
    return fh


def _ts(value: str) -> str:
    return value.replace("T", " ").replace("Z", "").split("+")[0][:19] if value else "-"


def _print(report: object, quiet: bool) -> None:
    from tracehound.engines.watch import PollReport

    assert isinstance(report, PollReport)
    def c_print(text: str) -> None:
        err_console.print(text, soft_wrap=True)  # one line per fact: greppable logs

    news = report.findings or report.withdrawn or report.earlier or report.dropped
    errors = [s for s in report.sources if s.status in ("error", "waiting")]
    if quiet and not news and not errors:
        return
    changed = sum(s.status == "changed" for s in report.sources)
    store = "; store changed: every indicator re-hunted" if report.store_changed else ""
    c_print(f"[bold]poll {report.poll}[/] {_ts(report.at)}: {len(report.sources)} source(s), {changed} changed, "
            f"{len(errors)} failing; indicators +{len(report.added)} ~{len(report.changed)} -{len(report.withdrawn)}"
            f"{store}; hunted {report.hunted}; {len(report.findings)} new finding(s)")
    for label, n in report.dropped:
        c_print(f"  [yellow]source no longer given[/] {safe(label)}: its {n} indicators leave the watched set")
    for s in report.sources:
        if s.status == "error":
            c_print(f"  [red]source error[/] {safe(s.label)}: {safe(s.error)}; retry in {s.retry_in:.0f} s "
                    f"(failure {s.failures}; its last {s.indicators} indicators kept)")
        elif s.status == "waiting":
            c_print(f"  [yellow]backing off[/] {safe(s.label)} until {_ts(s.retry_at)} after {s.failures} failure(s): "
                    f"{safe(s.error)}")
        elif not quiet:
            asked = f", {s.requests} request(s)" if s.kind != "local" else ""
            c_print(f"  {s.status} {safe(s.label)}: {s.indicators} indicators, {s.fetched} document(s) fetched{asked}")
        if s.rejected:
            c_print(f"  [yellow]rejected[/] {safe(s.label)}: {safe(rejection_summary(s.rejected))}")
        for reason, n in sorted(s.skipped.items()):
            c_print(f"  skipped {n} ({safe(s.label)}): {safe(reason)}")
    for host, first in report.new_hosts:
        c_print(f"  [red]new host[/] {safe(host)}: first contact {_ts(first)}")
    for host, first, prev in report.earlier:
        c_print(f"  [red]earlier first contact[/] {safe(host)}: {_ts(first)} (was {_ts(prev)})")
    for doc in report.findings[:50]:
        th = doc["tracehound"]
        matched = matched_indicators(doc)
        seen = defang(matched[0]["atomic"]) if matched else ""
        c_print(f"  new finding {safe(th.get('host'))}: {safe(th.get('observed_kind'))} {safe(seen)} "
                f"{_ts(str(th.get('first_contact') or ''))}..{_ts(str(th.get('last_contact') or ''))} "
                f"x{th.get('count')} (indicator {safe(', '.join(defang(m['value']) for m in matched))})")
    if len(report.findings) > 50:
        c_print(f"  … and {len(report.findings) - 50} more new findings")
    for key in report.withdrawn:
        hosts = report.withdrawn_hits.get(key, [])
        what = f"findings on {len(hosts)} host(s) marked withdrawn: {safe(', '.join(hosts[:10]))}" if hosts \
            else "no finding had matched it"
        c_print(f"  [yellow]withdrawn[/] {safe(report.indicator_view.get(key, key))}: {what}")
    if report.reinstated:
        c_print(f"  reinstated {report.reinstated} finding(s) whose indicator came back")
    if report.already_in_case:
        c_print(f"  {report.already_in_case} finding(s) already in the case (not added again)")
    if report.case_file:
        c_print(f"  case: added {safe(report.case_file)}")
