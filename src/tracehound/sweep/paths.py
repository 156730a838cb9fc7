"""File-path indicators compiled once into matchers against the swept tree's relative paths.

A Windows indicator (`C:\\a\\b`, `%APPDATA%\\x`) is compared case-insensitively, `\\` and `/` alike,
with the drive letter C mapped to the tree's root (an image or collection of a Windows system
holds `Windows/`, `Users/`, `ProgramData/`; other drives are the `D/` folders collections make);
a leading `%VAR%` becomes the folders packs/paths/windows-env.json lists (%APPDATA% ->
`Users/*/AppData/Roaming`). POSIX indicators: `~/` is every home folder and `/private/etc` is
also `/etc` (packs/paths/posix.json); compared exactly on Linux trees, case-insensitively on
Windows and macOS ones. Placeholders: `<GUID>`/`{GUID}` a GUID (braces optional), any other
`<word>`, `*` and an inner `%VAR%` any text within one component, `?` one character.

Every pattern has a fixed number of components, so it is indexed by its deepest literal component
(lowercased) and that component's distance from the end: a path costs one dictionary lookup per
distance in use (a handful), whatever the number of indicators.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources

from tracehound.intel.model import Indicator, IType, Pack

GUID = r"\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?"
_TOKEN = re.compile(r"(\{GUID\}|<GUID>|<[^<>\\/]*>|%[A-Za-z_][A-Za-z0-9_()]*%|\*+|\?)", re.I)
MAX_WILDCARDS = 4
MAX_PATTERNS = 64  # expansions of one indicator (variables x home folders x aliases)


def _table(name: str) -> dict:
    return json.loads(resources.files("tracehound.packs").joinpath("paths", name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Pattern:
    ind: Indicator
    comps: tuple[str | re.Pattern[str], ...]  # literal (lowercased unless exact) or a compiled regex
    exact: bool  # case-sensitive (a POSIX indicator on a Linux tree)
    specific: bool  # the last component has no wildcard but a GUID


@dataclass
class PathIndex:
    by_depth: dict[int, dict[str, list[Pattern]]] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)  # reason -> indicators not run
    count: int = 0

    def __bool__(self) -> bool:
        return bool(self.by_depth)

    @classmethod
    def build(cls, pack: Pack, os_type: str) -> PathIndex:
        env = {k.upper(): v for k, v in _table("windows-env.json")["variables"].items()}
        posix = _table("posix.json")
        idx = cls()
        for ind in pack.of_type(IType.FILE_PATH):
            try:
                patterns = expand(ind, env, posix, os_type)
            except ValueError as exc:
                reason = f"path indicator not run ({exc})"
                idx.refused[reason] = idx.refused.get(reason, 0) + 1
                continue
            if not [p for p in patterns if idx._add(p)]:
                reason = "path indicator not run (no literal component: it would match every path)"
                idx.refused[reason] = idx.refused.get(reason, 0) + 1
        return idx

    def _add(self, p: Pattern) -> bool:
        for d in range(len(p.comps)):
            c = p.comps[-1 - d]
            if isinstance(c, str):
                self.by_depth.setdefault(d, {}).setdefault(c.lower(), []).append(p)
                self.count += 1
                return True
        return False

    def match(self, parts: list[str]) -> list[Pattern]:
        """The patterns matching this path (its components below the root), one per indicator."""
        n = len(parts)
        out: list[Pattern] = []
        low: list[str] | None = None  # lowercased only when some pattern is a candidate
        for d, table in self.by_depth.items():
            if d >= n:
                continue
            cands = table.get(parts[-1 - d].lower())
            if not cands:
                continue
            low = low or [p.lower() for p in parts]
            for p in cands:
                if len(p.comps) == n and _fits(p, parts, low) and all(q.ind is not p.ind for q in out):
                    out.append(p)
        return out


def _fits(p: Pattern, parts: list[str], low: list[str]) -> bool:
    for c, part, lpart in zip(p.comps, parts, low, strict=True):
        if isinstance(c, str):
            if c != (part if p.exact else lpart):
                return False
        elif not c.fullmatch(part):
            return False
    return True


def expand(ind: Indicator, env: dict[str, list[str]], posix: dict, os_type: str) -> list[Pattern]:
    """The tree-relative patterns of one indicator (ValueError: cannot be matched on a host tree)."""
    v = ind.value
    if v.startswith("\\\\"):
        raise ValueError("a network share path (\\\\server\\share) is not on the host's tree")
    windows = re.match(r"[A-Za-z]:\\|%", v) is not None
    if windows:
        parts = v.split("\\")
        head, rest = parts[0], parts[1:]
        if re.fullmatch(r"[A-Za-z]:", head):
            bases = [""] if head[0].upper() == "C" else [head[0].upper()]
        else:
            m = re.fullmatch(r"%([A-Za-z_][A-Za-z0-9_()]*)%", head)
            if m is None or m.group(1).upper() not in env:
                raise ValueError(f"unknown variable {head[:40]}")
            bases = env[m.group(1).upper()]
        rels = [[*(b.split("/") if b else []), *rest] for b in bases]
        exact = False
    else:
        home = v.startswith("~/")
        rest = (v[2:] if home else v[1:]).split("/")
        plat = [p for p in ind.ctx("platform") if p in ("macos", "linux")] or \
            ([os_type] if os_type in ("macos", "linux") else ["macos", "linux"])
        if home:
            rels = [[*b.split("/"), *rest] for pl in plat for b in posix["home"][pl]]
        else:
            rels = [rest]
        for a, b in posix["aliases"]:
            for r in list(rels):
                for x, y in ((a, b), (b, a)):
                    xs = x.split("/")
                    if [c.lower() for c in r[: len(xs)]] == xs:
                        rels.append([*y.split("/"), *r[len(xs):]])
        exact = os_type == "linux" and "macos" not in ind.ctx("platform")
    out: list[Pattern] = []
    seen: set[tuple[str, ...]] = set()
    for r in rels:
        key = tuple(r)
        if key in seen or not r:
            continue
        seen.add(key)
        comps = tuple(_component(c, exact) for c in r)
        last = r[-1]
        specific = not any(t for t in _TOKEN.findall(last) if not re.fullmatch(r"\{GUID\}|<GUID>", t, re.I))
        out.append(Pattern(ind, comps, exact, specific))
    if len(out) > MAX_PATTERNS:
        raise ValueError(f"more than {MAX_PATTERNS} expansions")
    return out


def _component(text: str, exact: bool) -> str | re.Pattern[str]:
    pieces = _TOKEN.split(text)
    if len(pieces) == 1:
        return text if exact else text.lower()
    if len(pieces) > 2 * MAX_WILDCARDS + 1:  # a.*b.*c... backtracks: bounded per component
        raise ValueError(f"more than {MAX_WILDCARDS} placeholders in one component")
    rx = []
    for n, piece in enumerate(pieces):
        if n % 2 == 0:
            rx.append(re.escape(piece))
        elif piece.upper() in ("<GUID>", "{GUID}"):
            rx.append(GUID)
        elif piece == "?":
            rx.append(".")
        else:
            rx.append(".*")
    return re.compile("".join(rx), re.S | (0 if exact else re.I))
