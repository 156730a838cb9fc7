"""Registry-key indicators against offline hives (regipy, on a private copy) and the live registry.

Where a key lives offline:

| indicator | hive file | key in the hive |
|---|---|---|
| HKLM\\SOFTWARE\\x (SYSTEM, SAM, SECURITY) | Windows/System32/config/SOFTWARE (...) | x |
| HKLM\\SYSTEM\\CurrentControlSet\\x | .../config/SYSTEM | ControlSet00N\\x (N from Select\\Current) |
| HKCC\\x | .../config/SYSTEM | ControlSet00N\\Hardware Profiles\\Current\\x |
| HKCU\\x | every user's NTUSER.DAT | x (the finding names the user) |
| HKCU\\Software\\Classes\\x | every user's UsrClass.dat | x |
| HKCR\\x | SOFTWARE, and every user's UsrClass.dat | Classes\\x, x |
| HKU\\S-1-5-18 (-19, -20)\\x, HKU\\.DEFAULT\\x | systemprofile (LocalService, NetworkService) NTUSER.DAT, config/DEFAULT | x |
| HKU\\<user SID>\\x (`_Classes`: UsrClass.dat) | the hive of the profile SOFTWARE's ProfileList names for the SID | x |

With `value_name` the value must exist (`(Default)` or empty: the unnamed value), and with
`value_data` hold that data: strings compared case-insensitively, numbers as numbers (`0x1f` or
`31`), binary data as hex, a multi-string when one of its strings is equal.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tracehound.intel.model import Indicator, IType, Pack
from tracehound.sweep.software import MAX_HIVE  # one limit for every hive copy

MACHINE_HIVES = ("software", "system", "sam", "security", "default")
WELL_KNOWN = {"s-1-5-18": "windows/system32/config/systemprofile/ntuser.dat",
              "s-1-5-19": "windows/serviceprofiles/localservice/ntuser.dat",
              "s-1-5-20": "windows/serviceprofiles/networkservice/ntuser.dat"}


@dataclass(frozen=True)
class Query:
    ind: Indicator
    hive: str  # software, system, sam, security, default, ntuser, usrclass
    path: tuple[str, ...]  # components below the hive's root ('CurrentControlSet' resolved when read)
    sid: str = ""  # HKU\<SID>: lowercased


@dataclass
class RegIndex:
    by_hive: dict[str, list[Query]] = field(default_factory=dict)
    by_sid: list[Query] = field(default_factory=list)  # HKU\<user SID>: resolved after the walk (ProfileList)
    refused: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_hive or self.by_sid)

    @classmethod
    def build(cls, pack: Pack) -> RegIndex:
        idx = cls()
        for ind in pack.of_type(IType.REGISTRY_KEY):
            try:
                for q in queries(ind):
                    if q.sid and q.sid not in WELL_KNOWN:
                        idx.by_sid.append(q)
                    else:
                        idx.by_hive.setdefault(q.hive, []).append(q)
            except ValueError as exc:
                reason = f"registry-key indicator not run ({exc})"
                idx.refused[reason] = idx.refused.get(reason, 0) + 1
        return idx


def queries(ind: Indicator) -> list[Query]:
    root, *rest = ind.value.split("\\")
    low = [p.lower() for p in rest]
    if root == "HKLM":
        if low[0] in MACHINE_HIVES[:4]:
            return [Query(ind, low[0], tuple(rest[1:]))]
        raise ValueError(f"HKLM\\{rest[0][:40]} is not kept in a hive file" if low[0] == "hardware"
                         else f"unknown machine hive HKLM\\{rest[0][:40]}")
    if root == "HKCC":
        return [Query(ind, "system", ("CurrentControlSet", "Hardware Profiles", "Current", *rest))]
    if root == "HKCU":
        if low[:2] == ["software", "classes"]:
            return [Query(ind, "usrclass", tuple(rest[2:]))]
        return [Query(ind, "ntuser", tuple(rest))]
    if root == "HKCR":
        return [Query(ind, "software", ("Classes", *rest)), Query(ind, "usrclass", tuple(rest))]
    if root == "HKU":
        sid = low[0]
        if sid == ".default":
            return [Query(ind, "default", tuple(rest[1:]))]
        if sid.endswith("_classes"):
            return [Query(ind, "usrclass", tuple(rest[1:]), sid.removesuffix("_classes"))]
        return [Query(ind, "ntuser", tuple(rest[1:]), sid)]
    raise ValueError(f"unknown root {root[:10]}")


def hive_kind(rel: str) -> tuple[str, str]:
    """(kind, user) of a hive file from its place in the tree; ('', '') when it is no hive we read."""
    low = rel.lower()
    parts = low.split("/")
    name = parts[-1]
    if name in MACHINE_HIVES and len(parts) >= 2 and parts[-2] == "config":
        return name, ""
    orig = rel.split("/")
    if name == "ntuser.dat" and len(parts) >= 2:
        return "ntuser", orig[-2]
    if name == "usrclass.dat" and "appdata" in parts[:-1]:
        at = parts.index("appdata")
        return "usrclass", orig[at - 1] if at > 0 else ""
    return "", ""


def hive_sid(rel: str) -> str:
    low = rel.lower()
    return next((sid for sid, where in WELL_KNOWN.items() if low.endswith(where)), "")


@dataclass
class Hit:
    q: Query
    key: str  # the key as found in the hive (its own spelling), below the root
    value: str = ""
    data: str = ""
    note: str = ""


@contextmanager
def hive_copy(src: Any) -> Iterator[tuple[Any, str]]:
    """(regipy hive, '') of a private copy of src, made through the safe reader; (None, error) when not read."""
    from tracehound.sweep.reading_glue import copy_evidence

    try:
        from regipy.registry import RegistryHive
    except ImportError:
        yield None, "registry hives need the 'regipy' package"
        return
    fd, tmp = tempfile.mkstemp(prefix="th-hive-", suffix=".dat")
    os.close(fd)
    try:
        try:
            copy_evidence(src, tmp, MAX_HIVE)
        except OSError as exc:
            yield None, f"registry hive not read: {exc.strerror or exc}"
            return
        try:
            hive = RegistryHive(tmp)
        except Exception as exc:  # noqa: BLE001 - malformed hives raise many types
            yield None, f"unreadable registry hive: {type(exc).__name__}"
            return
        yield hive, ""
    finally:
        os.unlink(tmp)


def read_hive(src: Any, kind: str, qs: list[Query], rel: str) -> tuple[list[Hit], str]:
    """The queries' hits in one hive file, read on a private copy; (hits, error)."""
    hits: list[Hit] = []
    with hive_copy(src) as (hive, err):
        if hive is None:
            return [], err
        try:
            ccs, ccs_note = _current_control_set(hive) if kind == "system" else ("", "")
        except Exception as exc:  # noqa: BLE001
            return [], f"unreadable registry hive: {type(exc).__name__}"
        sid = hive_sid(rel)
        errors = 0
        for q in qs:
            if q.sid and q.sid in WELL_KNOWN and q.sid != sid:
                continue  # HKU\S-1-5-18: the system profile's hive only
            ccs_key = bool(q.path) and q.path[0].lower() == "currentcontrolset" and bool(ccs)
            path = [ccs, *q.path[1:]] if ccs_key else list(q.path)
            try:
                hits.extend(_match(hive, q, path, ccs_note if ccs_key else ""))
            except _Absent:
                continue
            except Exception:  # noqa: BLE001 - a corrupt cell below one key: that key not read, counted
                errors += 1
        if errors:
            return hits, f"registry hive partly unreadable ({errors} key{'s' if errors > 1 else ''} not read)"
    return hits, ""


PROFILE_LIST = ["Microsoft", "Windows NT", "CurrentVersion", "ProfileList"]


def profile_list(src: Any) -> tuple[dict[str, str], str]:
    """SID (lowercased) -> profile folder in the tree ('users/alice'), from a SOFTWARE hive's ProfileList."""
    out: dict[str, str] = {}
    with hive_copy(src) as (hive, err):
        if hive is None:
            return {}, err
        try:
            for sub in _key(hive, PROFILE_LIST).iter_subkeys() or ():
                where = str(sub.get_value("ProfileImagePath") or "")
                folder = re.sub(r"^(?:[A-Za-z]:|%systemdrive%)[\\/]", "", where.strip(), flags=re.I)
                if folder != where.strip():
                    out[str(sub.name).lower()] = folder.replace("\\", "/").strip("/").lower()
        except _Absent:
            return {}, "no ProfileList in the SOFTWARE hive"
        except Exception as exc:  # noqa: BLE001
            return out, f"unreadable registry hive: {type(exc).__name__}"
    return out, ""


def profile_of(rel: str, kind: str) -> str:
    """The profile folder a user hive belongs to ('users/alice'), lowercased."""
    parts = rel.lower().split("/")
    if kind == "usrclass" and "appdata" in parts:
        return "/".join(parts[: parts.index("appdata")])
    return "/".join(parts[:-1])


class _Absent(Exception):
    pass


def _key(hive: Any, path: list[str]) -> Any:
    from regipy.exceptions import RegistryKeyNotFoundException

    try:
        return hive.get_key("\\" + "\\".join(path)) if path else hive.root
    except RegistryKeyNotFoundException:
        raise _Absent from None


def _current_control_set(hive: Any) -> tuple[str, str]:
    try:
        current = _key(hive, ["Select"]).get_value("Current")
        n = int(current)
        if 0 < n < 1000:
            return f"ControlSet{n:03d}", ""
    except (_Absent, TypeError, ValueError):
        pass
    return "ControlSet001", "no Select\\Current in the SYSTEM hive: ControlSet001 read"


def _match(hive: Any, q: Query, path: list[str], note: str) -> Iterator[Hit]:
    key = _key(hive, path)
    shown = "\\".join([*path[:-1], str(key.name)]) if path else ""
    names = [n.lower() for n in q.ind.ctx("value_name")]
    if not names:
        yield Hit(q, shown, note=note)
        return
    wanted = {"(default)" if n in ("", "(default)", "@") else n for n in names}
    datas = q.ind.ctx("value_data")
    for v in key.iter_values(trim_values=False):
        vname = str(v.name)
        if vname.lower() not in wanted:
            continue
        if not datas:
            yield Hit(q, shown, vname, _text(v.value), note)
        elif any(data_equals(v.value, d) for d in datas):
            yield Hit(q, shown, vname, _text(v.value), note)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value[:256].hex()
    if isinstance(value, list):
        return "\n".join(str(x) for x in value)[:1024]
    return str(value).rstrip("\x00")[:1024]


def data_equals(actual: Any, wanted: str) -> bool:
    """A value's data against the indicator's: strings case-insensitively, numbers as numbers, bytes as hex."""
    w = wanted.strip()
    if isinstance(actual, bool):
        actual = int(actual)
    if isinstance(actual, int):
        try:
            return int(w, 0) == actual
        except ValueError:
            return False
    if isinstance(actual, bytes):
        hexed = re.sub(r"^hex(\([0-9a-f]+\))?:|[\s,]", "", w.lower())
        return hexed == actual.hex()
    if isinstance(actual, list):
        return any(data_equals(x, wanted) for x in actual) or "\n".join(map(str, actual)).casefold() == w.casefold()
    return str(actual).rstrip("\x00").strip().casefold() == w.casefold()


def live_available() -> bool:
    import sys

    return sys.platform == "win32"


def live_hits(pack: Pack) -> list[tuple[Indicator, str, str]]:
    """Live Windows (winreg, read-only): each indicator under its own root as this system has it
    (HKCU is the sweeping account's). (indicator, key, value); [] elsewhere. Not testable off Windows."""
    import importlib

    if not live_available():
        return []
    winreg: Any = importlib.import_module("winreg")
    roots = {"HKLM": winreg.HKEY_LOCAL_MACHINE, "HKCU": winreg.HKEY_CURRENT_USER, "HKU": winreg.HKEY_USERS,
             "HKCR": winreg.HKEY_CLASSES_ROOT, "HKCC": winreg.HKEY_CURRENT_CONFIG}
    out = []
    for ind in pack.of_type(IType.REGISTRY_KEY):
        root, _, sub = ind.value.partition("\\")
        try:
            with winreg.OpenKey(roots[root], sub, 0, winreg.KEY_READ) as k:
                names = ind.ctx("value_name")
                if not names:
                    out.append((ind, ind.value, ""))
                for name in names:
                    try:
                        data = winreg.QueryValueEx(k, "" if name.lower() in ("(default)", "@") else name)[0]
                    except OSError:
                        continue
                    if not ind.ctx("value_data") or any(data_equals(data, d) for d in ind.ctx("value_data")):
                        out.append((ind, ind.value, name))
        except (OSError, KeyError):
            continue
    return out
