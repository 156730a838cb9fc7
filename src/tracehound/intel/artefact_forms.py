"""The forms host artefacts take in advisory text: Windows paths, macOS/Linux paths, registry keys
(with a value name and data when the line gives them), mutex names and PDB paths.

Vendor knowledge (hive roots, %VARIABLES%, placeholder spellings, POSIX roots, the locations every
host has) is in packs/host-artefacts.json. Every pattern is anchored on a literal start (a drive
letter, a `%`, a hive root, a `/root/`), its quantifiers are bounded and its pieces exclude one
another's separators, so a line costs linear time whatever its length; a line without the start
characters of a form is not searched for it at all.

A component may hold single spaces (`Program Files`, `Application Support`) except the last one,
which ends at the first space (`C:\\Program Files\\Evil Corp\\agent.exe is dropped` gives the path up
to `agent.exe`), unless the value is alone on its line or after a label, or the text names it as a key
or folder right after (`...\\Shell Extensions registry key`): see _trim and docs/intel.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from tracehound.intel.model import IType


@lru_cache(maxsize=1)
def knowledge() -> dict[str, Any]:
    return json.loads(resources.files("tracehound.packs").joinpath("host-artefacts.json").read_text(encoding="utf-8"))


@dataclass
class Found:
    itype: IType
    value: str  # as written (placeholders normalised); canonicalised by the caller
    start: int
    end: int
    context: dict[str, str] = field(default_factory=dict)
    problem: str = ""  # non-empty: not an indicator, shown in the pack's exclusions with this reason


# One component piece: a character no path separator or quote, or a placeholder / (x86)-like group.
_PLACE = r"<\w{1,24}>|\[\w{1,24}\]|\{[\w-]{1,40}\}|\(\w{1,10}\)"
_WCH = r"[^\s\\/:\"|`'<>,;*?\[\]{}()]"
_WATOM = rf"(?:{_WCH}|{_PLACE}|\*|\?)"
_WCOMP = rf"{_WATOM}{{1,255}}"
_WSEP = r"\\{1,2}"


_NEW_ROOT = r"HK[A-Za-z_]*:?\\|[A-Za-z]:\\|%[A-Za-z_]|~/"  # a word after a space that starts another value


def _tail(sep: str, comp: str, atom: str, word: str = r"[\w(\[<{]") -> str:
    """Components below a root: inner ones may hold single spaces before a word starting with `word`
    (not `/v`, `-Name`, `~/`); the last one ends at a space, unless a separator closes it
    (`...\\Evil Corp\\ then`)."""
    spaced = rf"{comp}(?: (?!{_NEW_ROOT})(?={word}){comp}){{0,6}}"
    return rf"(?:{sep}{spaced}(?={sep})){{0,40}}(?:{sep}{spaced}{sep}(?!{atom})|{sep}{comp})"


_WIN_TAIL = _tail(_WSEP, _WCOMP, _WATOM)
# A drive (also after the NT prefixes `\\??\\`, `\\\\?\\` of service ImagePaths), a %VARIABLE%, or `\\SystemRoot`.
WIN_PATH = re.compile(rf"(?:(?<=\\\?\?\\)|(?<=\\\\\?\\)|(?<![\w\\/%]))(?:[A-Za-z]:|%[A-Za-z_][\w()]{{0,30}}%|"
                      rf"(?i:\\SystemRoot)(?=\\[^\\])){_WIN_TAIL}")
ELIDED = re.compile(rf"(?:…|\.\.\.){_WIN_TAIL}")
UNC_PATH = re.compile(rf"(?<![\w\\])\\\\[\w.$-]{{1,255}}{_WIN_TAIL}")
_RCH = r"[^\s\\/:\"|`'<>,;\[\]{}()]"
_RATOM = rf"(?:{_RCH}|{_PLACE})"
_RCOMP = rf"{_RATOM}{{1,255}}"
REG_KEY = re.compile(
    rf"(?<![\w\\/])(?:Computer\\)?(HKEY_[A-Za-z_]{{4,20}}|HK(?:LM|CU|U|CR|CC)):?"
    rf"({_tail(_WSEP, _RCOMP, _RATOM)})", re.I)
_PCH = r"[^\s/\\\"|`'<>,;:()\[\]{}*?]"
_PATOM = rf"(?:{_PCH}|{_PLACE}|\*)"
_PCOMP = rf"{_PATOM}{{1,255}}"


@lru_cache(maxsize=1)
def _posix() -> tuple[re.Pattern[str], dict[str, str]]:
    roots: dict[str, str] = {}
    for plat, names in knowledge()["posix_roots"].items():
        for n in names:
            roots[n.lower()] = "" if plat == "any" else plat
    alt = "|".join(sorted((re.escape(r) for r in roots), key=len, reverse=True))
    tail = _tail("/", _PCOMP, _PATOM, r"[A-Z0-9(]")  # macOS folder names with spaces are capitalised
    rx = re.compile(rf"(?<![\w.:/~\\=-])(~|/(?i:{alt}))({tail})")
    return rx, roots


@lru_cache(maxsize=1)
def _tables() -> tuple[frozenset[str], dict[str, str], frozenset[str], frozenset[str]]:
    k = knowledge()
    variables = json.loads(resources.files("tracehound.packs").joinpath("paths", "windows-env.json").read_text(encoding="utf-8"))
    env = frozenset(v.upper() for v in variables["variables"])  # the ones the sweep can place on a tree
    places = {p.lower(): q for p, q in k["placeholders"].items()}
    paths = frozenset(p.lower() for p in k["locations"]["paths"])
    keys = frozenset(p.lower() for p in k["locations"]["keys"])
    return env, places, paths, keys


_SYSTEM_DIR = re.compile(r"(?:c:\\windows|%windir%|%systemroot%)\\(?:(?:system32|syswow64|sysnative)\\)?(.+)\Z", re.I)


@lru_cache(maxsize=1)
def _system_files() -> frozenset[str]:
    return frozenset(n.lower() for n in knowledge()["system_files"]["names"])


def is_location(itype: IType, canonical: str) -> bool:
    """A folder, file or key every host of its platform has (named alone it is no indicator): the pack's
    locations, and the Windows system files by name in C:\\Windows, System32 or SysWOW64."""
    _, _, paths, keys = _tables()
    low = canonical.lower()
    if itype is IType.REGISTRY_KEY:
        return low in keys
    m = _SYSTEM_DIR.match(low)
    return low in paths or (m is not None and m.group(1) in _system_files()) or _only_root(low)


_PLACEHOLDER = re.compile(r"\*+|<[^<>]*>|\{[^{}]*\}|%[^%]+%|\?")


def _only_root(low: str) -> bool:
    """`/Library`, `/private/etc`, `/home/*`, `C:\\Users\\<user>`, `%APPDATA%\\*`: a root folder, or one whose
    components below it are all placeholders, is on every host (a sweep would flag them all)."""
    windows = not low.startswith(("/", "~/"))
    parts = low.split("\\")[1:] if windows else low.lstrip("~").strip("/").split("/")
    if not windows and parts[:1] == ["private"]:
        parts = parts[1:]
    if not windows and not low.startswith("~/"):
        if parts[0] not in _posix()[1]:
            return False
        parts = parts[1:]
    elif windows and not low.startswith("%"):
        parts = parts[1:]  # C:\Users\<user>: the folder below the drive, then only placeholders
        if not parts:
            return False  # C:\x names one folder or file
    return all(_PLACEHOLDER.fullmatch(p) for p in parts)


_PLACE_RX = re.compile(_PLACE)
_TRAIL = ".!?:"  # sentence punctuation after a value


def _placeholders(value: str) -> str:
    places = _tables()[1]

    def one(m: re.Match[str]) -> str:
        return places.get(m.group(0).lower(), m.group(0))
    return _PLACE_RX.sub(one, value) if ("<" in value or "[" in value or "{" in value) else value


_LEAD = re.compile(r"\s*(?:[-*•+]\s+|\d+[.)]\s+)?(?:[\w /-]{1,30}:\s+)?")  # a list item, a 'Path: ' label
_NAMED_AFTER = re.compile(r"((?: [A-Z0-9][\w().-]{0,40}){1,3}) (?i:registry )?(?i:key|sub-?key|folder|directory)\b")
_LAST_WORDS = re.compile(r"(?: [A-Z0-9][\w().-]{0,40}){1,3}\s*$")


def _trim(line: str, start: int, end: int) -> int:
    """End of a value: sentence punctuation off; a value alone on its line (a list item, a table cell) keeps
    up to three capitalised words after its last space (`...\\CurrentVersion\\Shell Extensions`), and so does one
    the text names as a key or folder right after them."""
    named = _NAMED_AFTER.match(line, end)  # `...\\Shell Extensions registry key`, `...\\Common Files folder`
    if named:
        end = named.end(1)
    elif _LEAD.match(line).end() == start:  # type: ignore[union-attr]
        m = _LAST_WORDS.match(line, end)
        if m and not re.search(r"[.!?:]\s*$", m.group(0)):
            end = len(line.rstrip())
    while end > start and line[end - 1] in _TRAIL:
        end -= 1
    return end


_REF_DEFINITION = re.compile(r"\s*\[[^\]]{1,80}\]:\s*$")


def _in_url(line: str, start: int) -> bool:
    """Inside a URL or a file:// link (the whitespace-delimited token before start holds '://'), or the
    target of a Markdown link (`[text](/etc/x)`, `[1]: /var/x`): a reference, not an artefact."""
    if line[max(0, start - 2) : start] == "](" or (start < 90 and _REF_DEFINITION.fullmatch(line, 0, start)):
        return True
    lo = max(line.rfind(" ", max(0, start - 512), start), line.rfind("\t", max(0, start - 512), start), start - 512)
    return "://" in line[lo + 1 : start]


_VALUE_NAME = re.compile(
    r"""(?:/v|-Name|\bvalue(?:\s+name)?\b|\bnom de (?:la )?valeur\b|\bvaleur\b)\s*[:=]?\s*("[^"\n]{1,255}"|'[^'\n]{1,255}'|\((?:Default|par d[ée]faut)\)|[^\s,;"'()]{1,255})""",
    re.I)
_VALUE_DATA = re.compile(
    r"""(?:/d|-Value|\b(?:value\s+)?data\b|\bdonn[ée]es?\b|\bset to\b|\bpointing to\b)\s*[:=]?\s*("[^"\n]{1,1024}"|'[^'\n]{1,1024}'|[^\s,;"'()]{1,1024})""",
    re.I)
_NAME_STOP = frozenset({"name", "named", "data", "of", "the", "is", "to", "with", "and", "a", "an", "in", "under", "for"})


def _value_of(rx: re.Pattern[str], text: str) -> str:
    for m in rx.finditer(text):
        v = m.group(1)
        if v[:1] in "\"'":
            return v[1:-1]
        v = v.rstrip(".")
        if v.lower() not in _NAME_STOP and not REG_KEY.match(v):
            return v
    return ""


def registry_values(after: str, low: str) -> dict[str, str]:
    """Value name and data the text right after a key gives (`/v X /d Y`, `-Name X -Value Y`, `value X`);
    low: the same text lowercased (substring checks first: most keys have no value named after them)."""
    out: dict[str, str] = {}
    if not ("/v" in low or "-name" in low or "valu" in low or "valeur" in low):
        return out
    name = _value_of(_VALUE_NAME, after)
    if name:
        out["value_name"] = name
        cue = any(c in low for c in ("/d", "-value", "data", "donn", "set to", "pointing"))
        data = _value_of(_VALUE_DATA, after) if cue else ""
        if data and data != name:
            out["value_data"] = data
    return out


_MUTEX_CUE = re.compile(r"\bmut(?:ex(?:es)?|ants?)\b((?:\s+(?:object|named|name|called|value|is|was)\b|\s*[:=])*)\s*[:=]?\s*", re.I)
_MUTEX_VALUE = re.compile(r"\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'|“([^”\n]{1,200})”|([^\s,;()\"']{3,200})")
_MUTEX_WORDS = frozenset({"the", "a", "an", "to", "that", "which", "and", "or", "with", "for", "is", "was", "it", "its",
                          "prevents", "ensures", "check", "checks", "creation", "created", "creates", "exists", "name",
                          "named", "object", "used", "of", "in", "on", "by", "this", "from", "as", "so", "if", "not"})


def find_mutexes(line: str, under_heading: bool) -> list[Found]:
    """Mutex names the line says are mutexes: after 'mutex' (quoted, or after ':'/'named', or a token that is
    not an English word), or the line's single token under a 'Mutexes' heading."""
    out: list[Found] = []
    for m in _MUTEX_CUE.finditer(line):
        v = _MUTEX_VALUE.match(line, m.end())
        if not v:
            continue
        quoted = v.group(4) is None
        text = next(g for g in v.groups() if g is not None)
        token = text if quoted else text.rstrip(".")
        explicit = quoted or bool(re.search(r"[:=]|named|called", m.group(0), re.I))
        wordy = re.fullmatch(r"[a-z]+|[A-Z][a-z]+", token) is not None
        if token.lower() in _MUTEX_WORDS or (not explicit and wordy) or len(token) < 3:
            continue
        out.append(Found(IType.MUTEX, token, v.start(), v.start() + len(token) + (2 if quoted else 0)))
    if not out and under_heading:
        s = re.sub(r"^\s*(?:[-*•+]|\d+[.)])\s+", "", line).strip()
        if s and " " not in s and len(s) >= 3:
            lo = line.find(s)
            out.append(Found(IType.MUTEX, s, lo, lo + len(s)))
    return out


def find_paths_and_keys(line: str, low: str) -> list[Found]:
    """Windows, UNC and POSIX paths, PDB paths and registry keys of one (refanged) line, in order."""
    out: list[Found] = []
    taken = bytearray(len(line))  # characters already in a value (one byte each: a check costs O(1))
    if "hk" in low:
        for m in REG_KEY.finditer(line):
            end = _trim(line, m.start(), m.end())
            if _in_url(line, m.start()):
                continue
            root = m.group(1)
            value = root + line[m.start(2) : end]
            f = Found(IType.REGISTRY_KEY, _placeholders(value), m.start(), end, registry_values(line[end : end + 400], low[end : end + 400]))
            out.append(f)
            taken[m.start() : end] = b"\x01" * (end - m.start())
    env = _tables()[0]
    if ":\\" in line or "%" in line or "\\systemroot\\" in low:
        for m in WIN_PATH.finditer(line):
            if taken[m.start()] or _in_url(line, m.start()):
                continue
            end = _trim(line, m.start(), m.end())
            value = _placeholders(line[m.start() : end])
            if value[:1] == "\\":  # \SystemRoot\System32\drivers\x.sys (a service's ImagePath)
                value = "%SYSTEMROOT%" + value[len("\\SystemRoot") :]
            f = _typed_path(value, m.start(), end)
            if value.startswith("%"):
                var = value[1 : value.index("%", 1)].upper()
                if var not in env:
                    f.problem = f"unknown variable %{var}% at the start of a path (packs/paths/windows-env.json)"
            out.append(f)
            taken[m.start() : end] = b"\x01" * (end - m.start())
    if "…\\" in line or "...\\" in line:
        for m in ELIDED.finditer(line):
            end = _trim(line, m.start(), m.end())
            out.append(Found(IType.FILE_PATH, line[m.start() : end], m.start(), end,
                             problem="elided path ('…\\'): its start is not given, so it names no place on a host"))
    if "\\\\" in line:
        for m in UNC_PATH.finditer(line):
            if not taken[m.start()] and not _in_url(line, m.start()):
                end = _trim(line, m.start(), m.end())
                out.append(Found(IType.FILE_PATH, line[m.start() : end], m.start(), end,
                                 problem="network share path (\\\\server\\share): not on a host's own tree"))
    if "/" in line:
        rx, roots = _posix()
        for m in rx.finditer(line):
            if taken[m.start()] or _in_url(line, m.start()):
                continue
            end = _trim(line, m.start(), m.end())
            value = _placeholders(line[m.start() : end])
            f = _typed_path(value, m.start(), end)
            plat = "macos" if value.startswith("~/Library/") else roots.get(m.group(1).strip("/").lower(), "")
            if plat and f.itype is IType.FILE_PATH:
                f.context["platform"] = plat
            out.append(f)
    out.sort(key=lambda f: f.start)
    return out


def _typed_path(value: str, start: int, end: int) -> Found:
    return Found(IType.PDB_PATH if value.lower().endswith(".pdb") else IType.FILE_PATH, value, start, end)
