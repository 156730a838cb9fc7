"""Sigma rules for host artefacts: file paths (file_event) and registry keys (registry_event).

A path indicator becomes the absolute forms Sysmon (and the macOS/Linux file_event sources)
write in `TargetFilename`, as Sigma wildcard values (case-insensitive by Sigma's rules):
- a leading `%VAR%` is each folder packs/paths/windows-env.json lists for it, on any drive
  (`%APPDATA%\\x` -> `?:\\Users\\*\\AppData\\Roaming\\x`); a drive letter stays as written;
- POSIX `~/` is every home folder of packs/paths/posix.json (`/Users/*/`, `/home/*/`, `/root/`),
  and `/private/etc` is also `/etc` (and the other aliases);
- placeholders (`<GUID>`, `{GUID}`, any other `<word>`, `*`, an inner `%VAR%`) are `*`, `?` is `?`.
  Sigma's `*` also spans `\\`: a rule is at most broader than the sweep's one-component reading.
A registry key becomes the `TargetObject` forms Sysmon writes (events 12, 13, 14): `HKLM\\...`,
`HKU\\<SID>\\...` for HKCU, `HKU\\<SID>_Classes\\...` and `HKLM\\SOFTWARE\\Classes\\...` for HKCR,
`CurrentControlSet` for a `ControlSet00N`, the `WOW6432Node` view of `HKLM\\SOFTWARE`; with a
value name the value's own path (`...\\Run\\Name`), without one the key and everything under it.
A value's data is not a condition (Sysmon writes `DWORD (0x...)`, not what advisories write):
the rule can be broader than the indicator, never narrower.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from tracehound.intel.model import Indicator, IType
from tracehound.outputs.exports.safety import Refused, keep, line_safe
from tracehound.outputs.exports.select import Selection

_TOKEN = re.compile(r"(\{GUID\}|<GUID>|<[^<>\\/]*>|%[A-Za-z_][A-Za-z0-9_()]*%|\*+|\?)", re.I)
MAX_FORMS = 32


@cache
def _table(name: str) -> dict[str, Any]:
    return json.loads(resources.files("tracehound.packs").joinpath("paths", name).read_text(encoding="utf-8"))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def wildcard(text: str) -> str:
    """Sigma value of a path written with tracehound's placeholders: literal text escaped, placeholders `*`/`?`."""
    out = []
    for n, piece in enumerate(_TOKEN.split(text)):
        if n % 2 == 0:
            out.append(_escape(piece))
        else:
            out.append("?" if piece == "?" else "*")
    return re.sub(r"(?<!\\)\*(\*)+", "*", "".join(out))


def _dedup(forms: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for f in forms:
        seen.setdefault(f, None)
    if len(seen) > MAX_FORMS:
        raise Refused(f"more than {MAX_FORMS} forms")
    return list(seen)


def path_forms(ind: Indicator) -> tuple[str, list[str]]:
    """(product, TargetFilename values) of a path indicator; Refused when no log source records it."""
    v = line_safe(ind.value, allow_space=True)
    last = re.split(r"[\\/]", v.rstrip("\\/"))[-1]
    if not _TOKEN.sub("", last).strip(". "):
        raise Refused("no literal text in the last component: it would match every file")
    if v.startswith("\\\\"):
        raise Refused("a network share path: file_event records local paths")
    if re.match(r"[A-Za-z]:\\|%", v):
        head, _, rest = v.partition("\\")
        if re.fullmatch(r"[A-Za-z]:", head):
            return "windows", [_escape(head) + "\\\\" + wildcard(rest)]
        m = re.fullmatch(r"%([A-Za-z_][A-Za-z0-9_()]*)%", head)
        env = {k.upper(): b for k, b in _table("windows-env.json")["variables"].items()}
        if m is None or m.group(1).upper() not in env:
            raise Refused(f"unknown variable {head[:40]}")
        forms = []
        for base in env[m.group(1).upper()]:
            folder = "\\".join([*(base.split("/") if base else []), rest]) if rest else base.replace("/", "\\")
            forms.append("?:\\\\" + wildcard(folder))
        return "windows", _dedup(forms)
    if not v.startswith(("/", "~/")):
        raise Refused("not an absolute path")
    posix = _table("posix.json")
    plats = [p for p in ind.ctx("platform") if p in ("macos", "linux")] or ["macos", "linux"]
    if v.startswith("~/"):
        rels = [f"/{home}/{v[2:]}" for pl in plats for home in posix["home"][pl]]
    else:
        rels = [v]
    for a, b in posix["aliases"]:
        for r in list(rels):
            for x, y in ((a, b), (b, a)):
                if r.lower().startswith(f"/{x}/"):
                    rels.append(f"/{y}/{r[len(x) + 2:]}")
    return ("macos" if plats == ["macos"] else "linux" if plats == ["linux"] else ""), _dedup([wildcard(r) for r in rels])


def _key_paths(value: str) -> list[str]:
    root, _, rest = value.partition("\\")
    if not rest:
        raise Refused("a hive root alone")
    low = rest.lower()
    if root == "HKLM":
        cs = re.match(r"system\\controlset\d{3}\\", low)
        if cs:
            return [f"HKLM\\{rest}", f"HKLM\\SYSTEM\\CurrentControlSet\\{rest[cs.end():]}"]
        if low.startswith("software\\classes\\"):
            return _classes(rest[17:])
        if low.startswith("software\\") and not low.startswith("software\\wow6432node\\"):
            return [f"HKLM\\{rest}", f"HKLM\\SOFTWARE\\WOW6432Node\\{rest[9:]}"]
        return [f"HKLM\\{rest}"]
    if root == "HKCU":
        if low.startswith("software\\classes\\"):
            return [f"HKU\\*_Classes\\{rest[17:]}", f"HKU\\*\\{rest}"]
        return [f"HKU\\*\\{rest}"]
    if root == "HKCR":
        return _classes(rest)
    if root == "HKU":
        return [f"HKU\\{rest}"]
    if root == "HKCC":
        return [f"HKLM\\SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current\\{rest}"]
    raise Refused(f"unknown root {root[:10]}")


def _classes(rest: str) -> list[str]:
    """A class key: Sysmon writes it under HKCR (and HKCR\\WOW6432Node for 32-bit writers), HKLM or a user's classes."""
    forms = [f"HKCR\\{rest}", f"HKLM\\SOFTWARE\\Classes\\{rest}", f"HKU\\*_Classes\\{rest}"]
    if not rest.lower().startswith("wow6432node\\"):
        forms.insert(1, f"HKCR\\WOW6432Node\\{rest}")
    return forms


def key_forms(ind: Indicator) -> list[str]:
    """TargetObject values of a registry-key indicator (its value's path when it names one)."""
    line_safe(ind.value, allow_space=True)
    names = [n for n in ind.ctx("value_name") if n]
    for n in names:
        line_safe(n, allow_space=True)
    out: list[str] = []
    for key in _key_paths(ind.value):
        k = "\\\\".join(w if w in ("*", "*_Classes") else wildcard(w) for w in key.split("\\"))
        if names:
            out += [f"{k}\\\\{_escape(n)}" for n in names if n.lower() != "(default)"]
            out += [f"{k}\\\\(Default)" for n in names if n.lower() == "(default)"]
        else:
            out += [k, f"{k}\\\\*"]
    return _dedup(out)


def rules(sel: Selection, make: Any) -> dict[str, str]:
    """make(kind, title, logsource, detection, level, tags) -> rule text; the rules keyed by file name."""
    out: dict[str, str] = {}
    persist = ["attack.persistence", "attack.t1195.002"]
    by_product: dict[str, list[str]] = {}
    for _ind, (product, forms) in keep(sel, "sigma", sel.of(IType.FILE_PATH), path_forms):
        by_product.setdefault(product, []).extend(forms)
    for product, forms in sorted(by_product.items()):
        logsource = {"category": "file_event", **({"product": product} if product else {})}
        suffix = f"_{product}" if product else ""
        out[f"{sel.slug}_file_event_paths{suffix}.yml"] = make(
            f"file-paths{suffix}", f"file written at a known artefact path{' (' + product + ')' if product else ''}",
            logsource, {"selection": {"TargetFilename": _dedup_all(forms)}, "condition": "selection"}, "high", persist)
    keys = [f for _i, forms in keep(sel, "sigma", sel.of(IType.REGISTRY_KEY), key_forms) for f in forms]
    if keys:
        out[f"{sel.slug}_registry_event_keys.yml"] = make(
            "registry-keys", "registry key or value of a known artefact", {"category": "registry_event", "product": "windows"},
            {"selection": {"TargetObject": _dedup_all(keys)}, "condition": "selection"}, "high", persist)
    return out


def _dedup_all(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
