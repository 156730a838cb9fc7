"""Find hashes and thumbprints in text, rejoining values that a web page or PDF split.

Lengths: 32 (MD5), 40 (SHA-1), 64 (SHA-256), 128 (SHA-512).

Advisories break long hex values with a space or a line break
(`5d99efa36f34aa6b43cd81e77544961 c5c8d692c96059fef92c2df2624550734` is one SHA-256).
A join is accepted only when it cannot be two real values glued together:
- the joined length is a hash length and
- at least one fragment is not a hash length on its own, or the surrounding text names the
  joined type and not the fragment type (two 32-hex halves under a "SHA-256" header), and
- all fragments share letter case and each carries a digit (rules out hex-looking words), and
- a join across a line break only continues a value that is still incomplete, except the
  PDF wrap: a line that ends with a 32/40-hex run followed, at the start of the next line, by
  a fragment that completes a SHA-256/SHA-512 and is not itself the start of another value.

Also found: values glued to words (`…bd987hash -x-hash=…`, `words<md5>words`) and `0x`
prefixed values, when the run of hex is exactly a hash length and mixes digits and letters.
A value labelled `imphash`, `import hash`, `authentihash`, `ssdeep`, `tlsh`, `serial number`...
right before it carries that `label`: the caller keeps it out of the file hashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Fa-f]{4,128}(?![0-9A-Za-z_])")
_GLUED = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{128}|[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![0-9A-Fa-f])")
_VALID = (32, 40, 64, 128)
_MAX_GAP = 3  # characters of whitespace between fragments
_LABEL = re.compile(
    r"(imphash|import[ _-]?hash|authentihash|authenticode hash|pehash|rich[ _-]?(?:header[ _-]?)?hash|ssdeep|tlsh|"
    r"telfhash|vhash|serial(?:[ _-]?(?:number|no\.?))?|s/n|num[ée]ro de s[ée]rie)[\s:=\"'-]*$", re.I)
_LABEL_NAMES = {"import hash": "imphash", "importhash": "imphash", "import-hash": "imphash", "import_hash": "imphash"}
_TYPE_WORDS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}


@dataclass(frozen=True)
class HexValue:
    value: str  # lowercase
    start: int
    end: int
    joined: bool
    label: str = ""  # "imphash", "authentihash", "serial"...: not a file hash


def _case(tok: str) -> str:
    letters = [c for c in tok if c.isalpha()]
    if not letters:
        return "any"
    if all(c.isupper() for c in letters):
        return "upper"
    if all(c.islower() for c in letters):
        return "lower"
    return "mixed"


def _names(hint: str, total: int) -> bool:
    h = hint.lower().replace("-", "").replace(" ", "")
    return _TYPE_WORDS.get(total, "?") in h


def _hint_allows_half_join(hint: str, total: int) -> bool:
    if total == 64:
        return _names(hint, 64) and not _names(hint, 32)
    if total == 128:
        return _names(hint, 128) and not _names(hint, 64)
    return False


def _label(text: str, start: int) -> str:
    m = _LABEL.search(text[max(0, start - 48) : start])
    if not m:
        return ""
    word = m.group(1).lower()
    word = _LABEL_NAMES.get(word, word)
    if word.startswith(("serial", "s/n", "num")):
        return "serial"
    return "imphash" if word.startswith("rich") or word == "pehash" else word.replace(" ", "-")


def find_hex_values(text: str, hint: str = "") -> list[HexValue]:
    """All 32/40/64/128-hex values in text, split values rejoined, in order of appearance."""
    tokens = list(_TOKEN.finditer(text))
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
            nxt = tokens[j + 1].group()
            if "\n" in gap and total in _VALID:
                if j == i and _pdf_wrap(tokens, j, text, total, hint):
                    best_j = j + 1
                break  # otherwise never extend a complete value onto the next line
            ncase = _case(nxt)
            if case != "any" and ncase != "any" and ncase != case:
                break
            if ncase != "any":
                case = ncase if case == "any" else case
            total += len(nxt)
            if total > 128:
                break
            j += 1
            if total in _VALID and _join_ok(tokens[i : j + 1], total, hint):
                best_j = j
        if best_j >= 0:
            parts = tokens[i : best_j + 1]
            value = "".join(p.group() for p in parts).lower()
            out.append(HexValue(value, parts[0].start(), parts[-1].end(), True, _label(text, parts[0].start())))
            i = best_j + 1
            continue
        if len(first.group()) in _VALID:
            out.append(HexValue(first.group().lower(), first.start(), first.end(), False, _label(text, first.start())))
        i += 1
    return _with_glued(text, out)


def _pdf_wrap(tokens: list[re.Match[str]], j: int, text: str, total: int, hint: str) -> bool:
    """tokens[j] ends a line with a complete-length run; does tokens[j+1] finish a longer value?"""
    head, nxt = tokens[j].group(), tokens[j + 1].group()
    if j > 0 and text[tokens[j - 1].end() : tokens[j].start()].strip() == "" \
            and "\n" not in text[tokens[j - 1].end() : tokens[j].start()]:
        return False  # the line's run is itself a join of fragments: leave it
    joined = total + len(nxt)
    hc, nc = _case(head), _case(nxt)
    if len(nxt) in _VALID or joined not in (64, 128) or (hc != "any" and nc != "any" and hc != nc):
        return False
    if j + 2 < len(tokens):
        after = text[tokens[j + 1].end() : tokens[j + 2].start()]
        if len(after) <= _MAX_GAP and not after.strip() and "\n" not in after:
            return False  # the fragment starts another split value
    if not re.search(r"\d", nxt) or _names(hint, total) and not _names(hint, joined):
        return False
    line_end = text.find("\n", tokens[j].end())
    return line_end != -1 and not text[tokens[j].end() : line_end].strip()


def _with_glued(text: str, found: list[HexValue]) -> list[HexValue]:
    taken = [(h.start, h.end) for h in found]
    extra = []
    for m in _GLUED.finditer(text):
        if any(m.start() < b and m.end() > a for a, b in taken):
            continue
        v = m.group()
        if not re.search(r"\d", v) or not re.search(r"[A-Fa-f]", v):
            continue
        extra.append(HexValue(v.lower(), m.start(), m.end(), False, _label(text, m.start())))
    if not extra:
        return found
    return sorted(found + extra, key=lambda h: h.start)


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
