"""Sigma correlation rules over the base-rule hits of the whole hunt: `event_count`, `value_count`,
`temporal`, `temporal_ordered`, with `group-by` (and field `aliases`) and `timespan`.

Each hit of a rule a correlation names is kept as (time, group key, rule, value); when the hunt has
read everything, each group's hits are scanned in time order with a window of `timespan` starting
at every hit, and a window meeting the condition gives one finding (the next window starts after
it). Hits without a time cannot be placed in a window and are counted. Rules named only by
correlations with `generate: false` (the default) give no finding of their own, as the
specification says.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracehound.findings.ecs import iso_ts

_OPS = {"lt": lambda a, b: a < b, "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b, "eq": lambda a, b: a == b, "neq": lambda a, b: a != b}


@dataclass
class Hit:
    ts: datetime
    key: tuple[Any, ...]
    ref: int  # index of the rule in the correlation's list
    value: Any
    meta: dict[str, Any]


@dataclass(eq=False)
class Correlation:
    path: str
    rule: Any  # pySigma SigmaCorrelationRule
    kind: str
    refs: list[Any]  # CompiledRule, in the correlation's order
    group_by: list[str]
    aliases: dict[str, dict[int, str]]  # alias -> {id(CompiledRule): field}
    seconds: int
    op: str
    count: int
    fieldref: str | None
    hits: list[Hit] = field(default_factory=list)

    def field_for(self, name: str, base: Any) -> str:
        return self.aliases.get(name, {}).get(id(base), name)


class Correlator:
    def __init__(self) -> None:
        self.correlations: list[Correlation] = []
        self.by_rule: dict[int, list[Correlation]] = {}
        self.silent: set[int] = set()  # base rules named by a correlation with generate: false
        self.generated: set[int] = set()  # ... and by one with generate: true (they give findings)
        self.untimed: Counter[str] = Counter()

    def add(self, corr: Correlation, generate: bool) -> None:
        self.correlations.append(corr)
        for base in corr.refs:
            self.by_rule.setdefault(id(base), []).append(corr)
            (self.generated if generate else self.silent).add(id(base))

    def observe(self, base: Any, ts: datetime | None, rec: Any, meta: dict[str, Any]) -> bool:
        """Record a base-rule hit; False when the hit gives no finding of its own."""
        for corr in self.by_rule.get(id(base), ()):
            if ts is None:
                self.untimed[corr.rule.title] += 1
                continue
            key = tuple(_scalar(rec.get(corr.field_for(g, base))) for g in corr.group_by)
            value = _scalar(rec.get(corr.field_for(corr.fieldref, base))) if corr.fieldref else None
            corr.hits.append(Hit(ts, key, corr.refs.index(base), value, meta))
        return id(base) not in self.silent or id(base) in self.generated

    def finish(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for corr in self.correlations:
            groups: dict[tuple[Any, ...], list[Hit]] = {}
            for h in corr.hits:
                groups.setdefault(h.key, []).append(h)
            for key, hits in groups.items():
                hits.sort(key=lambda h: h.ts)
                out += [_finding(corr, key, w, n) for w, n in _windows(corr, hits)]
        return out


def _scalar(v: Any) -> Any:
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return v


def _windows(corr: Correlation, hits: list[Hit]) -> list[tuple[list[Hit], int]]:
    found: list[tuple[list[Hit], int]] = []
    i = 0
    test = _OPS[corr.op]
    while i < len(hits):
        start = hits[i].ts
        window = [h for h in hits[i:] if (h.ts - start).total_seconds() <= corr.seconds]
        if corr.kind == "event_count":
            n = len(window)
            ok = test(n, corr.count)
        elif corr.kind == "value_count":
            n = len({h.value for h in window if h.value is not None})
            ok = test(n, corr.count)
        elif corr.kind == "temporal":
            n = len({h.ref for h in window})
            ok = n == len(corr.refs)
        else:  # temporal_ordered: the rules' hits in the listed order inside the window
            want = 0
            for h in window:
                if h.ref == want:
                    want += 1
                    if want == len(corr.refs):
                        break
            n = want
            ok = want == len(corr.refs)
        if ok:
            found.append((window, n))
            i += len(window)
        else:
            i += 1
    return found


def _finding(corr: Correlation, key: tuple[Any, ...], window: list[Hit], n: int) -> dict[str, Any]:
    r = corr.rule
    level = str(r.level.name).lower() if r.level is not None else "medium"
    hosts = sorted({str(h.meta.get("host") or "") for h in window} - {""})
    verdict = "suspicious" if level in ("critical", "high", "medium") else "clean"
    return {
        "@timestamp": iso_ts(window[0].ts),
        "message": f"Sigma correlation {str(r.title or '')!r} ({corr.kind}, {n} in {corr.seconds} s)",
        "event": {"kind": "alert", "category": ["threat"], "type": ["indicator"], "module": "tracehound",
                  "dataset": "tracehound.sigma", "start": iso_ts(window[0].ts), "end": iso_ts(window[-1].ts)},
        "rule": {"id": str(r.id or ""), "name": str(r.title or ""), "ruleset": "sigma", "level": level,
                 "description": " ".join(str(r.description or "").split())},
        "tags": [str(t) for t in r.tags],
        "host": {"name": hosts[0]} if len(hosts) == 1 else {},
        "tracehound": {"source": "hunt", "kind": "sigma-correlation", "verdict": verdict,
                       "host": hosts[0] if len(hosts) == 1 else (",".join(hosts) or "unknown"),
                       "format": "sigma", "line": 0,
                       "sigma": {"correlation": corr.kind, "group": dict(zip(corr.group_by, key, strict=True)),
                                 "timespan_seconds": corr.seconds, "condition": f"{corr.op} {corr.count}",
                                 "value": n, "file": corr.path,
                                 "events": [dict(h.meta, rule=corr.refs[h.ref].title, **{"@timestamp": iso_ts(h.ts)})
                                            for h in window[:100]]}},
    }


def build(correlations: list[tuple[str, Any]], compiled: dict[int, Any]) -> tuple[Correlator, list[tuple[str, Any, str]]]:
    """A Correlator from resolved pySigma correlation rules; (path, rule, reason) for those not run."""
    from sigma.correlations import SigmaCorrelationCondition

    cor = Correlator()
    refused: list[tuple[str, Any, str]] = []
    for path, c in correlations:
        cond = c.condition
        kind = str(c.type.name).lower()
        if kind not in ("event_count", "value_count", "temporal", "temporal_ordered"):
            refused.append((path, c, f"correlation type {kind!r} not implemented"))
            continue
        if kind in ("event_count", "value_count") and not isinstance(cond, SigmaCorrelationCondition):
            refused.append((path, c, "extended correlation conditions not implemented"))
            continue
        refs = [compiled.get(id(ref.rule)) for ref in c.rules or []]
        if not refs or any(x is None for x in refs):
            refused.append((path, c, "a rule it names is a correlation or is not run (chained correlations "
                                     "and rules of other logsources are not evaluated)"))
            continue
        fieldref = None
        op, count = "gte", 1
        if isinstance(cond, SigmaCorrelationCondition):
            op, count = str(cond.op.name).lower(), int(cond.count)
            fieldref = cond.fieldref if isinstance(cond.fieldref, str) else (cond.fieldref[0] if cond.fieldref else None)
        aliases = {a.alias: {id(compiled[id(ref.rule)]): f for ref, f in a.mapping.items()
                             if id(ref.rule) in compiled} for a in c.aliases}
        corr = Correlation(path, c, kind, refs, list(c.group_by or []), aliases, int(c.timespan.seconds), op, count,
                           fieldref)
        cor.add(corr, bool(c.generate))
    return cor, refused
