"""Check: YARA rules (yara-x) over the content of every file up to --yara-max-size (and under the
largest `filesize <` bound of the rules, when every rule has one: yara_bounds)."""

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
        return self.keep(e, b"", ctx) > 0

    def keep(self, e: Entry, head: bytes, ctx: Context) -> int:
        bound = ctx.ruleset.max_filesize if ctx.ruleset is not None else None
        if bound is not None and e.size >= bound:
            return 0  # no rule can match a file this large (every rule has `filesize <`): not kept for YARA
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
