"""Literal prefilter: from each rule, a set of lowercase literals at least one of which must occur in
a record's values for the rule to possibly match; all rules' literals in one Hyperscan database, so
a record is scanned once and only the rules with a literal in it (or with no derivable literal:
`not`, regexes, numbers...) are evaluated in Python.

Derivation over the condition tree: a string leaf requires its longest literal piece; `and` requires
what its most selective child requires; `or` requires the union of its children's literals, and
nothing when one child has none; `not` requires nothing.
"""

from __future__ import annotations

from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import SigmaExpansion, SigmaString, SpecialChars

MIN_LITERAL = 3  # shorter literals select almost every record: not worth a requirement


def _string_literal(s: SigmaString) -> str | None:
    pieces: list[str] = []
    cur = ""
    for p in s.s:
        if isinstance(p, str):
            cur += p
        elif isinstance(p, SpecialChars):
            pieces.append(cur)
            cur = ""
        else:
            return None
    pieces.append(cur)
    best = max(pieces, key=len).lower()
    return best if len(best) >= MIN_LITERAL else None


def _value(v: Any) -> set[str] | None:
    if isinstance(v, SigmaExpansion):
        out: set[str] = set()
        for x in v.values:
            got = _value(x)
            if got is None:
                return None
            out |= got
        return out
    if isinstance(v, SigmaString):
        lit = _string_literal(v)
        return {lit} if lit else None
    return None


def required(node: Any) -> set[str] | None:
    if isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        return _value(node.value)
    if isinstance(node, ConditionAND):
        options = [r for r in (required(a) for a in node.args) if r]
        return min(options, key=lambda s: (len(s) > 64, -min(len(x) for x in s), len(s))) if options else None
    if isinstance(node, ConditionOR):
        out: set[str] = set()
        for a in node.args:
            got = required(a)
            if not got:
                return None
            out |= got
        return out
    return None


def rule_literals(rule: Any) -> set[str] | None:
    out: set[str] = set()
    for c in rule.detection.parsed_condition:
        got = required(c.parsed)
        if not got:
            return None
        out |= got
    return out


class LiteralIndex:
    """literal -> rules; scan(text) gives the indexes of the rules with one of their literals in text."""

    def __init__(self, per_rule: list[set[str] | None]) -> None:
        self.always = {i for i, lits in enumerate(per_rule) if lits is None}
        lits = sorted({x for s in per_rule if s for x in s})
        self.owners: list[list[int]] = [[] for _ in lits]
        pos = {x: i for i, x in enumerate(lits)}
        for i, s in enumerate(per_rule):
            for x in s or ():
                self.owners[pos[x]].append(i)
        self._db: Any = None
        self._ac: Any = None
        if not lits:
            return
        try:
            import hyperscan

            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(expressions=[x.encode("utf-8") for x in lits], ids=list(range(len(lits))),
                       flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(lits), literal=True)
            self._db = db
        except ImportError:  # pragma: no cover - where no Hyperscan wheel exists
            import ahocorasick

            self._ac = ahocorasick.Automaton()
            for i, x in enumerate(lits):
                self._ac.add_word(x, i)
            self._ac.make_automaton()

    def scan(self, text: str) -> set[int]:
        found: set[int] = set()
        if self._db is not None:
            owners = self.owners

            def on_match(lit: int, _s: int, _e: int, _f: int, _c: object) -> None:
                found.update(owners[lit])

            self._db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=on_match)
        elif self._ac is not None:
            for _end, lit in self._ac.iter(text):
                found.update(self.owners[lit])
        return found
