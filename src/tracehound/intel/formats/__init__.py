"""Pack formats: read and write, with format detection for every `--intel` option.

Each format module offers `loads(text, path) -> Pack`; those tracehound also writes offer
`dumps(pack) -> str` (or files, for Loki). READERS is the registry of every format read (feeds as
responders receive them: MISP, STIX 2.1, STIX 1.x XML, OpenIOC, Loki, CSV, tracehound JSON);
FORMATS the formats written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tracehound import safejson
from tracehound.errors import PackError, UsageError
from tracehound.fsutil import atomic_write_text, is_special
from tracehound.intel.formats import csvpack, loki, misp, native, openioc, safexml, stix, stix1
from tracehound.intel.model import Pack, rejection_summary

FORMATS = ("json", "stix", "misp", "csv", "loki")
READERS: dict[str, Callable[[str, str], Pack]] = {
    "json": native.loads, "stix": stix.loads, "misp": misp.loads, "csv": csvpack.loads, "loki": loki.loads,
    "openioc": openioc.loads, "stix1": stix1.loads,
}
INPUT_FORMATS = tuple(READERS)
MAX_PACK_BYTES = 256 * 1024 * 1024
_XML_ROOTS = {"ioc": "openioc", "OpenIOC": "openioc", "STIX_Package": "stix1"}


def detect(text: str, path: str) -> str:
    head = text.lstrip()[:4096]
    if head.startswith("{") or head.startswith("["):
        try:
            data = safejson.loads(text)
        except json.JSONDecodeError as exc:
            raise PackError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from exc
        if isinstance(data, dict):
            if data.get("format") == native.FORMAT_NAME:
                return "json"
            if data.get("type") == "bundle":
                return "stix"
            if "Event" in data or "response" in data or ("info" in data and "Attribute" in data):
                return "misp"
        if isinstance(data, list) and data and isinstance(data[0], dict) and "Event" in data[0]:
            return "misp"
        if isinstance(data, dict) and ("stix_header" in data or "STIX_Package" in data or "indicators" in data
                                       and "version" in data and str(data.get("version", "")).startswith("1.")):
            raise PackError("STIX 1.x JSON is not read: give the package as STIX 1.x XML, or as a STIX 2.1 bundle "
                            "(stix2-elevator converts)", path=path)
        raise PackError("JSON is neither a tracehound pack, a STIX 2.1 bundle nor a MISP event", path=path)
    if head.startswith("<"):
        root = safexml.root_name(head)
        if root in _XML_ROOTS:
            return _XML_ROOTS[root]
        raise PackError(f"XML with root element <{root or '?'}> is neither OpenIOC (<ioc>, <OpenIOC>) nor a STIX 1.x "
                        "package (<STIX_Package>)", path=path)
    if path.lower().endswith(".ioc"):
        raise PackError("a .ioc file that is not OpenIOC XML (expected <ioc> or <OpenIOC>)", path=path)
    first = head.splitlines()[0] if head else ""
    if first.lower().startswith("type,value") or path.lower().endswith(".csv"):
        return "csv"
    if loki.looks_like_loki(text):
        return "loki"
    raise PackError(
        "unknown indicator format (expected tracehound JSON, STIX 2.1, MISP JSON, OpenIOC, STIX 1.x XML, CSV or Loki "
        "IOC file); "
        "to read an advisory use 'tracehound intel extract'",
        path=path,
    )


def read_pack(path: str, fmt: str | None = None, include_context: bool = False) -> Pack:
    """Read an indicator file in any format (detected unless fmt); include_context takes MISP attributes
    marked to_ids false as indicators (confidence 40, warning misp-to_ids-false) instead of context."""
    p = Path(path)
    try:
        if p.is_dir():
            return _checked(loki.read_dir(p), path)
        size = p.stat().st_size
        if size > MAX_PACK_BYTES:
            raise PackError(f"indicator file too large ({size} bytes)", path=path)
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise PackError("no such file (and not a built-in pack name; see 'tracehound intel list')", path=path) from exc
    except OSError as exc:
        raise PackError(f"cannot read: {exc.strerror or exc}", path=path) from exc
    text = _decode(data, path)
    if not text.strip():
        raise PackError("empty indicator file", path=path)
    fmt = fmt or detect(text, path)
    if fmt not in READERS:
        raise UsageError(f"unknown input format {fmt!r} (one of {', '.join(INPUT_FORMATS)})")
    pack = misp.loads(text, path, include_context) if fmt == "misp" else READERS[fmt](text, path)
    pack.sorted()
    return _checked(pack, path)


def _decode(data: bytes, path: str) -> str:
    """The pack's text (UTF-8, or UTF-16 with a BOM). Binary is decided on the whole head, not on one
    byte: a stray NUL in one line gets that line rejected by the format reader (named file:line)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    head = text[:8192]
    junk = sum(1 for c in head if c == "\ufffd" or (c < " " and c not in "\t\n\r\x1b"))
    if head and junk * 10 > len(head):
        raise PackError("binary file, not an indicator pack", path=path)
    return text


def _checked(pack: Pack, path: str) -> Pack:
    """A pack whose every value was refused is an error, not an empty pack that hunts nothing."""
    rejected = pack.rejections()
    if rejected and not pack.indicators:
        raise PackError(f"no valid indicator: {rejection_summary(rejected)}", path=path)
    return pack


def write_pack(pack: Pack, fmt: str, out: str | None) -> str | None:
    """Write pack in fmt to out ('-' or None for stdout, returned as text); Loki writes a directory."""
    if fmt == "loki":
        if not out or out == "-":
            return loki.dumps_combined(pack)
        if is_special(out):
            raise UsageError(f"the Loki format is a folder of IOC files: give -o DIR, not {out}")
        loki.write_dir(pack, Path(out))
        return None
    writer = {"json": native.dumps, "stix": stix.dumps, "misp": misp.dumps, "csv": csvpack.dumps}[fmt]
    text = writer(pack)
    if not out or out == "-":
        return text
    atomic_write_text(Path(out), text)
    return None


