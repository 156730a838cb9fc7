"""Which files a YARA rule can match, from its condition: rules grouped by the first bytes they require.

Most rules of a large base start with a file-type test (`uint16(0) == 0x5a4d`: a PE; `uint32(0) ==
0x464c457f`: an ELF) and many with `filesize < N`. Rules are grouped by that requirement and each
group is compiled on its own (yara_rules); a file is scanned only with the groups whose requirement
its first bytes and size meet. The outcome is the same as scanning with all rules, because a rule
is only put in a restricted group when its condition cannot be true otherwise:

- the requirement is read from terms of the condition's top-level conjunction (`A and B and ...`):
  `uintN[be](K) == V` with constants (either side), or a parenthesized disjunction whose every
  branch is such a test (`(uint32(0) == 0xfeedface or uint32(0) == 0xcefaedfe)`);
  `filesize < N` / `<= N` bounds the group's file size (yara_bounds);
- anything else is not understood and adds no requirement: `or` at the top level with a branch
  that is not a file-type test, `not`, other comparisons, variable offsets;
- a rule file with a private or global rule, a rule referencing another rule (or a rule set such as
  `any of (Foo*)`), a repeated rule name, an `include`, or text this reader does not follow is kept
  whole, in the group of rules that may match any file.

A rule file split over groups is compiled as copies of the file with the other groups' rules
blanked (newlines kept): every rule keeps its namespace, file and line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tracehound.sweep import yara_bounds, yara_terms

LAYOUT = "groups-2"  # in the compiled-rule cache key: entries of another layout are not read
Magic = yara_terms.Magic  # alternatives (offset, bytes): the file's bytes there equal one of them
ANY: Magic = ()
MAX_OFFSET = yara_terms.MAX_OFFSET


@dataclass
class Rule:
    name: str
    start: int  # offsets in the source: from the first modifier to the closing brace (included)
    end: int
    modifiers: tuple[str, ...]
    condition: str  # strings, regexes and comments blanked
    literals: dict[str, bytes] = field(default_factory=dict)  # plain literal strings (read when `at` is used)


@dataclass
class Group:
    magic: Magic
    bound: int | None  # no rule of the group matches a file of this size or more (None: no bound)
    count: int = 0  # rules
    pieces: list[tuple[int, str]] = field(default_factory=list)  # (source index, text) to compile
    blob: bytes = b""  # compiled rules serialized
    rules: Any = None  # yara_x.Rules, once compiled or deserialized

    def admits(self, head: bytes, size: int) -> bool:
        """Can a rule of the group match a file of this size starting with head? head may be the
        whole content or its first bytes; a test beyond a truncated head is taken as met."""
        if self.bound is not None and size >= self.bound:
            return False
        if not self.magic:
            return True
        for off, want in self.magic:
            if off + len(want) <= len(head):
                if head[off:off + len(want)] == want:
                    return True
            elif size > len(head) and off + len(want) <= size:
                return True  # the head read is too short to tell
        return False

    def serialized(self) -> bytes:
        if not self.blob and self.rules is not None:
            buf = io.BytesIO()
            self.rules.serialize_into(buf)
            self.blob = buf.getvalue()
        return self.blob

    def loaded(self) -> Any:
        """The group's yara_x.Rules, deserialized from blob on first use."""
        if self.rules is None:
            import yara_x

            self.rules = yara_x.Rules.deserialize_from(io.BytesIO(self.blob))
        return self.rules

    def describe(self) -> str:
        kind = " or ".join(f"{w.hex()}@{o}" for o, w in self.magic) or "any file"
        if len(self.magic) > 6:
            kind = f"{len(self.magic)} file heads"
        return kind + (f", filesize < {self.bound}" if self.bound is not None else "")


# ---- reading rule files -------------------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z_]\w*")
_HEADER = re.compile(r"^\s*(?:private\s+|global\s+)*rule\s+\w+", re.M)
_WS = re.compile(r"\s+")


# Comments, "strings" and /regexes/ (after `=` or `matches`), whichever starts first: blanked, so
# what is left has no brace, keyword or quote that is not YARA syntax.
_MASK = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|//[^\n]*|/\*.*?\*/|(?P<pre>=|matches)(?P<ws>\s*)'
                   r'(?P<re>/(?:[^/\\\n\[]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[a-z]*)', re.S)
_RULE_WORD = re.compile(r"rule(?!\w)")
_RULE_HEAD = re.compile(r"rule\s+([A-Za-z_]\w*)\s*(?::[\s\w]*)?\{")
_WORD = re.compile(r"[$#@!.]?[A-Za-z_]\w*\*?")
_GAP = re.compile(r'(?:\s|\bimport\s*"[^"\n]*")*')
_COND = re.compile(r"condition\s*:")
_AT = re.compile(r"\bat\b")


def mask(text: str) -> str:
    """text with comments, string literals and regexes blanked (same length, same lines)."""
    def blank(m: re.Match[str]) -> str:
        if m.group("pre") == "matches" and m.start() and (masked_from[m.start() - 1].isalnum()
                                                         or masked_from[m.start() - 1] == "_"):
            return m.group(0)  # an identifier ending in "matches", divided: not a regex
        if m.group("re"):
            return m.group("pre") + m.group("ws") + "R" + " " * (len(m.group("re")) - 1)
        s = m.group(0)
        if s.startswith('"'):
            return '"' + " " * (len(s) - 2) + '"'
        return _blank(s)
    masked_from = text
    return _MASK.sub(blank, text)


def split_rules(text: str) -> list[Rule] | None:
    """The rules of one source with their spans and blanked conditions; None when the file has an
    include or anything this reader does not follow (the file is then kept whole)."""
    masked = mask(text)
    heads: list[tuple[int, int, str, tuple[str, ...]]] = []  # (start, end of header, name, modifiers)
    for w in _RULE_WORD.finditer(masked):
        k = w.start()
        if k and (_word_char(masked[k - 1]) or masked[k - 1] in "$#@!."):
            continue  # part of an identifier
        h = _RULE_HEAD.match(masked, k)
        if not h:
            return None  # the keyword `rule` where this reader does not expect it
        start, mods = _modifiers(masked, k)
        heads.append((start, h.end(), h.group(1), mods))
    rules: list[Rule] = []
    at = 0
    for i, (start, head_end, name, mods) in enumerate(heads):
        if not _GAP.fullmatch(masked, at, start):
            return None  # include, or text this reader does not follow
        limit = heads[i + 1][0] if i + 1 < len(heads) else len(masked)
        end = masked.rfind("}", head_end, limit) + 1  # only whitespace and imports may follow (checked below)
        if end <= 0 or masked.count("{", head_end, end) != masked.count("}", head_end, end) - 1:
            return None
        body = masked[head_end:end - 1]
        conds = [c for c in _COND.finditer(body) if not c.start() or not _word_char(body[c.start() - 1])]
        if len(conds) != 1:
            return None
        cond = body[conds[0].end():]
        lits = yara_terms.literals(text, masked, head_end, head_end + conds[0].start()) if _AT.search(cond) else {}
        rules.append(Rule(name, start, end, mods, cond, lits))
        at = end
    if not _GAP.fullmatch(masked, at, len(masked)):
        return None
    return rules


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _modifiers(masked: str, k: int) -> tuple[int, tuple[str, ...]]:
    """Where the rule whose keyword `rule` is at k starts, and its private/global modifiers."""
    mods: list[str] = []
    start = k
    while True:
        i = start
        while i > 0 and masked[i - 1].isspace():
            i -= 1
        word = next((w for w in ("private", "global") if i >= len(w) and masked.startswith(w, i - len(w))), None)
        if i == start or word is None or (i - len(word) > 0 and _word_char(masked[i - len(word) - 1])):
            return start, tuple(reversed(mods))
        mods.append(word)
        start = i - len(word)


def _blank(s: str) -> str:
    return "\n".join(" " * len(line) for line in s.split("\n"))


# ---- what a condition requires ------------------------------------------------------------
_TYPED = re.compile(r"\bu?int(?:8|16|32)|\bat\b|\b(?:pe|dotnet|elf)\.")  # a condition without them requires no type


_split = yara_bounds.split_top


def magic_of(cond: str, literals: dict[str, bytes] | None = None) -> Magic:
    """File-type requirement of a condition (blanked): alternatives, or ANY (yara_terms reads the tests)."""
    if not _TYPED.search(cond):
        return ANY
    branches = _split(cond, "or")
    if branches is None:
        return ANY
    alts: list[tuple[int, bytes]] = []
    for b in branches:
        m = _conjunction_magic(b, literals)
        if not m:
            return ANY  # one branch may match any file
        alts += [a for a in m if a not in alts]
    return tuple(alts)


def _conjunction_magic(cond: str, literals: dict[str, bytes] | None) -> Magic:
    terms = _split(cond, "and")
    if terms is None:
        return ANY
    for t in terms:
        m = yara_terms.requirement(t, literals)
        if m is None and yara_bounds.wrapped(t):
            m = magic_of(t[1:-1].strip(), literals) or None
        if m:
            return m
    return ANY


# ---- the plan -----------------------------------------------------------------------------
# Groups by file-size bound: none. A file pays a fixed cost per group pass (~0.1 ms, each rule's
# condition evaluated) and a pass over its bytes; measured on signature-base (2026-12-02, CPU s), groups
# split at 64 KiB and 1 MiB cost 1.4-1.7x more than the same rules unsplit, on small and large files.
SIZE_STEPS: tuple[int, ...] = ()
MIN_GROUP = 16  # a requirement shared by fewer rules does not get its own group (joins the pool)
POOL: Magic = ((-1, b""),)  # key of the group pooling the rarer requirements (of a size step)
Key = tuple[Magic, int | None]  # (requirement, size step: the smallest of SIZE_STEPS >= the bound, or None)


@dataclass
class Unit:
    """What one rule file contributes: its rules by requirement, or the whole file (kept whole)."""
    index: int
    text: str
    whole: bool
    rules: list[tuple[Rule, Magic, int | None]] = field(default_factory=list)  # (rule, magic, bound)
    bound: int | None = None  # of a whole file


def read_file(index: int, text: str) -> Unit:
    try:
        return _read_file(index, text)
    except (ValueError, RecursionError):  # a hostile file this reader chokes on: kept whole
        return whole_file(index, text)


def _read_file(index: int, text: str) -> Unit:
    if not _TYPED.search(text) and "filesize" not in text:
        return Unit(index, text, True)  # no rule of it can have a requirement: any file, no bound
    rules = split_rules(text)
    if not rules:
        return whole_file(index, text)
    names = [r.name for r in rules]
    if len(set(names)) != len(names) or any(r.modifiers for r in rules):
        return whole_file(index, text)
    known = set(names)
    for r in rules:
        for w in _WORD.findall(r.condition):
            if w[0] not in "$#@!." and (w.endswith("*") or w in known):
                return whole_file(index, text)  # refers to rules (or a rule set such as Foo*): kept together
    return Unit(index, text, False, [(r, magic_of(r.condition, r.literals), yara_bounds.condition_bound(r.condition)
                                      if "filesize" in r.condition else None) for r in rules])


def whole_file(index: int, text: str) -> Unit:
    try:
        bound = yara_bounds.max_filesize([text])
    except (ValueError, RecursionError):
        bound = None
    return Unit(index, text, True, bound=bound)


def _step(bound: int | None) -> int | None:
    return next((s for s in SIZE_STEPS if bound is not None and bound <= s), None)


def group_key(units: list[Unit]) -> Callable[[Magic, int | None], Key]:
    """The group key of a rule (its requirement and bound), given all the rule files' units."""
    sizes: dict[Key, int] = {}
    for u in units:
        for _, magic, bound in u.rules:
            sizes[(magic, _step(bound))] = sizes.get((magic, _step(bound)), 0) + 1
    pooled: dict[int | None, int] = {}  # rules of the rarer requirements, by size step
    for (magic, step), n in sizes.items():
        if magic and n < MIN_GROUP:
            pooled[step] = pooled.get(step, 0) + n

    def key(magic: Magic, bound: int | None) -> Key:
        k = (magic, _step(bound))
        if not magic or sizes.get(k, 0) >= MIN_GROUP:
            return k
        return (POOL, k[1]) if pooled.get(k[1], 0) >= MIN_GROUP else (ANY, k[1])
    return key


def plan(units: list[Unit]) -> list[Group]:
    """Groups (each with the pieces of rule files to compile) for the files' units."""
    key = group_key(units)
    groups: dict[Key, Group] = {}
    for u in units:
        if u.whole:
            k = (ANY, _step(u.bound))
            g = groups.setdefault(k, Group(ANY, 0))
            g.pieces.append((u.index, u.text))
            g.count += len(_HEADER.findall(u.text))
            g.bound = _wider(g.bound, u.bound)
            continue
        mine: dict[Key, list[Rule]] = {}
        for r, magic, bound in u.rules:
            k = key(magic, bound)
            g = groups.setdefault(k, Group(k[0] if k[0] != POOL else ANY, 0))
            if k[0] == POOL:  # admits a file meeting any of its rules' requirements (each rule still tests its own)
                g.magic += tuple(a for a in magic if a not in g.magic)
            g.bound = _wider(g.bound, bound)
            g.count += 1
            mine.setdefault(k, []).append(r)
        for k, rules in mine.items():
            groups[k].pieces.append((u.index, _keep_only(u, rules)))
    return [groups[k] for k in sorted(groups, key=lambda k: (len(k[0]), k[0], k[1] is None, k[1] or 0))]


def _keep_only(u: Unit, keep: list[Rule]) -> str:
    """The file's text without the other rules (their lines kept as empty lines: the same line numbers)."""
    if len(keep) == len(u.rules):
        return u.text
    kept = {id(r) for r in keep}
    out, at = [], 0
    for r, _, _ in u.rules:
        if id(r) not in kept:
            out += [u.text[at:r.start], "\n" * u.text.count("\n", r.start, r.end)]
            at = r.end
    out.append(u.text[at:])
    return "".join(out)


def _wider(a: int | None, b: int | None) -> int | None:
    """The bound of a group holding rules bounded by a and by b (0: no rule yet)."""
    if a == 0:
        return b
    if a is None or b is None:
        return None
    return max(a, b)
