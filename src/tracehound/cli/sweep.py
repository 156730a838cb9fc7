"""`tracehound sweep`: check one endpoint, live or an offline copy, read-only."""

from __future__ import annotations

import os
import sys
import time

import click
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from tracehound.cli.common import err_console, intel_option, safe
from tracehound.findings.writer import FindingWriter
from tracehound.intel.builtin import load_intel
from tracehound.sweep.engine import DEFAULT_MAX_FILE, DEFAULT_YARA_MAX, SweepOptions, run_sweep
from tracehound.sweep.products import load_definition_file

VERDICT_EXIT = {"clean": 0, "exposed": 1, "suspicious": 1, "compromised": 1}
EXIT_INCOMPLETE = 3  # as in hunt: checks asked for could not run (hunt: nothing readable), so "clean" is not proven


def _be_nice() -> None:
    """Low CPU and I/O priority: the sweep shares the host with its users."""
    try:
        os.nice(10)
    except (OSError, AttributeError):
        pass
    try:
        import psutil

        p = psutil.Process()
        if hasattr(psutil, "IOPRIO_CLASS_IDLE"):
            p.ionice(psutil.IOPRIO_CLASS_IDLE)
    except Exception:  # noqa: BLE001 - best effort only
        pass


@click.command()
@intel_option
@click.option("--root", default=None, metavar="PATH",
              help="Folder to sweep: a mounted disk image or triage collection (offline). Default: / of this live host.")
@click.option("--target", default=None, metavar="PATH",
              help="What to sweep, offline, read in place: a folder, a triage collection archive (zip, tar, tar.gz, "
                   "tar.zst: KAPE, Velociraptor, UAC, CyLR layouts) or a disk image (raw, E01, VMDK, VHDX, QCOW2; "
                   "MBR/GPT; ext4, NTFS, FAT).")
@click.option("--live/--offline", default=None, help="Also check running processes and connections (default: live when --root is not given).")
@click.option("--yara", "yara", multiple=True, metavar="RULES", help="YARA rule file or folder (repeatable). Loki/THOR externals are defined.")
@click.option("-o", "--output", default="-", metavar="FILE", help="Findings as ECS JSON Lines; the last line is the host summary.")
@click.option("--host-name", default="", help="Host name to record (default: from the tree, or this machine's name).")
@click.option("--exclude", "excludes", multiple=True, metavar="GLOB", help="Skip paths matching GLOB (relative path or name).")
@click.option("--max-file-size", default=DEFAULT_MAX_FILE // 1048576, show_default=True, metavar="MiB", help="Files larger than this are not read (counted).")
@click.option("--yara-max-size", default=DEFAULT_YARA_MAX // 1048576, show_default=True, metavar="MiB", help="Largest file scanned with YARA.")
@click.option("--yara-timeout", default=30, show_default=True, metavar="SECONDS", help="YARA time limit per file.")
@click.option("--no-rule-cache", "no_rule_cache", is_flag=True,
              help="Compile the YARA rules without reading or writing the cache of compiled rules "
                   "($XDG_CACHE_HOME/tracehound/yara, else ~/.cache/tracehound/yara).")
@click.option("--product-def", "product_defs", multiple=True, metavar="FILE",
              help="Product definition (JSON: distribution points, update package names) for a product the pack names; "
                   "built-in ones are in tracehound/packs/products/.")
@click.option("--one-file-system", is_flag=True, help="Do not descend into other mounted file systems.")
@click.option("--jobs", "-j", type=click.IntRange(0, 256), default=0, help="Worker processes (0 = one per core).")
@click.option("--nice/--no-nice", default=True, show_default=True, help="Run at low CPU and I/O priority.")
@click.option("--quiet", "-q", is_flag=True)
def sweep(intel: tuple[str, ...], root: str | None, target: str | None, live: bool | None, yara: tuple[str, ...], output: str,
          host_name: str, excludes: tuple[str, ...], max_file_size: int, yara_max_size: int, yara_timeout: int,
          no_rule_cache: bool,
          product_defs: tuple[str, ...], one_file_system: bool, jobs: int, nice: bool, quiet: bool) -> None:
    """Sweep one host for exposure (affected versions, compromised certificate) and compromise
    (payload hashes, YARA hits, C2 connections, browser history visits).

    Read-only: never writes to, executes or follows symlinks in what it scans; FIFOs,
    devices and /proc are skipped; unreadable files are counted, not fatal.

    \b
    Examples:
      tracehound sweep -o $(hostname).jsonl                      # this live host
      tracehound sweep --root /mnt/image --host-name PC042 -o PC042.jsonl
      tracehound sweep --root /mnt/image --yara signature-base/yara/
      tracehound sweep --target Collection-PC042-2023-03-30.zip -o PC042.jsonl   # read in place
      tracehound sweep --target server01.E01 -o server01.jsonl

    Exit status: 0 clean, 1 exposed/suspicious/compromised, 2 bad usage, 3 nothing found but a
    requested check did not run (e.g. a YARA rule file did not load), 130 interrupted.
    """
    pack = load_intel(intel)
    if root is not None and not os.path.isdir(root):
        raise click.BadParameter(f"{root} is not a folder", param_hint="--root")
    if root is not None and target is not None:
        raise click.BadParameter("give --target or --root, not both", param_hint="--target")
    is_live = live if live is not None else (root is None and target is None)
    if target is not None and is_live:
        raise click.BadParameter("--live sweeps this machine: it cannot be combined with --target", param_hint="--live")
    opened = None
    if target is not None:
        from tracehound.sources.targets import TargetError, open_target

        try:  # a bad archive or image stops here with its path and reason, before any output is written
            opened = open_target(target)
        except TargetError as exc:
            raise click.BadParameter(safe(str(exc)), param_hint="--target") from None
    for f in product_defs:  # a bad definition stops here with its file and field named, not in a worker
        load_definition_file(f)
    if nice:
        _be_nice()
    options = SweepOptions(root=root or "/", target=target or "", live=is_live, host_name=host_name, yara=list(yara), excludes=excludes,
                           max_file_size=max_file_size * 1048576, yara_max_size=yara_max_size * 1048576,
                           yara_timeout=yara_timeout, rule_cache=not no_rule_cache, jobs=jobs, one_file_system=one_file_system,
                           product_defs=list(product_defs))
    if yara or any(r.kind == "yara" for r in pack.rules):
        from tracehound.intel.rule_check import pack_yara
        from tracehound.sweep.yara_cache import default_dir
        from tracehound.sweep.yara_rules import compile_rules

        extra = pack_yara(pack)  # the pack's own valid rules (pasted in its advisory), one compile with --yara
        rs = compile_rules(list(yara), None if no_rule_cache else default_dir(), extra)  # run_sweep reuses these
        for err in rs.errors:
            err_console.print(f"[yellow]YARA rule file not loaded:[/] {safe(err)}")
        for r in pack.rules:
            if r.kind == "yara" and r.error:
                err_console.print(f"[yellow]pack YARA rule {safe(r.name)} not run:[/] {safe(r.error)}")
        if not quiet:
            n_pack = sum(len(names) for _, _, names in extra)
            where = " and ".join(([f"{len(rs.files) - len(extra)} files"] if yara else [])
                                 + ([f"the pack ({n_pack})" if yara else "the pack"] if extra else [])) or "nothing"
            err_console.print(f"YARA: {rs.count} rules from {where}"
                              + (f", [red]{len(rs.errors)} not loaded: the sweep will be incomplete[/]" if rs.errors else "") + f" ({rs.cache})")
    show = not quiet and sys.stderr.isatty()
    progress = Progress(TextColumn("[bold]sweep[/] {task.fields[files]:,} files ({task.fields[fps]:,.0f}/s), "
                                   "{task.fields[mb]:,.0f} MB ({task.fields[mbps]:,.0f} MB/s)"),
                        TimeElapsedColumn(), console=err_console, disable=not show)
    started = time.monotonic()

    def on_progress(files: int, nbytes: int) -> None:
        secs = max(time.monotonic() - started, 1e-6)
        progress.update(task, files=files, mb=nbytes / 1048576, fps=files / secs, mbps=nbytes / 1048576 / secs)

    with FindingWriter(output) as writer, progress:
        task = progress.add_task("sweep", total=None, files=0, mb=0.0, fps=0.0, mbps=0.0)
        result = run_sweep(pack, options, writer.write, on_progress, target=opened)
    if not quiet:
        color = {"clean": "green", "exposed": "yellow", "suspicious": "yellow", "compromised": "red"}[result.verdict]
        err_console.print(f"[bold]{safe(result.host)}[/]: [{color}]{safe(result.verdict_text())}[/] — "
                          f"{result.findings} findings, {result.files_seen} files seen, {result.files_read} read "
                          f"({result.bytes_read / 1048576:.1f} MB)")
        for reason, n in sorted(result.skipped.items()):
            err_console.print(f"  skipped {n}: {safe(reason)}")
        if result.opened_without_noatime:
            err_console.print(f"  [yellow]access times[/]: {result.opened_without_noatime} folders/files opened without "
                              "O_NOATIME (not owner or root): their atime may have changed")
        for item in result.not_checked:
            where = f"{item['file']}:{item['line']}" if item.get("line") else item["file"]
            err_console.print(f"  [red]not checked[/] ({item['check']}): {safe(where)}: {safe(item['reason'])}")
    if result.interrupted:
        raise SystemExit(130)
    code = VERDICT_EXIT[result.verdict]
    raise SystemExit(EXIT_INCOMPLETE if code == 0 and result.not_checked else code)
