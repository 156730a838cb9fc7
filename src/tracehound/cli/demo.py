"""`tracehound demo`: the whole investigation on bundled sample data, ending in a report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from tracehound.cli.common import err_console, safe


@click.command()
@click.option("--out", "out_dir", default="tracehound-demo", show_default=True, metavar="DIR",
              help="Folder for the sample data, the findings, the case and the report (recreated).")
@click.option("--jobs", "-j", type=click.IntRange(0, 256), default=0, help="Worker processes (0 = one per core).")
def demo(out_dir: str, jobs: int) -> None:
    """Run a full investigation with the built-in 3CX pack on generated sample data.

    Generates three host trees (Windows and macOS), two weeks of proxy and DNS logs and an
    asset inventory, then runs scope, sweep (each host), hunt, case and report — the same
    steps as a real incident — and prints where the report is.
    """
    from tracehound.engines.hunt_summary import hunt_to_writer
    from tracehound.engines.local_hunt import HuntOptions
    from tracehound.engines.scope import run_scope
    from tracehound.findings.writer import FindingWriter
    from tracehound.fsutil import atomic_write_text
    from tracehound.intel.builtin import load_intel
    from tracehound.outputs.case_store import Case
    from tracehound.outputs.report import render
    from tracehound.samples import build_all
    from tracehound.sweep.engine import SweepOptions, run_sweep

    out = Path(out_dir)
    if out.exists():
        if not (out / "data").is_dir() and any(out.iterdir()):
            raise click.UsageError(f"{out} exists and is not a previous demo folder; choose another --out")
        shutil.rmtree(out)
    data = build_all(out / "data")
    results = out / "findings"
    results.mkdir(parents=True)
    pack = load_intel(None)
    err_console.print(f"[bold]1. intel[/]  built-in pack '{pack.name}': {len(pack.indicators)} indicators")
    with FindingWriter(str(results / "scope.jsonl")) as w:
        sres = run_scope(pack, [str(data["inventory"])], {}, w.write)
    err_console.print(f"[bold]2. scope[/]  {len(sres.hosts)} hosts in the inventory, affected: {', '.join(sorted(sres.affected))}")
    hosts: dict[str, Path] = data["hosts"]  # type: ignore[assignment]
    for name, root in hosts.items():
        with FindingWriter(str(results / f"sweep-{name}.jsonl")) as w:
            r = run_sweep(pack, SweepOptions(root=str(root), host_name=name, jobs=jobs or 1), w.write)
        err_console.print(f"[bold]3. sweep[/]  {name}: {r.verdict} ({r.findings} record{'s' if r.findings != 1 else ''} "
                          f"written, {r.files_seen} files)")
    logs: dict[str, Path] = data["logs"]  # type: ignore[assignment]
    with FindingWriter(str(results / "hunt.jsonl")) as w:
        summary = hunt_to_writer(pack, [str(p) for p in logs.values()], HuntOptions(jobs=jobs), w.write_line)
    summary.check_lookback(30, pack.c2_delay_days, None, None)
    atomic_write_text(results / "hunt-summary.json", json.dumps(summary.to_dict(), indent=1))
    err_console.print(f"[bold]4. hunt[/]   {summary.findings} findings on {len(summary.hosts)} hosts in "
                      f"{sum(f.records for f in summary.files)} log records")
    case_dir = out / "case"
    with Case(case_dir, create=True) as c:
        for f in sorted(results.iterdir()):
            c.add_file(str(f))
        hosts_view = c.hosts()
        report = render(c, "html")
    atomic_write_text(case_dir / "report.html", report)
    verdicts = ", ".join(f"{h.host}={h.verdict}" for h in hosts_view)
    err_console.print(f"[bold]5. case[/]   {safe(verdicts)}")
    err_console.print(f"[bold]6. report[/] {safe(case_dir / 'report.html')}")
