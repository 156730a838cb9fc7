"""Validate a pack's detection rules, and hand the valid ones to sweep, hunt and the exports.

YARA: each rule is compiled with yara-x and the Loki/THOR externals (sweep/yara_rules.py), with the
rules it names (`condition: OtherRule`), the global rules of its document and the modules it uses
(`pe.`, `hash.`: the `import` lines, wherever the advisory put them). An advisory is untrusted, so
this compile refuses what `--yara` files may do: `include` statements, and patterns yara-x calls slow.
Sigma: each rule is loaded with pySigma and compiled by tracehound's evaluator, the same path as a
`--sigma` file (loader.py, ruleset.py). A rule that fails keeps its text with `error` set to
"document:line: message" (the line inside the rule when the compiler names one); it is not run.
Validity is checked again when a pack is used: a pack file may have been edited since.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from tracehound.intel.model import Pack, Rule

MODULES = ("pe", "elf", "math", "hash", "dotnet", "cuckoo", "time", "console", "string", "lnk", "macho", "dex",
           "crx", "vt", "magic")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_MODULE_USE = re.compile(r"(?<![\w$.])(" + "|".join(MODULES) + r")\s*\.")
_WORD = re.compile(r"(?<![\w$#@!.])[A-Za-z_]\w*")
MAX_TEXT = 256 * 1024  # as intel/rules.MAX_RULE_CHARS: a longer text (a hand-made pack) is not compiled
_MEMO: dict[str, str] = {}  # source -> error ("" when it compiles)


_SKIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|/\*.*?(?:\*/|\Z)|//[^\n]*', re.S)  # an unclosed /* ends at the end: linear


def _bare(text: str) -> str:
    """The text with strings emptied and comments blanked (left to right: a quote in a comment, a // in a string)."""
    return _SKIP.sub(lambda m: '""' if m.group(0).startswith('"') else " ", text)


def imports_for(texts: Iterable[str]) -> str:
    used = sorted({m.group(1) for t in texts for m in _MODULE_USE.finditer(_bare(t))})
    return "".join(f'import "{m}"\n' for m in used)


def _condition_names(rule: Rule) -> set[str]:
    bare = _bare(rule.text)
    at = bare.find("condition")
    return set(_WORD.findall(bare[at:])) if at >= 0 else set()


class _Pool:
    """The YARA rules a rule may use, indexed once: by name, and the global rules of each document."""

    def __init__(self, rules: list[Rule]) -> None:
        self.by_name: dict[str, list[Rule]] = {}
        self.globals: dict[str, list[Rule]] = {}
        self.names: dict[int, set[str]] = {}
        for r in rules:
            self.by_name.setdefault(r.name, []).append(r)
            if re.match(r"\s*(?:private\s+)?global\b", r.text):
                self.globals.setdefault(r.document, []).append(r)

    def named(self, n: str, doc: str) -> Rule:  # two advisories may use one name: the rule's own document first
        return next((c for c in self.by_name[n] if c.document == doc), self.by_name[n][0])

    def uses(self, r: Rule) -> list[Rule]:
        if id(r) not in self.names:
            self.names[id(r)] = _condition_names(r)
        deps = [self.named(n, r.document) for n in sorted(self.names[id(r)]) if n in self.by_name]
        return [d for d in deps + self.globals.get(r.document, []) if d is not r]


def _with_dependencies(rule: Rule, pool: _Pool) -> list[Rule]:
    """The rule and those it needs, in the order they were published (YARA wants a rule declared before use)."""
    need: dict[int, Rule] = {id(rule): rule}
    todo = [rule]
    while todo:
        for d in pool.uses(todo.pop()):
            if id(d) not in need:
                need[id(d)] = d
                todo.append(d)
    return sorted(need.values(), key=lambda r: (r is rule, r.document, r.line))  # what it uses first, then the rule


def yara_source(rules: list[Rule]) -> tuple[str, dict[int, int]]:
    """Imports + rule texts; and for each rule (by id) the source line its text starts on."""
    head = imports_for(r.text for r in rules)
    parts, starts = [head], {}
    line = head.count("\n") + 1
    for r in rules:
        starts[id(r)] = line
        parts.append(r.text + "\n")
        line += r.text.count("\n") + 1
    return "".join(parts), starts


def check_yara(rule: Rule, pool: _Pool) -> str:
    from tracehound.sweep.yara_rules import check_source

    group = _with_dependencies(rule, pool)
    src, starts = yara_source(group)
    key = f"{rule.document}:{rule.line}:{src}"  # the error names the rule's place
    if key not in _MEMO:
        problem = check_source(src, rule.document or "pack")
        _MEMO[key] = "" if problem is None else _yara_error(problem, rule, group, starts)
    return _MEMO[key]


def _yara_error(problem: dict[str, Any], rule: Rule, group: list[Rule], starts: dict[int, int]) -> str:
    line = problem.get("line")
    for r in group:
        first = starts[id(r)]
        if line is not None and first <= line <= first + r.text.count("\n"):
            where = f"{r.document}:{r.line + line - first}" if r.line else r.document or "pack"
            return f"{where}: {problem['reason']}" + ("" if r is rule else f" (in rule {r.name}, which it uses)")
    return f"{rule.document or 'pack'}:{rule.line}: {problem['reason']}"


def check_sigma(rule: Rule) -> str:
    from tracehound.matching.sigma.loader import load_texts
    from tracehound.matching.sigma.ruleset import RuleSet

    origin = f"{rule.document or 'pack'}:{rule.line}"
    loaded = load_texts([(origin, rule.text)])
    rs = RuleSet.build(loaded)
    for f in rs.failures:
        return f"{origin}: {f.reason}"
    if not loaded.rules and not loaded.correlations:
        return f"{origin}: no Sigma rule in this text"
    for _path, r in loaded.rules:
        for rx in _regexes(r.detection.detections.values()):
            risk = backtracking_risk(rx)
            if risk:
                return f"{origin}: regular expression {rx[:80]!r} {risk}: not run from an advisory (put it in a --sigma file)"
    return ""


def _regexes(items: Iterable[Any]) -> Iterable[str]:
    from sigma.types import SigmaRegularExpression

    for it in items:
        if hasattr(it, "detection_items"):
            yield from _regexes(it.detection_items)
        for v in getattr(it, "value", None) or []:
            if isinstance(v, SigmaRegularExpression):
                yield str(v.regexp)


def backtracking_risk(pattern: str) -> str:
    """Why a regex may take exponential time on Python's backtracking `re` (which runs Sigma's `|re`),
    or '': a repeat over a repeat or an alternation (`(a+)+`, `(a|ab)*`), or a back-reference."""
    import re._parser as sre

    try:
        tree = sre.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return ""  # the evaluator reports the invalid pattern itself

    def walk(items: Any, under_repeat: bool) -> str:
        for op, av in items:
            name = str(op)
            if name == "GROUPREF" or name == "GROUPREF_EXISTS":
                return "uses a back-reference"
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                lo, hi, body = av
                if under_repeat and hi > 1:
                    return "repeats a repeat (exponential backtracking)"
                found = walk(body, under_repeat or hi > 16)
                if found:
                    return found
            elif name == "BRANCH":
                if under_repeat:
                    return "repeats an alternation (exponential backtracking)"
                for alt in av[1]:
                    if (found := walk(alt, under_repeat)):
                        return found
            elif name in ("SUBPATTERN", "ATOMIC_GROUP", "ASSERT", "ASSERT_NOT"):
                body = av[-1] if name != "ATOMIC_GROUP" else av
                if (found := walk(body, under_repeat)):
                    return found
        return ""
    return walk(tree, False)


def validate(rules: list[Rule], others: Iterable[Rule] = ()) -> None:
    """Set `error` on each rule of `rules` ('' when valid); `others` are rules already in the pack
    (a new rule may name one of them)."""
    pool = _Pool([r for r in list(others) + rules if r.kind == "yara"])
    for r in rules:
        if len(r.text) > MAX_TEXT:
            r.error = f"{where(r)}: rule text over {MAX_TEXT // 1024} KiB: not compiled"
        elif r.kind == "yara":
            r.error = check_yara(r, pool)
        elif r.kind == "sigma":
            r.error = check_sigma(r) if not _needs_others(r) else _correlation_check(r, rules, others)


def _needs_others(rule: Rule) -> bool:
    return re.search(r"^\s*correlation\s*:", rule.text, re.M) is not None


def _correlation_check(rule: Rule, rules: list[Rule], others: Iterable[Rule]) -> str:
    """A correlation names other rules: loaded with the pack's other Sigma rules."""
    from tracehound.matching.sigma.loader import load_texts

    base = [r for r in list(others) + rules if r.kind == "sigma" and r is not rule and not _needs_others(r)]
    origin = f"{rule.document or 'pack'}:{rule.line}"
    loaded = load_texts([(f"{r.document}:{r.line}", r.text) for r in base] + [(origin, rule.text)])
    for f in loaded.failures:
        if f.path == origin:
            return f"{origin}: {f.reason}"
    return ""


# --- use --------------------------------------------------------------------------------------
def valid_rules(pack: Pack, kind: str) -> tuple[list[Rule], list[Rule]]:
    """(valid, invalid) rules of a kind, checked again now (a pack file can be edited by hand)."""
    rules = [r for r in pack.rules if r.kind == kind]
    fresh = [Rule(r.kind, r.name, r.text, r.document, r.line) for r in rules]
    validate(fresh)
    for r, f in zip(rules, fresh, strict=True):
        r.error = r.error or f.error
    return [r for r in rules if not r.error], [r for r in rules if r.error]


def where(rule: Rule) -> str:
    return f"{rule.document}:{rule.line}" if rule.line else rule.document or "pack"


def pack_yara(pack: Pack) -> list[tuple[str, bytes, dict[str, str]]]:
    """The pack's valid YARA rules as compile_rules `extra` sources (an invalid one gets its error set)."""
    return yara_sources(valid_rules(pack, "yara")[0])


PACK_ORIGIN = "pack:"  # a pack rule's origin in a Sigma rule set: pack:document:line


def pack_sigma(pack: Pack) -> list[tuple[str, str]]:
    """The pack's valid Sigma rules as (origin, text) for load_ruleset (an invalid one gets its error set)."""
    return [(PACK_ORIGIN + where(r), r.text) for r in valid_rules(pack, "sigma")[0]]


def yara_sources(rules: list[Rule]) -> list[tuple[str, bytes, dict[str, str]]]:
    """Valid YARA rules as sources for one compile with the --yara files: rules that name each other
    (or share a global rule) in one source, every other rule in its own. (origin, text, {rule: where})."""
    groups: list[list[Rule]] = []
    index: dict[int, int] = {}
    pool = _Pool(rules)
    for r in rules:
        members = _with_dependencies(r, pool)
        hit = sorted({index[id(m)] for m in members if id(m) in index})
        target = hit[0] if hit else len(groups)
        if not hit:
            groups.append([])
        for h in hit[1:]:
            for m in groups[h]:
                index[id(m)] = target
            groups[target] += groups[h]
            groups[h] = []
        for m in members:
            if id(m) not in index:
                index[id(m)] = target
                groups[target].append(m)
    out = []
    for g in groups:
        if not g:
            continue
        g.sort(key=lambda r: (r.document, r.line))
        src, _ = yara_source(g)
        first = g[0]
        out.append((f"pack:{where(first)}", src.encode(), {r.name: where(r) for r in g}))
    return out
