"""`tracehound intel ...`: build, inspect, merge and compare indicator packs."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable

import click
from rich.table import Table

from tracehound.cli.common import err_console, intel_option, out_console, safe
from tracehound.intel.builtin import builtin_names, load_builtin, load_intel
from tracehound.intel.documents import DEFAULT_MAX_BYTES
from tracehound.intel.extract import ExtractOptions, extract_files
from tracehound.intel.formats import FORMATS, read_pack, write_pack
from tracehound.intel.formats.misp_attrs import WARNING as FEED_WARNING
from tracehound.intel.model import REJECTED, Indicator, IType, Pack, Rule

CONTEXT_HELP = ("Take MISP attributes marked to_ids false as indicators (confidence 40, warning misp-to_ids-false); "
                "by default they are context, not indicators.")


@click.group()
def intel() -> None:
    """Turn advisories into indicator packs and work with packs."""


# What the Loki pack writer (intel/formats/loki.py) writes a line for; everything else is said, not dropped.
_LOKI_LINES = frozenset({IType.MD5, IType.SHA1, IType.SHA256, IType.DOMAIN, IType.IPV4, IType.IPV6,
                         IType.CIDR, IType.FILENAME, IType.FILENAME_REGEX})
SHOW_UNWRITTEN = 10
_HINT = {"loki": " ('tracehound export -f loki' writes file paths as regexes and lists what Loki cannot carry)"}


def _has_stix_pattern(ind: Indicator) -> bool:
    from tracehound.intel.formats import stix

    try:
        stix.pattern_for(ind)
    except ValueError:
        return False
    return True


def _unwritable(pack: Pack, fmt: str) -> list[Indicator]:
    """Indicators the pack writer of fmt has no form for (host artefacts in STIX and MISP, URLs in Loki...)."""
    from tracehound.intel.formats import misp

    if fmt == "loki":
        return [i for i in pack.indicators if i.type not in _LOKI_LINES
                or (i.type is IType.FILENAME and i.ctx("standalone") == ["no"])]
    if fmt == "stix":
        return [i for i in pack.indicators if not _has_stix_pattern(i)]
    if fmt == "misp":
        return [i for i in pack.indicators if i.type not in misp._TO_MISP]  # the writer's own table
    return []


def _emit(pack: Pack, fmt: str, out: str | None) -> None:
    unwritten = _unwritable(pack, fmt)
    if unwritten and fmt in ("stix", "misp"):  # those writers stop on a type they have no form for
        keys = {i.key for i in unwritten}
        pack = dataclasses.replace(pack, indicators=[i for i in pack.indicators if i.key not in keys])
    text = write_pack(pack, fmt, out)
    if unwritten:
        shown = ", ".join(f"{i.type.value} '{safe(i.display())}'" for i in unwritten[:SHOW_UNWRITTEN])
        more = f" and {len(unwritten) - SHOW_UNWRITTEN} more" if len(unwritten) > SHOW_UNWRITTEN else ""
        err_console.print(f"[yellow]warning:[/] {fmt}: {len(unwritten)} indicator(s) have no {fmt.upper()} form and "
                          f"are not written: {shown}{more}{_HINT.get(fmt, '')}")
    if text is not None:
        click.echo(text, nl=False)
    else:
        err_console.print(f"wrote {safe(out)} ({fmt})")


@intel.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="-", metavar="FILE", help="Where to write the pack ('-' = stdout; a folder for loki).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option("--name", default="", help="Pack name (default: first file's name).")
@click.option("--product", default="", help="Affected product name, when the advisory's title does not say it plainly.")
@click.option("--campaign", default="", help="Campaign name (default: from the advisory's title).")
@click.option("--max-size", default=DEFAULT_MAX_BYTES // 1048576, show_default=True, help="Largest advisory read, in MiB.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the summary of what was extracted and left out.")
def extract(files: tuple[str, ...], output: str, fmt: str, name: str, product: str, campaign: str, max_size: int,
            quiet: bool) -> None:
    """Extract indicators from advisories (text, Markdown, HTML, PDF; English or French).

    Refangs every common style (hxxps, [.], (.), [dot], [:]//, [at]...), rejoins hashes and
    thumbprints split by a space or line break, reads tables flattened one cell per line,
    and keeps each indicator's context (stage, file name, signer, registrar, resolving IP,
    ASN). Values left out (reference links, github.com-like hosting) are reported, not lost.

    \b
    Example:
      tracehound intel extract bulletin.txt --product "3CX Desktop App" -o 3cx.json
      tracehound intel extract bulletin.txt -f stix -o 3cx.stix.json
    """
    result = extract_files(list(files), ExtractOptions(name, product, campaign, max_size * 1048576))
    for w in result.warnings:
        err_console.print(f"[yellow]warning:[/] {safe(w)}")
    _emit(result.pack, fmt, output)
    if not quiet:
        counts = ", ".join(f"{n} {t}" for t, n in sorted(result.pack.counts().items()))
        err_console.print(f"extracted {len(result.pack.indicators)} indicators: {counts or 'none'}")
        for e in result.pack.excluded:
            err_console.print(f"  left out {safe(e.type)} {safe(_defang_any(e.value, e.type))}: {safe(defang_text(e.reason))} "
                              f"({safe(e.document)}:{e.line})")
        for line in _rule_lines(result.pack):
            err_console.print(line)


def _rule_lines(pack: Pack) -> list[str]:
    """The pack's detection rules for people: kind, name, where published, valid or the error."""
    if not pack.rules:
        return []
    bad = sum(1 for r in pack.rules if r.error)
    kinds = ", ".join(f"{sum(1 for r in pack.rules if r.kind == k)} {k.upper() if k == 'yara' else 'Sigma'}"
                      for k in ("yara", "sigma") if any(r.kind == k for r in pack.rules))
    out = [f"{len(pack.rules)} detection rules ({kinds}){f', [red]{bad} not valid: kept, not run[/]' if bad else ''}:"]
    for r in pack.rules:
        at = f"{r.document}:{r.line}" if r.line else r.document or "pack"
        loc, sep, msg = r.error.partition(": ") if r.error.startswith(f"{r.document}:") else ("", "", r.error)
        state = f"[red]not valid[/]: {safe(loc + sep + defang_text(msg))}" if r.error else "[green]valid[/]"
        out.append(f"  {r.kind} {safe(_defang_any(r.name))} ({safe(at)}): {state}")
    return out


def _rule_json(r: Rule) -> dict[str, object]:
    """A pack rule for machines: what it is, where it was published, whether it compiles (and why not)."""
    return {"name": r.name, "kind": r.kind, "origin": {"document": r.document, "line": r.line},
            "compiles": not r.error, "error": r.error}


_NETWORK = frozenset({"domain", "url", "ipv4", "ipv6", "cidr", "email", "hash"})


def _defang_any(value: str, itype: str = "") -> str:
    """A value for people: network values defanged; a path, file name or rule name only where it holds a host."""
    from tracehound.defang import defang

    return defang(value) if itype in _NETWORK else defang_text(value)


# Names outside the public suffix list that still name hosts (RFC 2606/6761 and common internal zones).
SPECIAL_TLDS = frozenset({"example", "test", "invalid", "localhost", "local", "onion", "internal", "lan", "corp",
                          "home", "intranet"})


def defang_text(text: str) -> str:
    """Free text for people (a remediation sentence, a reason, a rule error) with every URL, e-mail
    address, IPv4 address and host name in it defanged as Indicator.display() does; file names (`setup.exe`, `README.md`) and
    words without a public suffix are left as they are."""
    from tracehound.defang import defang, strip_control
    from tracehound.intel import network as net

    text = strip_control(text)
    spans: list[tuple[int, int, str]] = []

    def add(pattern: re.Pattern[str], form: Callable[[str], str | None]) -> None:
        for m in pattern.finditer(text):
            if not any(a < m.end() and m.start() < b for a, b, _ in spans):
                shown = form(m.group(0))
                if shown is not None:
                    spans.append((m.start(), m.end(), shown))

    def host(v: str) -> str | None:
        last = v.rsplit(".", 1)[-1].lower()
        if last in net.FILE_EXTENSION_TLDS or not (last in SPECIAL_TLDS or net.registered_suffix(v.lower())[0]):
            return None
        return defang(v)

    add(net.URL_SCHEME, defang)
    add(net.EMAIL, lambda v: defang(v).replace("@", "[@]"))
    add(net.URL_BARE, lambda v: defang(v) if host(v.split("/", 1)[0].split(":", 1)[0]) else None)
    add(net.IPV4, defang)
    add(net.DOMAIN, host)
    for a, b, shown in sorted(spans, reverse=True):
        text = text[:a] + shown + text[b:]
    return text


@intel.command("show")
@intel_option
@click.option("--type", "types", multiple=True, type=click.Choice([t.value for t in IType]), help="Only these types.")
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output: {indicators, rules} (values not defanged; rules: name, kind, origin, compiles, error).")
def show(intel: tuple[str, ...], types: tuple[str, ...], as_json: bool) -> None:
    """Print a pack as a readable table (network indicators defanged).

    \b
    Example:
      tracehound intel show --intel 3cx --type domain
    """
    pack = load_intel(intel)
    inds = [i for i in pack.indicators if not types or i.type.value in types]
    if as_json:
        click.echo(json.dumps({"indicators": [i.to_dict() for i in inds], "rules": [_rule_json(r) for r in pack.rules]},
                              indent=1, ensure_ascii=False))
        return
    title = pack.title or pack.name
    table = Table(title=f"{safe(title)} — {len(inds)} indicators", show_lines=False)
    for col in ("type", "indicator", "conf", "context"):
        table.add_column(col, overflow="fold")
    for i in inds:
        table.add_row(i.type.value, safe(i.display()), str(i.confidence), safe(context_text(i)))
    out_console.print(table)
    rejected = pack.rejections()
    if rejected:
        out_console.print(f"[yellow]{len(rejected)} value(s) rejected when the pack was read[/] (not in the table):")
        for e in rejected[:SHOW_REJECTED]:
            where = f" ({e.document}:{e.line})" if e.line else f" ({e.document})" if e.document else ""
            out_console.print(f"  {safe(e.type)} '{safe(_defang_any(e.value, e.type))}': {safe(defang_text(e.reason[len(REJECTED):]))}"
                              f"{safe(where)}")
        if len(rejected) > SHOW_REJECTED:
            out_console.print(f"  … and {len(rejected) - SHOW_REJECTED} more (all of them: "
                              "'tracehound intel convert PACK -f json', list 'excluded')")
    others = [e for e in pack.excluded if not e.reason.startswith(REJECTED)]
    if others and not types:
        out_console.print(f"{len(others)} value(s) or record(s) left out when the pack was made:")
        for e in others[:SHOW_REJECTED]:
            out_console.print(f"  {safe(e.type)} {safe(_defang_any(e.value, e.type))}: {safe(defang_text(e.reason))}")
        if len(others) > SHOW_REJECTED:
            out_console.print(f"  … and {len(others) - SHOW_REJECTED} more (list 'excluded' of the JSON pack)")
    if pack.remediation and not types:
        out_console.print("[bold]Remediation from the advisory[/]")
        for r in pack.remediation:
            out_console.print(f"  • [cyan]{safe(r.action)}[/]: {safe(defang_text(r.text))}")
    if not types:
        for line in _rule_lines(pack):
            out_console.print(line, soft_wrap=True)  # one rule per line, whatever the terminal's width
    if pack.c2_delay_days:
        out_console.print(f"C2 delay after install: {pack.c2_delay_days} days — hunt at least that far back.")


SHOW_ITEMS = 4  # values shown per context list
SHOW_CONTEXT = 300  # characters of context per row
SHOW_REJECTED = 20


# Context keys whose values are hosts, addresses or URLs (a file name such as 'ffmpeg.dll' is not).
NETWORK_CONTEXT = frozenset({"resolves_to", "resolution_of", "ip", "hosts", "from_url", "domain", "url", "c2"})


def _network_looking(key: str, value: str) -> bool:
    import ipaddress

    if key in NETWORK_CONTEXT or "://" in value or ("@" in value and "." in value.split("@")[-1]):
        return True
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def _shown(key: str, value: str) -> str:
    """A context value for people: network-looking values defanged (machine formats keep them as they are)."""
    if not _network_looking(key, value):
        return value
    return _defang_any(value, "url").replace("@", "[@]")


def context_text(i: Indicator) -> str:
    """An indicator's context for the table; every cut says what it left out ('--json' shows all).
    Network-looking values (resolving IPs and names, hosts, source URLs) are defanged."""
    parts = []
    for k in sorted(i.context):
        if k == "signs":
            continue
        values = [_shown(k, v) for v in i.ctx(k)]
        text = ",".join(values[:SHOW_ITEMS])
        if len(values) > SHOW_ITEMS:
            text += f" … (+{len(values) - SHOW_ITEMS} more, {len(values)} in all)"
        parts.append(f"{k}={text}")
    ctx = "; ".join(parts)
    if i.warnings:
        ctx += (" " if ctx else "") + "⚠ " + ",".join(i.warnings)
    if len(ctx) > SHOW_CONTEXT:
        ctx = ctx[:SHOW_CONTEXT] + f" … (cut: {len(ctx) - SHOW_CONTEXT} more characters; --json shows all)"
    return ctx


@intel.command("list")
def list_() -> None:
    """List the built-in packs usable as `--intel NAME`."""
    table = Table(title="Built-in packs")
    for col in ("name", "title", "indicators", "published"):
        table.add_column(col)
    for name in builtin_names():
        p = load_builtin(name)
        table.add_row(name, safe(p.title), str(len(p.indicators)), p.published)
    out_console.print(table)


@intel.command("merge")
@click.argument("packs", nargs=-1, required=True)
@click.option("-o", "--output", default="-", metavar="FILE")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option("--name", default="merged", show_default=True)
@click.option("--include-context", is_flag=True, help=CONTEXT_HELP)
def merge(packs: tuple[str, ...], output: str, fmt: str, name: str, include_context: bool) -> None:
    """Merge packs (any format, built-in names too) into one; context is united per indicator."""
    merged = load_intel(packs, include_context=include_context)
    merged.name = name
    _emit(merged, fmt, output)


@intel.command("convert")
@click.argument("pack")
@click.option("-o", "--output", default="-", metavar="FILE")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--include-context", is_flag=True, help=CONTEXT_HELP)
def convert(pack: str, output: str, fmt: str, include_context: bool) -> None:
    """Convert a pack or feed between formats (e.g. Loki IOC folder -> STIX, OpenIOC -> tracehound JSON).

    Reads tracehound JSON, STIX 2.1, MISP JSON, OpenIOC 1.0/1.1 (.ioc), STIX 1.x XML, CSV and Loki;
    what a feed holds that is not an indicator is listed ('left out'), never dropped silently.

    \b
    Example:
      tracehound intel convert volexity-3cx.ioc -f json -o 3cx-volexity.json
      tracehound intel convert eset-event.json --include-context -f json -o eset.json
    """
    pack_ = load_intel([pack], include_context=include_context)
    _emit(pack_, fmt, output)
    counts = ", ".join(f"{n} {t}" for t, n in sorted(pack_.counts().items()))
    err_console.print(f"read {len(pack_.indicators)} indicators: {counts or 'none'}"
                      + (f", {len(pack_.rules)} detection rules" if pack_.rules else ""))
    others = [e for e in pack_.excluded if not e.reason.startswith(REJECTED) and e.type != FEED_WARNING]
    for e in others[:SHOW_REJECTED]:
        err_console.print(f"  left out {safe(e.type)} {safe(_defang_any(e.value, e.type))}: {safe(defang_text(e.reason))}"
                          + (f" ({safe(e.document)}:{e.line})" if e.line else ""))
    if len(others) > SHOW_REJECTED:
        err_console.print(f"  … and {len(others) - SHOW_REJECTED} more (list 'excluded' of the JSON pack)")
    for line in _rule_lines(pack_):
        err_console.print(line, soft_wrap=True)


@intel.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True)
def diff(old: str, new: str, as_json: bool) -> None:
    """What NEW adds to and removes from OLD (e.g. an updated advisory).

    Exit status 0 when identical, 1 when they differ.
    """
    a, b = load_intel([old]), load_intel([new])
    ka = {i.key: i for i in a.indicators}
    kb = {i.key: i for i in b.indicators}
    added = [kb[k] for k in sorted(kb.keys() - ka.keys())]
    removed = [ka[k] for k in sorted(ka.keys() - kb.keys())]
    changed = [kb[k] for k in sorted(ka.keys() & kb.keys()) if ka[k].context != kb[k].context]
    if as_json:
        click.echo(json.dumps({"added": [i.to_dict() for i in added], "removed": [i.to_dict() for i in removed],
                               "changed": [i.to_dict() for i in changed]}, indent=1))
    else:
        for sign, items in (("+", added), ("-", removed), ("~", changed)):
            for i in items:
                out_console.print(f"{sign} {i.type.value:12} {safe(i.display())}")
        out_console.print(f"{len(added)} added, {len(removed)} removed, {len(changed)} with changed context")
    raise SystemExit(1 if added or removed or changed else 0)


__all__ = ["intel", "read_pack"]
