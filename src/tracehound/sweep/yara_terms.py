"""Terms of a YARA condition that require a file type: the bytes a file must hold at an offset.

One term of a condition's top-level `and` (yara_groups splits it; strings, regexes and comments
blanked) is read as a requirement only in these forms, each true only for a file holding the bytes:

- `uintN[be](K) == V`, `intN[be](K) == V`, either side, constants (a signed read equals a non-negative
  V only when the bytes are V's);
- `$x at K` where `$x` is a plain literal: a text string with no modifier other than `ascii`,
  `fullword`, `private` and only the escapes `\\" \\\\ \\t \\n \\r \\xHH`, or a hex string of bytes only (no
  `??`, jump or alternative); the file's bytes at K are then the literal's;
- the `pe` module (also `dotnet`, whose files are PE) and `elf`: `pe.is_pe`, `dotnet.is_dotnet`, a bare
  call `pe.exports("x")` (truthy), `pe.characteristics & pe.DLL`, or a comparison of a module field
  (`pe.number_of_sections == 3`, `pe.imphash() == "..."`, `elf.type == elf.ET_EXEC`) with a constant.
  yara-x leaves every field of a module that did not parse the file undefined (a comparison with it is
  then false); only its functions `exports`/`imports`... return a defined false, so a call is read only
  bare (truthy), never negated or compared. `is_*` fields and `not`, `defined`, `or`, quantifiers are
  not read. pe requires `MZ` at 0, elf `\\x7fELF` (what yara-x's parsers check first).

Anything else: None (no requirement). Offsets beyond MAX_OFFSET are not used.
"""

from __future__ import annotations

import re

Magic = tuple[tuple[int, bytes], ...]
MAX_OFFSET = 1024  # a test further into the file is not used (the head read for type detection is 4096 bytes)

_WS = re.compile(r"\s+")
_NUM = r"(0x[0-9a-f]+|\d+)"
_INT = re.compile(rf"^(u?)int(8|16|32)(be)?\({_NUM}\)=={_NUM}$")
_INT_REV = re.compile(rf"^{_NUM}==(u?)int(8|16|32)(be)?\({_NUM}\)$")
_AT = re.compile(r"^\$(\w+)\s+at\s+(0x[0-9a-fA-F]+|\d+)$")
MODULES = {"pe": ((0, b"MZ"),), "dotnet": ((0, b"MZ"),), "elf": ((0, b"\x7fELF"),)}
_MOD = r"(pe|dotnet|elf)"
_FIELD = rf"{_MOD}\.(?!is_)[a-z_]\w*(?:\[\d+\])?(?:\.[a-z_]\w*(?:\[\d+\])?)*"
_CONST = rf'(?:0x[0-9a-f]+|\d+(?:kb|mb)?|"\s*"|{_MOD}\.[A-Z_][A-Z0-9_]*)'
_CALL0 = rf"{_MOD}\.[a-z_]\w*\(\)"  # a call with no argument compared to a constant: imphash(), rich_signature...
_MODULE_TERMS = (
    re.compile(r"^(?:pe\.is_pe|dotnet\.is_dotnet)$"),
    re.compile(rf'^{_MOD}\.(?!is_)[a-z_]\w*\((?:\s*(?:"\s*"|0x[0-9a-f]+|\d+)\s*,?)*\)$', re.I),
    re.compile(rf"^{_FIELD}\s*&\s*{_MOD}\.[A-Z_][A-Z0-9_]*$"),
    re.compile(rf"^(?:{_FIELD}|{_CALL0})\s*(?:==|<=|>=|<|>)\s*{_CONST}$"),
    re.compile(rf"^{_CONST}\s*(?:==|<=|>=|<|>)\s*(?:{_FIELD}|{_CALL0})$"),
)


def requirement(term: str, literals: dict[str, bytes] | None = None) -> Magic | None:
    """The bytes a file must hold for this term to be true, or None when it is not such a test."""
    s = _WS.sub("", term).lower()
    m = _INT.match(s)
    if m:
        unsigned, bits, be, off, val = m.groups()
    else:
        m = _INT_REV.match(s)
        if m:
            val, unsigned, bits, be, off = m.groups()
    if m:
        width, offset, value = int(bits) // 8, _number(off), _number(val)
        limit = 1 << (8 * width - (0 if unsigned else 1))
        if offset > MAX_OFFSET or value >= limit:
            return None  # out of range: such a comparison is never true, but it is not what this reads
        return ((offset, value.to_bytes(width, "big" if be else "little")),)
    t = _WS.sub(" ", term).strip()
    a = _AT.match(t)
    if a:
        lit = (literals or {}).get(a.group(1))
        offset = _number(a.group(2).lower())
        return ((offset, lit),) if lit and offset <= MAX_OFFSET else None
    if re.search(r"\b(?:not|or|and|defined|of|for|them|any|all|none|at|in)\b", t):
        return None
    for p in _MODULE_TERMS:
        if p.match(t):
            return MODULES[re.search(rf"\b{_MOD}\.[a-z_]", t).group(1)]  # type: ignore[union-attr]  # the field, not a constant
    return None


def _number(text: str) -> int:
    return int(text, 16) if text.startswith("0x") else int(text)  # YARA: 012 is twelve


# ---- plain literal strings of a rule ---------------------------------------------------------
_DEF = re.compile(r"\$(\w+)\s*=\s*")
_TEXT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_ESC = re.compile(r"\\(x[0-9a-fA-F]{2}|.)")
_PLAIN_MODS = {"ascii", "fullword", "private"}
_HEX_BYTES = re.compile(r"^(?:[0-9a-fA-F]{2})+$")


def literals(text: str, masked: str, start: int, end: int) -> dict[str, bytes]:
    """Plain literal strings defined between start and end (a rule's strings section): identifier
    -> bytes. masked is text with comments, strings and regexes blanked (yara_groups.mask)."""
    out: dict[str, bytes] = {}
    defs = [m for m in _DEF.finditer(masked, start, end)]
    for i, d in enumerate(defs):
        stop = defs[i + 1].start() if i + 1 < len(defs) else end
        at = d.end()
        value = None
        if masked.startswith('"', at):
            t = _TEXT.match(text, at)
            if t and t.end() <= stop:
                mods = masked[t.end():stop].split()
                if all(w in _PLAIN_MODS for w in mods):
                    value = _unescape(t.group(1))
        elif masked.startswith("{", at):
            close = masked.find("}", at, stop)
            if close > 0:
                body = _WS.sub("", masked[at + 1:close])
                mods = masked[close + 1:stop].split()
                if _HEX_BYTES.match(body) and all(w == "private" for w in mods):
                    value = bytes.fromhex(body)
        if value:
            if d.group(1) in out:
                return {}  # a repeated identifier: a compile error, nothing read
            out[d.group(1)] = value
    return out


def _unescape(s: str) -> bytes | None:
    if not s.isascii():
        return None  # the source was decoded with replacements: its bytes are not known for sure
    out, at = [], 0
    for m in _ESC.finditer(s):
        out.append(s[at:m.start()].encode())
        e = m.group(1)
        if e.startswith("x") and len(e) == 3:
            out.append(bytes([int(e[1:], 16)]))
        elif e in ('"', "\\"):
            out.append(e.encode())
        elif e in "tnr":
            out.append({"t": b"\t", "n": b"\n", "r": b"\r"}[e])
        else:
            return None
        at = m.end()
    out.append(s[at:].encode())
    return b"".join(out)
