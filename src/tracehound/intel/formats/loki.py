"""Loki / signature-base IOC files: hash-iocs, filename-iocs and c2-iocs.

Formats (each file states its own in its header):
  hash-iocs.txt      HASH;COMMENT  or  HASH;SCORE;COMMENT (comments may contain ';')
  filename-iocs.txt  REGEX;SCORE[;FALSE_POSITIVE_REGEX]
  c2-iocs.txt        VALUE[;SCORE]
'#' starts a comment; the last comment before a block describes it. Lines keep no trailing
newline or spaces (Loki's own reader keeps the '\\n' on bare lines, so they never match).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from tracehound.errors import PackError
from tracehound.fsutil import atomic_write_text
from tracehound.intel.model import HASH_LENGTHS, REJECTED, Exclusion, IType, Pack
from tracehound.intel.values import one_line, visible

_HASH_LINE = re.compile(r"([0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})(?:;(.*))?", re.S)
_SCORE_LINE = re.compile(r"(.+);(\d{1,3})(?:;(.*))?", re.S)
_HOST = re.compile(r"(?:[A-Za-z0-9_-]{1,63}\.)+[A-Za-z][A-Za-z0-9-]{1,62}\.?")
FILES = ("hash-iocs.txt", "filename-iocs.txt", "c2-iocs.txt")


def _is_ip(v: str) -> bool:
    try:
        ipaddress.ip_network(v, strict=False)
    except ValueError:
        return False
    return True


def _classify(line: str) -> str:
    if _HASH_LINE.fullmatch(line):
        return "hash"
    head = line.split(";", 1)[0]
    if _HOST.fullmatch(head) or _is_ip(head):
        return "c2"
    if _SCORE_LINE.fullmatch(line):
        return "filename"
    return "unknown"


def looks_like_loki(text: str) -> bool:
    seen = 0
    for raw in text.splitlines()[:400]:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _classify(line) == "unknown":
            return False
        seen += 1
    return seen > 0


def loads(text: str, path: str = "<loki>", kind: str | None = None) -> Pack:
    """Read one Loki file; kind (hash/filename/c2) is guessed per line when not given.

    Lines end at '\\n' only (as Loki reads them): a U+2028 or a form feed inside a line stays in
    its value and gets it rejected, it never splits one line into two indicators. A line that is
    not an IOC, or whose value is refused, is kept in `excluded` with its line number."""
    pack = Pack(name=Path(path).stem)
    description = ""
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t\r")
        if not line:
            continue
        if "\x00" in line:
            pack.excluded.append(Exclusion(visible(line)[:200], kind or "?", f"{REJECTED}NUL byte (U+0000) in the line (corrupt line)",
                                           path, n))
            continue
        if line.startswith("#"):
            description = line.lstrip("# ").strip()
            continue
        k = kind or _classify(line)
        ctx: dict[str, str | list[str]] = {"description": description} if description else {}
        try:
            _add_line(pack, k, line, ctx, path, n)
        except (ValueError, re.error) as exc:
            pack.excluded.append(Exclusion(visible(line), k, f"{REJECTED}bad Loki IOC line: {exc}", path, n))
    return pack


def _add_line(pack: Pack, k: str, line: str, ctx: dict[str, str | list[str]], path: str, n: int) -> None:
    if k == "hash":
        m = _HASH_LINE.fullmatch(line)
        if not m:
            raise ValueError("expected HASH;COMMENT")
        h, rest = m.group(1), (m.group(2) or "")
        score = 75
        sm = re.fullmatch(r"(\d{1,3});(.*)", rest, re.S)
        if sm:
            score, rest = int(sm.group(1)), sm.group(2)
        if rest.strip():
            ctx["comment"] = rest.strip()
        pack.add_value(HASH_LENGTHS[len(h)], h, ctx, min(score, 100), document=path, line=n)
    elif k == "filename":
        m = _SCORE_LINE.fullmatch(line)
        if not m:
            raise ValueError("expected REGEX;SCORE[;FP_REGEX]")
        regex, score, fp = m.group(1), int(m.group(2)), m.group(3)
        if fp:
            ctx["false_positive_regex"] = fp
            re.compile(fp)
        pack.add_value(IType.FILENAME_REGEX, regex, ctx, min(score, 100), document=path, line=n)
    elif k == "c2":
        value, _, score_s = line.partition(";")
        value = value.strip()
        score = int(score_s) if score_s.strip().isdigit() else 80
        if _is_ip(value):
            itype = IType.CIDR if "/" in value else IType.IPV6 if ":" in value else IType.IPV4
        else:
            itype = IType.DOMAIN
        pack.add_value(itype, value, ctx, min(score, 100), document=path, line=n)
    else:
        raise ValueError("not a hash, filename-regex or C2 line")


def read_dir(folder: Path) -> Pack:
    pack = Pack(name=folder.name)
    found = False
    for name, kind in zip(FILES, ("hash", "filename", "c2"), strict=True):
        f = folder / name
        if f.is_file():
            found = True
            # bytes, not read_text: universal newlines would make a lone \r inside a value a line break
            pack.merge(loads(f.read_bytes().decode("utf-8", errors="replace"), str(f), kind))
    if not found:
        raise PackError(f"folder holds none of {', '.join(FILES)}", path=str(folder))
    return pack


def _lines(pack: Pack) -> dict[str, list[str]]:
    title = pack.title or pack.campaign or pack.name
    out: dict[str, list[str]] = {f: [f"# {one_line(title)}"] for f in FILES}
    for ind in pack.indicators:
        if ind.type in HASH_LENGTHS.values() and ind.type is not IType.SHA512:  # Loki reads MD5, SHA-1, SHA-256
            comment = "; ".join(x for x in (ind.ctx("file_name") + ind.ctx("label"))) or title
            out["hash-iocs.txt"].append(f"{ind.value};{one_line(comment)}")
        elif ind.type in (IType.DOMAIN, IType.IPV4, IType.IPV6, IType.CIDR):
            # `VALUE;SCORE`: Loki keeps the line end of a line without ';' in the value (it never matches)
            out["c2-iocs.txt"].append(f"{ind.value};{ind.confidence}")
        elif ind.type is IType.FILENAME and ind.ctx("standalone") != ["no"]:
            out["filename-iocs.txt"].append(f"(?i)(^|[\\\\/]){re.escape(ind.value)}$;{ind.confidence}")
        elif ind.type is IType.FILENAME_REGEX:
            fp = ind.ctx("false_positive_regex")
            out["filename-iocs.txt"].append(f"{ind.value};{ind.confidence}" + (f";{one_line(fp[0])}" if fp else ""))
    return out


def write_dir(pack: Pack, folder: Path) -> None:
    for name, lines in _lines(pack).items():
        atomic_write_text(folder / name, "\n".join(lines) + "\n")


def dumps_combined(pack: Pack) -> str:
    return "".join("\n".join(lines) + "\n" for lines in _lines(pack).values())
