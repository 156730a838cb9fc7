"""Compile a pySigma rule's condition tree into one Python predicate over a record.

pySigma has already applied the value modifiers when it parsed the rule (contains/startswith/endswith
become wildcards, base64/base64offset/wide/utf16*/windash expand the value, re/cidr/cased/exists/
fieldref/lt..gte become typed values, `all` links the values with AND) and its condition parser
expands `1 of sel*`, `all of them`, `x of`. What is left is a tree of and/or/not over
(field, typed value) and (keyword) leaves; this module turns each leaf into a closure once.

Semantics (Sigma specification): strings match case-insensitively unless `cased`; `re` is
case-sensitive unless its `i` flag; a list value in the record matches when any element matches;
a missing field matches only `null` and `exists: false`; keywords match any value of the record
(anywhere in it, like a full-text search).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from tracehound.matching.sigma.record import SigmaRecord

Pred = Callable[[SigmaRecord], bool]
_MISSING = object()


class Unsupported(ValueError):
    """A rule feature this evaluator does not implement: the rule is reported, not run."""


def compile_tree(node: Any) -> Pred:
    if isinstance(node, ConditionAND):
        parts = [compile_tree(a) for a in node.args]
        return lambda r: all(p(r) for p in parts)
    if isinstance(node, ConditionOR):
        return _compile_or(node.args)
    if isinstance(node, ConditionNOT):
        inner = compile_tree(node.args[0])
        return lambda r: not inner(r)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return field_pred(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        return keyword_pred(node.value)
    raise Unsupported(f"condition element {type(node).__name__}")


# ---- strings ------------------------------------------------------------------------------

def string_shape(s: SigmaString) -> tuple[str, str]:
    """('eq'|'contains'|'startswith'|'endswith'|'any'|'regex', text) for a Sigma string."""
    parts = list(s.s)
    if any(not isinstance(p, str | SpecialChars) for p in parts):
        raise Unsupported("placeholder value (%name%, the 'expand' modifier) without a pipeline to fill it")
    multi = SpecialChars.WILDCARD_MULTI
    if all(isinstance(p, str) for p in parts):
        return "eq", "".join(p for p in parts if isinstance(p, str))
    if parts == [multi]:
        return "any", ""
    if len(parts) == 3 and parts[0] == multi and parts[2] == multi and isinstance(parts[1], str):
        return "contains", parts[1]
    if len(parts) == 2 and parts[1] == multi and isinstance(parts[0], str):
        return "startswith", parts[0]
    if len(parts) == 2 and parts[0] == multi and isinstance(parts[1], str):
        return "endswith", parts[1]
    out = []
    for p in parts:
        out.append(".*" if p == multi else "." if p == SpecialChars.WILDCARD_SINGLE else re.escape(str(p)))
    return "regex", "".join(out)


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _string_test(s: SigmaString, cased: bool) -> Callable[[str], bool]:
    kind, text = string_shape(s)
    if not cased:
        text = text.lower() if kind != "regex" else text
    if kind == "eq":
        return lambda v: v == text
    if kind == "contains":
        return lambda v: text in v
    if kind == "startswith":
        return lambda v: v.startswith(text)
    if kind == "endswith":
        return lambda v: v.endswith(text)
    if kind == "any":
        return lambda v: True
    rx = re.compile(text, re.DOTALL | (0 if cased else re.IGNORECASE))
    return lambda v: rx.fullmatch(v) is not None


def _values(record: SigmaRecord, field: str, lower: bool) -> list[str] | None:
    raw = record.get(field, _MISSING)
    if raw is _MISSING or raw is None:
        return None
    items = raw if isinstance(raw, list) else [raw]
    out = [_text(x) for x in items if x is not None]
    return [x.lower() for x in out] if lower else out


def _any_value(field: str, test: Callable[[str], bool], lower: bool) -> Pred:
    if lower:
        def pred(r: SigmaRecord) -> bool:
            v = r.lowered(field)
            if v is None:
                return False
            return test(v) if isinstance(v, str) else any(test(x) for x in v)
        return pred

    def pred_cased(r: SigmaRecord) -> bool:
        vals = _values(r, field, False)
        return vals is not None and any(test(x) for x in vals)
    return pred_cased


# ---- one (field, value) leaf --------------------------------------------------------------

def field_pred(field: str | None, value: Any) -> Pred:
    if field is None:
        return keyword_pred(value)
    if isinstance(value, SigmaExpansion):
        parts = [field_pred(field, v) for v in value.values]
        return lambda r: any(p(r) for p in parts)
    if isinstance(value, SigmaCasedString):
        return _any_value(field, _string_test(value, True), False)
    if isinstance(value, SigmaString):
        return _any_value(field, _string_test(value, False), True)
    if isinstance(value, SigmaBool):
        want = "true" if value.boolean else "false"
        return _any_value(field, lambda v: v == want, True)
    if isinstance(value, SigmaTimestampPart):
        raise Unsupported("timestamp part modifiers (minute, hour, day, week, month, year)")
    if isinstance(value, SigmaNumber):
        return _any_value(field, _number_eq(value.number), True)
    if isinstance(value, SigmaNull):
        return lambda r: r.get(field, None) in (None, "", [])
    if isinstance(value, SigmaExists):
        want_exists = bool(value.exists)
        return lambda r: (r.get(field, _MISSING) is not _MISSING) == want_exists
    if isinstance(value, SigmaRegularExpression):
        return _any_value(field, _regex_test(value), False)
    if isinstance(value, SigmaCIDRExpression):
        return _any_value(field, _cidr_test(value.network), False)
    if isinstance(value, SigmaCompareExpression):
        return _any_value(field, _compare_test(value), False)
    if isinstance(value, SigmaFieldReference):
        return _fieldref(field, value)
    raise Unsupported(f"value type {type(value).__name__} (modifier not implemented)")


def _number_eq(number: int | float) -> Callable[[str], bool]:
    text = str(number)

    def test(v: str) -> bool:
        if v == text:
            return True
        try:
            return float(v) == float(number)
        except ValueError:
            return False
    return test


def _regex_test(value: SigmaRegularExpression) -> Callable[[str], bool]:
    flags = 0
    for f in value.flags:
        flags |= {SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE, SigmaRegularExpressionFlag.MULTILINE:
                  re.MULTILINE, SigmaRegularExpressionFlag.DOTALL: re.DOTALL}[f]
    try:
        rx = re.compile(str(value.regexp), flags)
    except re.error as exc:
        raise Unsupported(f"regular expression not valid in Python: {exc}") from exc
    return lambda v: rx.search(v) is not None


def _cidr_test(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Callable[[str], bool]:
    def test(v: str) -> bool:
        try:
            return ipaddress.ip_address(v.strip().split("%", 1)[0]) in network
        except ValueError:
            return False
    return test


def _compare_test(value: SigmaCompareExpression) -> Callable[[str], bool]:
    n = value.number.number
    op = value.op

    def test(v: str) -> bool:
        try:
            x = float(v)
        except ValueError:
            return False
        if op == CompareOperators.LT:
            return x < n
        if op == CompareOperators.LTE:
            return x <= n
        if op == CompareOperators.GT:
            return x > n
        if op == CompareOperators.GTE:
            return x >= n
        return x != n
    return test


def _fieldref(field: str, ref: SigmaFieldReference) -> Pred:
    def pred(r: SigmaRecord) -> bool:
        a, b = _values(r, field, True), _values(r, ref.field, True)
        if a is None or b is None:
            return False
        for x in a:
            for y in b:
                if (ref.starts_with and ref.ends_with and y in x) or (ref.starts_with and not ref.ends_with
                        and x.startswith(y)) or (ref.ends_with and not ref.starts_with and x.endswith(y)) or x == y:
                    return True
        return False
    return pred


def keyword_pred(value: Any) -> Pred:
    """A keyword: any value of the record contains it (wildcards honoured)."""
    if isinstance(value, SigmaExpansion):
        parts = [keyword_pred(v) for v in value.values]
        return lambda r: any(p(r) for p in parts)
    if isinstance(value, SigmaString):
        cased = isinstance(value, SigmaCasedString)
        kind, text = string_shape(value)
        if kind == "regex":
            rx = re.compile(text, re.DOTALL | (0 if cased else re.IGNORECASE))
            return lambda r: any(rx.search(v) for v in r.all_text(not cased))
        needle = text if cased else text.lower()
        return lambda r: any(needle in v for v in r.all_text(not cased))
    if isinstance(value, SigmaNumber):
        needle = str(value.number)
        return lambda r: any(needle in v for v in r.all_text(True))
    if isinstance(value, SigmaRegularExpression):
        test = _regex_test(value)
        return lambda r: any(test(v) for v in r.all_text(False))
    raise Unsupported(f"keyword of type {type(value).__name__}")


def _compile_or(args: list[Any]) -> Pred:
    """OR with the common case fused: many plain case-insensitive strings on one field (lists of
    values) become one set lookup and tuple prefix/suffix tests."""
    groups: dict[str, dict[str, list[str]]] = {}
    rest: list[Pred] = []
    for a in args:
        if (isinstance(a, ConditionFieldEqualsValueExpression) and a.field is not None
                and type(a.value) is SigmaString):
            kind, text = string_shape(a.value)
            if kind in ("eq", "contains", "startswith", "endswith"):
                groups.setdefault(a.field, {}).setdefault(kind, []).append(text.lower())
                continue
        rest.append(compile_tree(a))
    for field, kinds in groups.items():
        rest.append(_any_value(field, _fused(kinds), True))
    if len(rest) == 1:
        return rest[0]
    return lambda r: any(p(r) for p in rest)


def _fused(kinds: dict[str, list[str]]) -> Callable[[str], bool]:
    eq = frozenset(kinds.get("eq", []))
    contains = tuple(kinds.get("contains", []))
    starts = tuple(kinds.get("startswith", []))
    ends = tuple(kinds.get("endswith", []))

    if len(contains) > 3:  # one C-level scan instead of a Python loop over the literals
        rx = re.compile("|".join(re.escape(c) for c in sorted(contains, key=len, reverse=True)))

        def test_rx(v: str) -> bool:
            return (v in eq or (bool(starts) and v.startswith(starts)) or (bool(ends) and v.endswith(ends))
                    or rx.search(v) is not None)
        return test_rx

    def test(v: str) -> bool:
        return (v in eq or (bool(starts) and v.startswith(starts)) or (bool(ends) and v.endswith(ends))
                or any(c in v for c in contains))
    return test
