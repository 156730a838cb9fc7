"""Check: YARA rules (yara-x) over the content of every file up to --yara-max-size that a rule can
match: its first bytes and size meet the requirement of some rule group (yara_groups: file-type tests
such as `uint16(0) == 0x5a4d` and `filesize <` bounds). Other files are hashed but not kept for YARA."""

from __future__ import annotations

from tracehound.sources.hosts.walk import Entry
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView, shown
from tracehound.sweep.yara_rules import ORIGIN


class YaraCheck(Check):
    name = "yara"
    order = 20

    def enabled(self, ctx: Context) -> bool:
        return ctx.scanner is not None

    def wants(self, e: Entry, ctx: Context) -> bool:
        bound = ctx.ruleset.max_filesize if ctx.ruleset is not None else None
        return bound is None or e.size < bound  # else no rule can match a file this large: not read for YARA

    def keep(self, e: Entry, head: bytes, ctx: Context) -> int:
        if not any(g.admits(head, e.size) for g in ctx.ruleset.groups):
            return 0  # no rule group can match a file of this type and size: not kept for YARA
        return int(ctx.options.yara_max_size)

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        opt = ctx.options
        if f.size > opt.yara_max_size:
            res.late_notes.append(f"read, but larger than --yara-max-size ({opt.yara_max_size} bytes): no YARA scan")
            return
        bound = ctx.ruleset.max_filesize if ctx.ruleset is not None else None
        if bound is not None and f.size >= bound:
            return  # the same outcome as a scan: every rule requires a smaller file
        if f.data is None:
            return
        rules, err = ctx.scanner.scan(f.data, shown(f.e.path))
        if err:
            res.out.append(ctx.doc("yara", "info", f"{err}: {shown(f.name)}", [], fields=f.fields))
        for rule, tags, meta in rules:
            verdict = "suspicious" if rule.upper().startswith("SUSP_") or "METARULE" in tags else "compromised"
            origin = meta.get(ORIGIN)  # a rule the pack carries (pasted in its advisory): where it was published
            res.out.append(ctx.doc("yara", verdict, f"YARA rule {rule} matched"
                                   + (f" (from the pack: {shown(str(origin))})" if origin else ""), [], fields={
                **f.fields, "rule.name": rule, "rule.description": str(meta.get("description", "")) or None,
                "rule.reference": str(meta.get("reference", "")) or None, "tags": tags or None,
                "rule.ruleset": "pack" if origin else None, "tracehound.rule_origin": origin}))


CHECK = YaraCheck()
