"""`hunt --explain RULE`: which records a rule sees and where each of its fields comes from."""

from __future__ import annotations

from typing import Any

from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionValueExpression
from sigma.types import SigmaFieldReference

from tracehound.matching.sigma.ruleset import ANY, CompiledRule, RuleSet
from tracehound.matching.sigma.tables import fields, logsources


def rule_fields(rule: Any) -> tuple[list[str], bool]:
    """Field names the rule's conditions use (in order) and whether it has keywords."""
    out: dict[str, None] = {}
    keywords = False

    def walk(node: Any) -> None:
        nonlocal keywords
        if isinstance(node, ConditionFieldEqualsValueExpression):
            out.setdefault(node.field, None)
            if isinstance(node.value, SigmaFieldReference):
                out.setdefault(node.value.field, None)
        elif isinstance(node, ConditionValueExpression):
            keywords = True
        for a in getattr(node, "args", []) or []:
            walk(a)

    for c in rule.detection.parsed_condition:
        walk(c.parsed)
    return list(out), keywords


def explain(rules: RuleSet, key: str) -> list[str]:
    cr = rules.by_id(key)
    if cr is None:
        return [f"no loaded rule has the id, title or file {key!r}"] + [
            f"  (not loaded: {f.path}: {f.reason})" for f in rules.failures if key in f.path or key == f.title]
    lines = [f"rule: {cr.title}", f"  id: {cr.id or '-'}", f"  file: {cr.path}", f"  level: {cr.level}",
             f"  logsource: {cr.logsource()}"]
    reason = next((r for c, r in rules.not_run if c is cr), "")
    if reason:
        lines.append(f"  not run: {reason}")
    names, keywords = rule_fields(cr.rule)
    if cr.windows:
        lines += _windows(cr, names)
    elif cr.text_table:
        lines += _text(cr, names)
    if keywords:
        lines.append("  keywords: matched against every field value of the record (case-insensitive)")
    lines.append("  condition: " + " | ".join(str(c) for c in cr.rule.detection.condition))
    return lines


def _windows(cr: CompiledRule, names: list[str]) -> list[str]:
    lines = ["  records: EVTX events of"]
    for chan, eid in cr.windows:
        lines.append(f"    channel {chan or 'any'}, EventID {'any' if eid == ANY else eid}")
    aliases: dict[tuple[str, int], dict[str, str]] = {}
    for sels in logsources()["windows"]["categories"].values():
        for sel in sels:
            for e in sel["event_ids"]:
                if (sel["channel"], e) in cr.windows and sel.get("fields"):
                    aliases[(sel["channel"], e)] = sel["fields"]
    lines.append("  fields (EVTX System/EventData/UserData names, as-is):")
    for n in names:
        via = [f"{chan} {eid}: {m[n]}" for (chan, eid), m in aliases.items() if n in m]
        lines.append(f"    {n}" + (f"  (also from {', '.join(via)})" if via else ""))
    return lines


def _text(cr: CompiledRule, names: list[str]) -> list[str]:
    tab = fields()
    mapping = dict(tab["ecs"], **tab.get(cr.text_table, {}))
    lines = [f"  records: text-reader observations of kind {', '.join(cr.text_kinds)}"
             + (f" from formats {', '.join(cr.text_formats)}" if cr.text_formats else " from any text format"),
             f"  fields (table {cr.text_table!r} of packs/sigma/fields.json):"]
    for n in names:
        src = mapping.get(n)
        lines.append(f"    {n} <- {src}" if src else f"    {n} <- not provided by tracehound's readers: never matches")
    return lines
