"""Loki / THOR Lite IOC files (signature-base `iocs/` folder): what Loki can read, nothing else.

Loki reads three kinds of file, chosen by a word in the file name ('hash', 'filename', 'c2'), one
IOC a line, '#' lines are comments (the last one before a line is its description), fields split at
every ';':
  tracehound-hash-iocs.txt      HASH;COMMENT (MD5, SHA-1, SHA-256; Loki needs the comment)
  tracehound-filename-iocs.txt  REGEX;SCORE — Python `re` searched in the full path of each file
  tracehound-c2-iocs.txt        VALUE;SCORE — an IP (exact), a CIDR, or a name contained in the
                                remote address of a process connection (Loki skips values under 4 chars)
File names (exact, case-insensitive, any folder) and file paths become anchored regexes: '\\' and '/'
alike, a leading %VAR% as the folders packs/paths/windows-env.json lists, '~/' every home folder
(packs/paths/posix.json), <GUID> a GUID, '*' and <word> any text within one component, '?' one character.
URLs, registry keys, mutexes, PDB paths, e-mail addresses, certificates and SHA-512 have no Loki IOC
file: the Format entry in exports/__init__.py says why, and the export README lists them.

Every value is checked again here (safety.py): no control, format or separator character (Loki's
`codecs` reader splits lines at U+2028, U+0085 and \\x1c-\\x1e too), no ';' left in a regex (written
`\\x3b`), each regex compiled with Python's `re` as Loki does; a refused value is listed, never dropped.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from tracehound.intel.model import FILE_HASH_TYPES, Indicator, IType
from tracehound.outputs.exports.safety import Refused, address, dns_name, hex_digest, keep, line_safe
from tracehound.outputs.exports.select import ExportOptions, Selection, safe_text

HASH_FILE, FILENAME_FILE, C2_FILE = "tracehound-hash-iocs.txt", "tracehound-filename-iocs.txt", "tracehound-c2-iocs.txt"
SEP = r"[\\/]"
_ANY = r"[^\\/]*"
GUID = r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?"
_TOKEN = re.compile(r"(\{GUID\}|<GUID>|<[^<>\\/]*>|%[A-Za-z_][A-Za-z0-9_()]*%|\*+|\?)", re.I)
_DRIVE = re.compile(r"[A-Za-z]:(?=[\\/]|$)")
MAX_WILDCARDS = 4  # placeholders in one component (as the sweep)
MIN_C2 = 4  # Loki: "C2 server definition is suspiciously short - will not add"


@cache
def _table(name: str) -> dict:
    return json.loads(resources.files("tracehound.packs").joinpath("paths", name).read_text(encoding="utf-8"))


def _lit(text: str) -> str:
    """A literal in a Loki regex: escaped, and no ';' (Loki splits the line there)."""
    return re.escape(text).replace(";", r"\x3b")


def _component(text: str) -> str:
    pieces = _TOKEN.split(text)
    if len(pieces) > 2 * MAX_WILDCARDS + 1:
        raise Refused(f"more than {MAX_WILDCARDS} placeholders in one path component")
    out = []
    for n, piece in enumerate(pieces):
        if n % 2 == 0:
            out.append(_lit(piece))
        elif piece.upper() in ("<GUID>", "{GUID}"):
            out.append(GUID)
        elif piece == "?":
            out.append(r"[^\\/]")
        else:
            out.append(_ANY)
    return "".join(out)


def _folders(alternatives: list[str]) -> str:
    """Regex for one of several folder paths ('Users/*/AppData/Roaming'; '*' one component), each
    followed by a separator ('' is the root itself)."""
    alts = sorted({"".join(_component(c) + SEP for c in a.split("/") if c) for a in alternatives})
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


def _windows(parts: list[str]) -> str:
    head = ""
    if parts and re.fullmatch(r"%[A-Za-z_][A-Za-z0-9_()]*%", parts[0]):
        folders = {k.upper(): v for k, v in _table("windows-env.json")["variables"].items()}.get(parts[0][1:-1].upper())
        if folders is None:
            raise Refused(f"{parts[0]}: no folder known for this variable (packs/paths/windows-env.json)")
        head, parts = _folders(folders), parts[1:]
    return "(?i)" + SEP + head + SEP.join(_component(c) for c in parts) + "$"


def _posix(parts: list[str], home: bool, platforms: list[str]) -> str:
    table = _table("posix.json")
    head = ""
    if home:
        oses = [p for p in platforms if p in table["home"]] or sorted(table["home"])
        head = _folders([h for o in oses for h in table["home"][o]])
    else:
        for a, b in table["aliases"]:  # /private/etc is /etc on macOS
            for this in (a, b):
                n = len(this.split("/"))
                if [c.lower() for c in parts[:n]] == this.split("/"):
                    head, parts = _folders([a, b]), parts[n:]
                    break
            if head:
                break
    case = "" if platforms == ["linux"] else "(?i)"
    return case + SEP + head + SEP.join(_component(c) for c in parts) + "$"


def path_regex(ind: Indicator) -> str:
    """The Loki filename-IOC regex for a file-path indicator, or Refused."""
    v = line_safe(ind.value, allow_space=True)
    platforms = ind.ctx("platform")
    if v.startswith("~/"):
        rx = _posix([c for c in v[2:].split("/") if c], True, platforms)
    elif v.startswith("/") and "\\" not in v:
        rx = _posix([c for c in v.split("/") if c], False, platforms)
    else:
        rx = _windows([c for c in re.split(r"[\\/]", _DRIVE.sub("", v, count=1)) if c])
    return checked(rx)


def name_regex(ind: Indicator) -> str:
    name = line_safe(ind.value, allow_space=True)
    if "/" in name or "\\" in name:
        raise Refused("a file name holds no path separator")
    return checked(f"(?i)(?:^|{SEP}){_lit(name)}$")


def checked(rx: str) -> str:
    """A regex Loki takes as one field of one line and compiles."""
    line_safe(rx, allow_space=True)
    if ";" in rx or rx.startswith("#"):
        raise Refused("';' or a leading '#' would cut the line")
    try:
        re.compile(rx)
    except re.error as exc:
        raise Refused(f"not a Python regex ({exc})") from exc
    return rx


def c2_value(ind: Indicator) -> str:
    value = address(ind.value)[0] if ind.type in (IType.IPV4, IType.IPV6, IType.CIDR) else dns_name(ind.value)
    if len(value) < MIN_C2:
        raise Refused(f"Loki skips C2 values shorter than {MIN_C2} characters")
    return value.lower()


def _comment(sel: Selection, ind: Indicator) -> str:
    return safe_text(" ".join([sel.campaign, *ind.ctx("file_name"), *ind.ctx("label")])) or "tracehound"


def export(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    title = f"# {safe_text(sel.campaign) or 'tracehound'} (tracehound export of pack {sel.slug})"
    files: dict[str, list[str]] = {HASH_FILE: [], FILENAME_FILE: [], C2_FILE: []}
    for ind, h in keep(sel, "loki", [i for i in sel.indicators if i.type in FILE_HASH_TYPES],
                       lambda i: hex_digest(i.value)):
        files[HASH_FILE].append(f"{h};{_comment(sel, ind)}")
    for ind, rx in keep(sel, "loki", sel.of(IType.FILENAME), name_regex):
        files[FILENAME_FILE].append(f"{rx};{ind.confidence}")
    for ind, rx in keep(sel, "loki", sel.of(IType.FILE_PATH), path_regex):
        files[FILENAME_FILE].append(f"{rx};{ind.confidence}")
    for ind, v in keep(sel, "loki", sel.of(IType.DOMAIN, IType.IPV4, IType.IPV6, IType.CIDR), c2_value):
        files[C2_FILE].append(f"{v};{ind.confidence}")
    return {name: "\n".join([title, *lines]) + "\n" for name, lines in files.items() if lines}
