"""Load Sigma rules with pySigma: every file either gives rules or is reported once with its reason.

Reasons are counted by kind (the pySigma error class, or the exact feature this evaluator lacks) so
a run over a whole rule repository says what did not load and why.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.errors import UsageError

MAX_RULE_BYTES = 1 << 20


@dataclass
class RuleFailure:
    path: str
    title: str
    reason: str  # the exact message, shown to people
    kind: str  # for counting: error class or unsupported feature


@dataclass
class LoadResult:
    rules: list[tuple[str, Any]] = field(default_factory=list)  # (path, pySigma SigmaRule)
    correlations: list[tuple[str, Any]] = field(default_factory=list)  # (path, SigmaCorrelationRule), resolved
    failures: list[RuleFailure] = field(default_factory=list)
    files: int = 0
    texts: int = 0  # rules given as text (a pack's), not counted as files

    def reasons(self) -> Counter[str]:
        return Counter(f.kind for f in self.failures)


def rule_files(specs: list[str]) -> list[str]:
    out: list[str] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            for root, dirs, names in os.walk(p, followlinks=False):
                dirs.sort()
                out += [os.path.join(root, n) for n in sorted(names) if n.endswith((".yml", ".yaml"))]
        elif p.is_file():
            out.append(str(p))
        else:
            raise UsageError(f"--sigma {spec!r}: no such rule file or folder")
    return out


def load_rules(specs: list[str], texts: list[tuple[str, str]] | None = None) -> LoadResult:
    """Rule files and folders; `texts`: rules already in memory as (origin, YAML text), e.g. a pack's."""
    res = LoadResult()
    for path in rule_files(specs):
        res.files += 1
        try:
            if os.path.getsize(path) > MAX_RULE_BYTES:
                res.failures.append(RuleFailure(path, "", f"rule file larger than {MAX_RULE_BYTES} bytes", "file too large"))
                continue
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            res.failures.append(RuleFailure(path, "", f"cannot read: {exc}", "unreadable file"))
            continue
        _load_text(res, path, text)
    for origin, text in texts or []:
        res.texts += 1
        if len(text.encode("utf-8", "surrogatepass")) > MAX_RULE_BYTES:
            res.failures.append(RuleFailure(origin, "", f"rule larger than {MAX_RULE_BYTES} bytes", "file too large"))
            continue
        _load_text(res, origin, text)
    _resolve(res)
    return res


def load_texts(texts: list[tuple[str, str]]) -> LoadResult:
    return load_rules([], texts)


def _load_text(res: LoadResult, path: str, text: str) -> None:
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule
    from sigma.rule import SigmaRule

    bomb = _alias_bomb(text)
    if bomb:
        res.failures.append(RuleFailure(path, "", bomb, "YAML alias expansion too large"))
        return
    try:
        coll = SigmaCollection.from_yaml(text, collect_errors=True, resolve_references=False)
    except Exception as exc:  # noqa: BLE001 - pySigma raises many error classes on hostile YAML
        res.failures.append(_failure(path, text, exc))
        return
    per_rule = {_msg(e) for r in coll.rules for e in (getattr(r, "errors", None) or [])}
    for err in coll.errors:
        if _msg(err) not in per_rule:  # pySigma lists a rule's errors twice: once is enough
            res.failures.append(_failure(path, text, err))
    for rule in coll.rules:
        title = str(getattr(rule, "title", "") or "")
        errors = list(getattr(rule, "errors", []) or [])
        if errors:
            res.failures.append(RuleFailure(path, title, _msg(errors[0]), type(errors[0]).__name__))
        elif isinstance(rule, SigmaCorrelationRule):
            res.correlations.append((path, rule))
        elif isinstance(rule, SigmaRule):
            res.rules.append((path, rule))
        else:
            res.failures.append(RuleFailure(path, title, f"{type(rule).__name__} documents are not run",
                                            f"{type(rule).__name__} document"))


def _resolve(res: LoadResult) -> None:
    """Correlations may name rules of any loaded file: resolve them against all of them."""
    if not res.correlations:
        return
    from sigma.collection import SigmaCollection

    merged = SigmaCollection([r for _p, r in res.rules] + [c for _p, c in res.correlations], resolve_references=False)
    ok = []
    for path, corr in res.correlations:
        try:
            corr.resolve_rule_references(merged)
        except Exception as exc:  # noqa: BLE001 - SigmaRuleNotFoundError and friends
            res.failures.append(RuleFailure(path, str(corr.title or ""), f"correlation: {_msg(exc)}",
                                            "correlation with an unknown rule"))
            continue
        ok.append((path, corr))
    res.correlations = ok


MAX_NODES = 200_000


def _alias_bomb(text: str) -> str:
    """A YAML file whose aliases expand past MAX_NODES ('billion laughs'): composed without
    expanding (aliases share nodes), then counted with memoization. '' when fine or not YAML."""
    if "&" not in text:
        return ""
    import yaml

    try:
        docs = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return ""  # pySigma reports the syntax error itself
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # cycles count once
        n = 1
        if isinstance(node, yaml.SequenceNode):
            n += sum(size(c) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            n += sum(size(k) + size(v) for k, v in node.value)
        sizes[key] = n
        return n

    total = sum(size(d) for d in docs if d is not None)
    return f"YAML aliases expand to {total:,} nodes (more than {MAX_NODES:,}): not loaded" if total > MAX_NODES else ""


def _failure(path: str, text: str, exc: BaseException) -> RuleFailure:
    if "correlation:" in text and type(exc).__name__ == "SigmaRuleNotFoundError":
        # A correlation whose base rules are in other files: not evaluated anyway.
        return RuleFailure(path, "", f"correlation rules are not evaluated yet ({_msg(exc)})",
                           "correlation rule (not implemented)")
    return RuleFailure(path, "", _msg(exc), type(exc).__name__)


def _msg(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
