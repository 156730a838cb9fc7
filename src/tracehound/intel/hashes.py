"""Find hashes and thumbprints in text, rejoining values that a web page or PDF split.

Advisories break long hex values with a space or a line break
(`5d99efa36f34aa6b43cd81e77544961 c5c8d692c96059fef92c2df2624550734` is one SHA-256).
A join is accepted only when it cannot be two real values glued together:
- the joined length is a hash length (32/40/64) and
- at least one fragment is not a hash length on its own, or the surrounding text names the
  joined type and not the fragment type (two 32-hex halves under a "SHA-256" header), and
- all fragments share letter case and each carries a digit (rules out hex-looking words), and
- a join across a line break only continues a value that is still incomplete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Fa-f]{4,64}(?![0-9A-Za-z_])")
_VALID = (32, 40, 64)
_MAX_GAP = 3  # characters of whitespace between fragments


@dataclass(frozen=True)
class HexValue:
    value: str  # lowercase
    start: int
    end: int
    joined: bool


def _case(tok: str) -> str:
    letters = [c for c in tok if c.isalpha()]
    if not letters:
        return "any"
    if all(c.isupper() for c in letters):
        return "upper"
    if all(c.islower() for c in letters):
        return "lower"
    return "mixed"


def _hint_allows_half_join(hint: str, total: int) -> bool:
    h = hint.lower().replace("-", "").replace(" ", "")
    if total == 64:
        return "sha256" in h and "md5" not in h
    return False


def find_hex_values(text: str, hint: str = "") -> list[HexValue]:
    """All 32/40/64-hex values in text, split values rejoined, in order of appearance."""
    tokens = [m for m in _TOKEN.finditer(text)]
    out: list[HexValue] = []
    i = 0
    while i < len(tokens):
        first = tokens[i]
        best_j = -1
        total = len(first.group())
        case = _case(first.group())
        j = i
        while j + 1 < len(tokens):
            gap = text[tokens[j].end() : tokens[j + 1].start()]
            if not gap or len(gap) > _MAX_GAP or gap.strip() or gap.count("\n") > 1:
                break
            if "\n" in gap and total in _VALID:
                break  # never extend a complete value onto the next line
            nxt = tokens[j + 1].group()
            ncase = _case(nxt)
            if case != "any" and ncase != "any" and ncase != case:
                break
            if ncase != "any":
                case = ncase if case == "any" else case
            total += len(nxt)
            if total > 64:
                break
            j += 1
            if total in _VALID and _join_ok(tokens[i : j + 1], total, hint):
                best_j = j
        if best_j >= 0:
            parts = tokens[i : best_j + 1]
            out.append(HexValue("".join(p.group() for p in parts).lower(), parts[0].start(), parts[-1].end(), True))
            i = best_j + 1
            continue
        if len(first.group()) in _VALID:
            out.append(HexValue(first.group().lower(), first.start(), first.end(), False))
        i += 1
    return out


def _join_ok(parts: list[re.Match[str]], total: int, hint: str) -> bool:
    values = [p.group() for p in parts]
    if any(not re.search(r"\d", v) or not re.search(r"[A-Fa-f]", v) for v in values if len(v) >= 6):
        return False
    if any(len(v) < 6 and not re.search(r"\d", v) for v in values):
        return False
    valid_alone = [len(v) in _VALID for v in values]
    if all(valid_alone):
        return len(values) == 2 and _hint_allows_half_join(hint, total)
    # A complete value next to a fragment is a value and a neighbour, not one split value.
    return not any(valid_alone)
