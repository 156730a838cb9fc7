"""`tracehound case ...`, `tracehound report`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from tracehound.cli.common import err_console, out_console, safe
from tracehound.defang import strip_control
from tracehound.errors import InputError
from tracehound.fsutil import atomic_write_text
from tracehound.outputs.case_store import Case
from tracehound.outputs.report import FORMATS, render

COLORS = {"compromised": "red", "suspicious": "dark_orange", "exposed": "yellow", "clean": "green", "not checked": "grey50"}


@click.group()
def case() -> None:
    """Collect sweep, hunt and scope results of one investigation (SQLite)."""


@case.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Create a case folder (DIRECTORY/case.sqlite)."""
    with Case(directory, create=True):
        pass
    err_console.print(f"case ready in {safe(directory)}")


@case.command("add")
@click.argument("directory", type=click.Path(file_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def add(directory: str, files: tuple[str, ...]) -> None:
    """Add findings (JSON Lines from sweep, hunt, scope), hunt summaries (JSON), indicator packs
    (the pack.json given to --intel: its title, remediation and C2 delay go into the report) and
    address leases (CSV with ip, hostname, lease start, lease end: DHCP-like records).

    Idempotent: a file already added (same content) is skipped. Each file is added in one
    transaction, so an interrupted add leaves the case as it was before that file. A file that
    holds none of these (an advisory text, say) is refused: error, exit status 2, case unchanged
    by it (the other files are added).

    \b
    Example:
      tracehound case add case/ hunt.jsonl hunt-summary.json pack.json
    """
    refused = 0
    with Case(directory) as c:
        for f in files:
            try:
                status, n, skipped = c.add_file(f)
            except InputError as exc:
                refused += 1
                click.echo(f"tracehound: error: {strip_control(str(exc))}", err=True)  # the style of every error
                continue
            extra = f", {skipped} unreadable lines skipped" if skipped else ""
            err_console.print(f"{safe(f)}: {status} ({n} records{extra})")
    if refused:
        raise SystemExit(2)


@case.command("remove")
@click.argument("directory", type=click.Path(file_okay=False))
@click.argument("inputs", nargs=-1, required=True)
def remove(directory: str, inputs: tuple[str, ...]) -> None:
    """Take inputs out of the case, with their findings, coverage, leases and packs.

    INPUT is the path as it was added (listed under "Inputs" in the report), the file
    itself, or the start of its SHA-256 (8 hex digits or more).

    \b
    Example:
      tracehound case remove case/ advisory.txt
    """
    with Case(directory) as c:
        for spec in inputs:
            gone = c.remove_input(spec)
            err_console.print(f"{safe(gone['path'])}: removed ({gone['records']} records, sha256 {gone['sha256'][:12]})")


@case.command("status")
@click.argument("directory", type=click.Path(file_okay=False))
def status(directory: str) -> None:
    """Per-host verdicts: compromised / suspicious / exposed / clean / not checked."""
    with Case(directory) as c:
        hosts = c.hosts()
        missing = [p["name"] for p in c.packs() if p["missing"]]
    counts: dict[str, int] = {}
    t = Table(title=f"Case {safe(directory)}")
    for col in ("host", "verdict", "identities", "swept", "first C2 contact", "evidence"):
        t.add_column(col, overflow="fold")
    for h in hosts:
        counts[h.verdict] = counts.get(h.verdict, 0) + 1
        t.add_row(safe(h.host), f"[{COLORS.get(h.verdict, 'white')}]{h.verdict}[/]",
                  safe(", ".join(sorted(h.identities))[:80]), "yes" if h.swept else "no", h.first_contact or "-",
                  str(len(h.evidence)))
    out_console.print(t)
    out_console.print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    for name in missing:
        err_console.print(f"[yellow]warning:[/] pack {safe(name)} is named by findings but not in the case: the report "
                          f"lacks its remediation and C2 delay (add it: tracehound case add {safe(directory)} PACK.json)")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("-o", "--output", default=None, metavar="FILE", help="Report file (default: DIRECTORY/report.FORMAT; '-' = stdout).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
def report(directory: str, output: str | None, fmt: str) -> None:
    """Write the case report: verdicts, C2 timeline, per-host evidence and remediation.

    HTML is one self-contained file (no scripts, no network requests). JSON lists every
    host with its verdict, identities and evidence.

    \b
    Example:
      tracehound report case/ -o report.html
      tracehound report case/ -f json -o - | jq '.hosts[] | select(.verdict=="compromised")'
    """
    with Case(directory) as c:
        text = render(c, fmt)
    target = output or str(Path(directory) / f"report.{fmt}")
    if target == "-":
        click.echo(text, nl=False)
    else:
        atomic_write_text(Path(target), text)
        err_console.print(f"wrote {safe(target)}")
