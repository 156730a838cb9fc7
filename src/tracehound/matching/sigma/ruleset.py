"""A rule set compiled once: each rule's predicate and the records its logsource selects.

Logsource selection is the data table packs/sigma/logsources.json: a Windows category is a list of
(channel, EventIDs) pairs (process_creation = Sysmon 1 or Security 4688), a service a list of
channels, a rule with only `product: windows` sees every EVTX record; text categories (proxy, dns,
firewall, webserver) select text-reader observations by kind, `product: zeek` + service by Zeek log.
Rules whose logsource no reader produces load but are counted as not run, with the logsource.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tracehound.matching.sigma.compile import Pred, Unsupported, compile_tree
from tracehound.matching.sigma.literals import LiteralIndex, rule_literals
from tracehound.matching.sigma.loader import LoadResult, RuleFailure
from tracehound.matching.sigma.record import SigmaRecord
from tracehound.matching.sigma.tables import logsources

ANY = -1  # every EventID of a channel


@dataclass(eq=False)
class CompiledRule:
    path: str
    rule: Any  # pySigma SigmaRule
    predicate: Pred
    id: str
    title: str
    level: str
    windows: list[tuple[str | None, int]] = field(default_factory=list)  # (channel or None = all, EventID or ANY)
    text_table: str = ""  # fields.json table for text records
    text_kinds: tuple[str, ...] = ()
    text_formats: tuple[str, ...] = ()  # empty = any text format
    hits: int = 0
    uid: int = -1  # index in RuleSet.rules
    prefiltered: bool = False  # has literals in the LiteralIndex (else always evaluated)

    def logsource(self) -> str:
        ls = self.rule.logsource
        return "/".join(x or "-" for x in (ls.product, ls.category, ls.service))


def _predicate(rule: Any) -> Pred:
    conds = [c.parsed for c in rule.detection.parsed_condition]
    preds = [compile_tree(c) for c in conds]
    if len(preds) == 1:
        return preds[0]
    return lambda r: any(p(r) for p in preds)


def _windows_selectors(category: str | None, service: str | None) -> list[tuple[str | None, int]] | str:
    tab = logsources()["windows"]
    chans: list[str] | None = None
    if service:
        if service not in tab["services"]:
            return f"windows service {service!r} not in the logsource table"
        chans = tab["services"][service]
    if category:
        if category not in tab["categories"]:
            return f"windows category {category!r} not in the logsource table"
        sels = [(s["channel"], e) for s in tab["categories"][category] for e in (s["event_ids"] or [ANY])]
        return [s for s in sels if chans is None or s[0] in chans]
    if chans is not None:
        return [(c, ANY) for c in chans]
    return [(None, ANY)]


def _text_target(product: str | None, category: str | None, service: str | None) -> tuple[str, tuple[str, ...], tuple[str, ...]] | str:
    tab = logsources()["text"]
    if product and product in tab["products"]:
        p = tab["products"][product]
        if not service or service not in p["services"]:
            return f"{product} service {service!r} not in the logsource table"
        return product, tuple(p["services"][service]), tuple(p["formats"])
    if category in tab["categories"] and product in (None, "windows", "linux") and not service:
        c = tab["categories"][category]
        return str(category), tuple(c["kinds"]), tuple(c.get("formats", ()))
    return f"logsource {product or '-'}/{category or '-'}/{service or '-'}: no reader tracehound has produces it"


@dataclass
class RuleSet:
    rules: list[CompiledRule] = field(default_factory=list)
    failures: list[RuleFailure] = field(default_factory=list)
    not_run: list[tuple[CompiledRule, str]] = field(default_factory=list)
    files: int = 0
    texts: int = 0  # rules given as text (the pack's own)
    _by_channel: dict[str | None, dict[int, list[CompiledRule]]] = field(default_factory=dict)
    _cache: dict[tuple[str, Any], tuple[CompiledRule, ...]] = field(default_factory=dict)
    _split: dict[tuple[str, Any], tuple[list[CompiledRule], dict[int, CompiledRule]]] = field(default_factory=dict)
    text_rules: list[CompiledRule] = field(default_factory=list)
    index: LiteralIndex | None = None
    correlator: Any = None  # correlate.Correlator when correlation rules were loaded

    @classmethod
    def build(cls, loaded: LoadResult) -> RuleSet:
        rs = cls(failures=list(loaded.failures), files=loaded.files, texts=loaded.texts)
        for path, rule in loaded.rules:
            title = str(getattr(rule, "title", "") or "")
            try:
                pred = _predicate(rule)
            except Unsupported as exc:
                rs.failures.append(RuleFailure(path, title, f"unsupported: {exc}", f"unsupported: {str(exc).split(' (')[0]}"))
                continue
            except Exception as exc:  # noqa: BLE001 - pySigma condition errors (bad identifiers...)
                rs.failures.append(RuleFailure(path, title, " ".join(str(exc).split())[:300], type(exc).__name__))
                continue
            level = str(rule.level.name).lower() if rule.level is not None else "medium"
            cr = CompiledRule(path, rule, pred, str(rule.id or ""), title, level)
            ls = rule.logsource
            if ls.product == "windows" or (ls.product is None and ls.category in logsources()["windows"]["categories"]):
                sel = _windows_selectors(ls.category, ls.service)
                if isinstance(sel, str):
                    rs.not_run.append((cr, sel))
                    continue
                cr.windows = sel
                for chan, eid in sel:
                    rs._by_channel.setdefault(chan, {}).setdefault(eid, []).append(cr)
            else:
                tgt = _text_target(ls.product, ls.category, ls.service)
                if isinstance(tgt, str):
                    rs.not_run.append((cr, tgt))
                    continue
                cr.text_table, cr.text_kinds, cr.text_formats = tgt
                rs.text_rules.append(cr)
            rs.rules.append(cr)
        per_rule = [rule_literals(r.rule) for r in rs.rules]
        for i, (r, lits) in enumerate(zip(rs.rules, per_rule, strict=True)):
            r.uid, r.prefiltered = i, lits is not None
        rs.index = LiteralIndex(per_rule)
        if loaded.correlations:
            from tracehound.matching.sigma.correlate import build

            rs.correlator, refused = build(loaded.correlations, {id(r.rule): r for r in rs.rules})
            for path, c, reason in refused:
                rs.failures.append(RuleFailure(path, str(c.title or ""), reason, "correlation: " + reason.split(" (")[0]))
        return rs

    def for_event(self, channel: str, eid: Any) -> tuple[CompiledRule, ...]:
        key = (channel, eid)
        got = self._cache.get(key)
        if got is None:
            out: list[CompiledRule] = []
            for chan in (channel, None):
                by_eid = self._by_channel.get(chan, {})
                out += by_eid.get(eid, []) + by_eid.get(ANY, []) if isinstance(eid, int) else by_eid.get(ANY, [])
            got = tuple(dict.fromkeys(out))
            self._cache[key] = got
        return got

    def for_text(self, fmt: str, kind: str) -> list[CompiledRule]:
        return [r for r in self.text_rules if kind in r.text_kinds and (not r.text_formats or fmt in r.text_formats)]

    def candidates(self, rec: SigmaRecord) -> list[CompiledRule]:
        """The rules to evaluate on an EVTX record: its logsource's, minus those whose literals it lacks."""
        key = (str(rec.get("Channel") or ""), rec.get("EventID"))
        split = self._split.get(key)
        if split is None:
            rules = self.for_event(*key)
            split = self._split[key] = ([r for r in rules if not r.prefiltered],
                                        {r.uid: r for r in rules if r.prefiltered})
        always, pre = split
        if not pre or self.index is None:
            return list(always) + list(pre.values())
        found = self.index.scan("\n".join(rec.all_text(True)))
        return always + [pre[u] for u in sorted(found) if u in pre]

    def match_event(self, rec: SigmaRecord) -> list[CompiledRule]:
        return [r for r in self.candidates(rec) if r.predicate(rec)]

    def failure_reasons(self) -> Counter[str]:
        return Counter(f.kind for f in self.failures)

    def not_run_reasons(self) -> Counter[str]:
        return Counter(_product_reason(r, reason) for r, reason in self.not_run)

    def by_id(self, key: str) -> CompiledRule | None:
        k = key.lower()
        for r in self.rules + [c for c, _ in self.not_run]:
            if r.id.lower() == k or r.title.lower() == k or r.path.endswith(key):
                return r
        return None


def _product_reason(rule: CompiledRule, reason: str) -> str:
    if reason.startswith("logsource"):
        return f"logsource product {rule.rule.logsource.product or '-'}: no reader for it"
    return reason
