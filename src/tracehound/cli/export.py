"""`tracehound export`: a pack in the formats security tools load."""

from __future__ import annotations

import time
from pathlib import Path

import click

from tracehound.cli.common import err_console, intel_option, safe
from tracehound.defang import defang
from tracehound.errors import UsageError
from tracehound.fsutil import atomic_write_text, is_special
from tracehound.intel.builtin import load_intel
from tracehound.intel.model import IType
from tracehound.intel.values import one_line, visible
from tracehound.outputs.exports import FORMATS
from tracehound.outputs.exports.select import DEFAULT_MIN_CONFIDENCE, ExportOptions, Selection, select


@click.command(epilog="Formats: " + "; ".join(f"{f.name}: {f.usage([])}" for f in FORMATS.values()))
@intel_option
@click.option("-f", "--format", "fmt", type=click.Choice(sorted(FORMATS)), help="One format (see below).")
@click.option("--all", "all_formats", is_flag=True, help="Every format into the -o folder, with a README telling which file goes where.")
@click.option("-o", "--output", default=None, metavar="PATH", help="File (one-file formats) or folder; default stdout for one file.")
@click.option("--types", multiple=True, type=click.Choice([t.value for t in IType]), help="Only these indicator types.")
@click.option("--min-confidence", type=click.IntRange(0, 100), default=DEFAULT_MIN_CONFIDENCE, show_default=True)
@click.option("--exclude-shared-hosting", is_flag=True, help="Leave out addresses that only resolved for a C2 name (hosting providers).")
@click.option("--expire", "expire_days", type=click.IntRange(1, 3650), metavar="DAYS", help="Expiry for formats that carry one.")
@click.option("--sid-base", type=click.IntRange(1, 2**31 - 10_000_000), default=9_300_000, show_default=True, help="Suricata sids start after this.")
@click.option("--certificate", type=click.Path(dir_okay=False, exists=True), help="Certificate (.cer/.pem) or signed PE, for application control.")
def export(intel: tuple[str, ...], fmt: str | None, all_formats: bool, output: str | None, types: tuple[str, ...],
           min_confidence: int, exclude_shared_hosting: bool, expire_days: int | None, sid_base: int,
           certificate: str | None) -> None:
    """Export indicators to IDS rules, SIEM rules, YARA, DNS and firewall blocklists, EDR imports,
    STIX 2.1 and MISP.

    \b
    Examples:
      tracehound export -f suricata -o 3cx.rules
      tracehound export --all -o blocklists/ --exclude-shared-hosting --expire 90
      tracehound export -f appcontrol --certificate found/3CXDesktopApp.exe -o appcontrol/
    """
    if bool(fmt) == all_formats:
        raise UsageError("give either --format FORMAT or --all (see 'tracehound export --help')")
    if all_formats and (not output or output == "-" or is_special(output)):
        raise UsageError(f"--all needs -o DIR (a folder){'' if not output else f', not {output}'}")
    if output == "-":
        output = None  # '-' is stdout, as for every other command
    started = time.perf_counter()
    pack = load_intel(intel)
    options = ExportOptions(types=types, min_confidence=min_confidence, exclude_shared_hosting=exclude_shared_hosting,
                            expire_days=expire_days, sid_base=sid_base, certificate=certificate)
    sel = select(pack, options)
    names = sorted(FORMATS) if all_formats else [fmt or ""]
    written: dict[str, dict[str, str]] = {n: FORMATS[n].exporter(sel, options) for n in names}
    for fmt_name, ind, why in sel.refused:
        err_console.print(f"[yellow]warning:[/] {fmt_name}: refused {ind.type.value} '{safe(defang(visible(ind.value)))}': {safe(why)}")
    if not all_formats and output is None:
        files = written[names[0]]
        if len(files) != 1:
            raise UsageError(f"{names[0]} writes {len(files)} files: give -o DIR")
        click.echo(next(iter(files.values())), nl=False)
        return
    assert output is not None
    target = Path(output)
    single = not all_formats and len(written[names[0]]) == 1 and not target.is_dir() and (
        target.suffix != "" or is_special(target))
    if not all_formats and not single and is_special(target):
        raise UsageError(f"{names[0]} writes {len(written[names[0]])} files: give -o DIR, not {output}")
    if single:
        atomic_write_text(target, next(iter(written[names[0]].values())))
    else:
        for files in written.values():
            for name, text in files.items():
                atomic_write_text(target / name, text)
        if all_formats:
            atomic_write_text(target / "README.txt", _readme(sel, written, options))
    n_files = sum(len(f) for f in written.values())
    refused = f", {len(sel.refused)} refused by a format" if sel.refused else ""
    err_console.print(f"wrote {n_files} file(s) to {safe(output)}: {len(sel.indicators)} indicators, "
                      f"{len(sel.left_out)} left out{refused}, {time.perf_counter() - started:.2f} s")


README_REJECTED = 100


def _readme(sel: Selection, written: dict[str, dict[str, str]], options: ExportOptions) -> str:
    """Which file goes where (only files that were written), what was left out of every format,
    what each format cannot carry and why, and any value a format refused."""
    lines = [f"tracehound export of pack '{one_line(sel.pack.name)}' — {one_line(sel.campaign)}",
             f"generated {options.now.isoformat()}", "", "Which file goes where:"]
    for name, files in written.items():
        lines.append(f"  {name}: {FORMATS[name].usage(sorted(files))}")
        lines += [f"      {f}" for f in sorted(files)] or ["      (no file: nothing in this pack that this format carries)"]
    lines += ["", f"{len(sel.indicators)} indicators exported; left out of every format:"]
    lines += [f"  {i.type.value} {one_line(i.display())}: {why}" for i, why in sel.left_out] or ["  none"]
    lines += ["", "Not carried by some formats (no place for that indicator type in the format):"]
    lines += _not_carried(sel, list(written)) or ["  none"]
    rejected = sel.pack.rejections()
    if rejected:
        lines += ["", f"Rejected when the pack was read ({len(rejected)}; not an indicator of this export):"]
        lines += [f"  {e.type} '{defang(e.value)}': {e.reason.removeprefix('rejected: ')}"
                  + (f" ({e.document}:{e.line})" if e.line else f" ({e.document})" if e.document else "")
                  for e in rejected[:README_REJECTED]]
        if len(rejected) > README_REJECTED:
            lines.append(f"  … and {len(rejected) - README_REJECTED} more (the pack's 'excluded' list holds them all)")
    if sel.refused:
        lines += ["", "Refused by a format (the value is not safe in that format's syntax; nothing was written for it):"]
        lines += [f"  {fmt}: {i.type.value} '{defang(visible(i.value))}': {why}" for fmt, i, why in sel.refused]
    return "\n".join(lines) + "\n"


def _not_carried(sel: Selection, names: list[str]) -> list[str]:
    out: list[str] = []
    for itype in IType:
        inds = sel.of(itype)
        if not inds:
            continue
        by_reason: dict[str, list[str]] = {}
        for name in names:
            why = FORMATS[name].reason(itype)
            if why:
                by_reason.setdefault(why, []).append(name)
        if not by_reason:
            continue
        shown = ", ".join(one_line(i.display()) for i in inds[:10]) + (f" and {len(inds) - 10} more" if len(inds) > 10 else "")
        out.append(f"  {itype.value} ({len(inds)}): {shown}")
        out += [f"      not in {', '.join(fmts)}: {why}" for why, fmts in by_reason.items()]
    return out
