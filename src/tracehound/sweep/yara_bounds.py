"""The largest file any rule of a rule set can match, read from the rules' `filesize <` conditions.

Sound, not clever: a rule is bounded only when its condition is a top-level conjunction (no `or` at
the outer level) with a plain `filesize < N` / `filesize <= N` term; anything this parser does not
understand (a rule whose condition it cannot find, a rule count that does not add up) makes the
whole set unbounded. Private rules never appear as matches, so they do not count. Files at or over
the bound are not given to YARA: no rule of the set could match them, so the outcome is the same.
"""

from __future__ import annotations

import functools
import re

_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_HEADER = re.compile(r"^[ \t]*((?:(?:private|global)\s+)*)rule\s+\w+", re.M)
_STR = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_REGEX = re.compile(r"\bmatches\s+/(?:[^/\\\n]|\\.)*/[a-z]*")
_TERM = re.compile(r"^filesize\s*(<=?)\s*(0x[0-9a-fA-F]+|\d+)\s*(KB|MB)?$")
_UNIT = {None: 1, "KB": 1024, "MB": 1024 * 1024}


def max_filesize(sources: list[str]) -> int | None:
    """Exclusive bound in bytes over all public rules of all sources, or None when some rule has none."""
    bound = 0
    for src in sources:
        text = _COMMENTS.sub(" ", src)
        heads = list(_HEADER.finditer(text))
        if len(heads) != len(re.findall(r"\brule\s+\w+\s*[:{]", text)):
            return None
        for i, h in enumerate(heads):
            body = text[h.end():heads[i + 1].start() if i + 1 < len(heads) else len(text)]
            if "private" in h.group(1):
                continue
            b = _rule_bound(body)
            if b is None:
                return None
            bound = max(bound, b)
    return bound or None


def condition_bound(cond: str) -> int | None:
    """Exclusive file-size bound of one rule's condition (strings and regexes blanked), or None."""
    return _bound(cond.strip())


def _rule_bound(body: str) -> int | None:
    at = body.rfind("condition:")
    end = body.rfind("}")
    if at < 0 or end < at:
        return None
    return _bound(_REGEX.sub(" R ", _STR.sub(' "" ', body[at + len("condition:"):end])).strip())


@functools.lru_cache(maxsize=4096)  # the file-type and size readers split the same conditions
def split_top(cond: str, word: str) -> tuple[str, ...] | None:
    """cond split at `word` (and/or) outside parentheses; None when the parentheses do not balance."""
    parts: list[str] = []
    depth, start = 0, 0
    for m in re.finditer(r"[()]|\b(?:and|or)\b", cond):
        tok = m.group(0)
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0 and tok == word:
            parts.append(cond[start:m.start()].strip())
            start = m.end()
    if depth != 0:
        return None
    parts.append(cond[start:].strip())
    return tuple(parts)


def _bound(cond: str) -> int | None:
    """Bound of a condition (strings and regexes blanked): the smallest over the terms of a top-level
    `and` that are `filesize <` comparisons or parenthesized conditions with a bound of their own."""
    alternatives = split_top(cond, "or")
    terms = split_top(cond, "and")
    if alternatives is None or len(alternatives) > 1 or terms is None:
        return None
    best: int | None = None
    for t in terms:
        tm = _TERM.match(t)
        n = _number(tm.group(2)) * _UNIT[tm.group(3)] + (1 if tm.group(1) == "<=" else 0) if tm else \
            _bound(t[1:-1].strip()) if wrapped(t) else None
        if n is not None:
            best = n if best is None else min(best, n)
    return best


def _number(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text)  # YARA: 012 is twelve


def wrapped(t: str) -> bool:
    """t is one parenthesized group: "(a and b)", not "(a) and (b)"."""
    if not (t.startswith("(") and t.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(t):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(t) - 1:
            return False
    return True
