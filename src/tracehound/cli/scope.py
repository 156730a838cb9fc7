"""`tracehound scope`: which hosts of asset inventories run an affected version."""

from __future__ import annotations

from typing import Any

import click

from tracehound.cli.common import err_console, intel_option, safe
from tracehound.errors import UsageError
from tracehound.findings.writer import FindingWriter
from tracehound.intel.builtin import load_intel

COLUMNS = ("host", "ip", "platform", "product", "version", "aliases")


def parse_hosts(items: tuple[str, ...], inventories: tuple[str, ...]) -> dict[str, str]:
    """--host NAME (one inventory) or --host FILE=NAME (several): the machine of a file without a host column."""
    out: dict[str, str] = {}
    for item in items:
        path, sep, name = item.rpartition("=")
        if not sep:
            if len(inventories) != 1:
                raise UsageError(f"--host {item!r}: with several inventories say which file: --host FILE=NAME")
            path, name = inventories[0], item
        if path not in inventories:
            raise UsageError(f"--host {item!r}: {path!r} is not one of the inventories given")
        if not name.strip():
            raise UsageError(f"--host {item!r}: empty host name")
        out[path] = name.strip()
    return out


@click.command()
@intel_option
@click.argument("inventories", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="-", metavar="FILE", help="Exposure findings as ECS JSON Lines ('-' = stdout).")
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=HEADER",
              help="Say which header holds host, ip, platform, product, version or aliases, e.g. host=AssetName.")
@click.option("--host", "hosts", multiple=True, metavar="[FILE=]NAME",
              help="Host name for an inventory without a host column (plain 'osqueryi --json' output of one machine).")
def scope(intel: tuple[str, ...], inventories: tuple[str, ...], output: str, mapping: tuple[str, ...],
          hosts: tuple[str, ...]) -> None:
    """Which hosts run an affected version, from asset inventories.

    Reads CSV (any columns; Intune and SCCM export headers are recognised), osquery JSON
    (programs / apps tables, osqueryi --json or osqueryd result logs). Product names match
    robustly (3CX Desktop App = 3CXDesktopApp = "3CX Desktop App (MacOS)"); versions match
    exactly per platform. The output is written only when every inventory was read: a run that
    stops on a bad file leaves no output file (nothing that looks complete).

    \b
    Examples:
      tracehound scope assets.csv --map host=AssetName -o scope.jsonl
      osqueryi --json 'select name, version from programs' > pc7.json
      tracehound scope pc7.json --host PC-7 -o scope.jsonl
    """
    from tracehound.engines.scope import run_scope

    maps: dict[str, str] = {}
    for m in mapping:
        k, sep, v = m.partition("=")
        if not sep or k not in COLUMNS:
            raise UsageError(f"--map {m!r}: expected {'|'.join(COLUMNS)}=HEADER")
        maps[k] = v
    host_of = parse_hosts(hosts, inventories)
    pack = load_intel(intel)
    docs: list[dict[str, Any]] = []
    result = run_scope(pack, list(inventories), maps, docs.append, host_of)  # a bad file raises before any write
    with FindingWriter(output, atomic=True) as w:
        for d in docs:
            w.write(d)
    err_console.print(f"scope: {len(result.hosts)} hosts, {len(result.related)} with the product, "
                      f"[yellow]{len(result.affected)} on an affected version[/]: {safe(', '.join(sorted(result.affected)))}")
    raise SystemExit(1 if result.affected else 0)
