"""Read Windows' AmCache (C:\\Windows\\appcompat\\Programs\\Amcache.hve), offline.

AmCache records files that were present and, for most of them, executed, with the SHA-1 of
their first 31 MB (the whole file for executables below that size), and keeps the record after
the file is deleted; and it inventories installed programs. Two layouts exist:

- Windows 10 1607 and later: `Root\\InventoryApplicationFile\\*` (values `FileId` = '0000' +
  SHA-1, `LowerCaseLongPath`, `Name`) and `Root\\InventoryApplication\\*` (`Name`, `Version`,
  `Publisher`, `InstallDate` as 'MM/DD/YYYY hh:mm:ss').
- Windows 8 to 10 1511: `Root\\File\\{volume}\\{file}` (value '101' = '0000' + SHA-1, '15' the
  path, '17' the file's last-modified FILETIME) and `Root\\Programs\\*` ('0' name, '1' version).

The hive is copied through the safe reader to a private file first (as Uninstall hives are), so
the evidence is never opened in place; malformed keys are counted, never fatal.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tracehound.sweep.software import MAX_HIVE, Installed

MAX_ENTRIES = 2_000_000  # a hive holds tens of thousands at most
SHA1 = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class AmFile:
    sha1: str
    path: str
    key: str  # the key that records it
    time: str  # ISO: key last write (Inventory) or the file's last-modified time (legacy)


@dataclass
class Amcache:
    files: list[AmFile] = field(default_factory=list)
    programs: list[Installed] = field(default_factory=list)
    bad: int = 0  # entries without a usable SHA-1 / name and version (counted)
    problem: str = ""


def _filetime(v: object) -> str:
    try:
        n = int(v)  # type: ignore[call-overload]
        if n <= 0:
            return ""
        dt = datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=n // 10)
        return dt.isoformat(timespec="seconds").replace("+00:00", "Z")
    except (TypeError, ValueError, OverflowError):
        return ""


def _sha1(v: object) -> str:
    s = str(v or "").strip().lower()
    s = s[4:] if len(s) == 44 and s.startswith("0000") else s
    return s if SHA1.match(s) else ""


def _install_date(v: object) -> str:
    try:
        dt = datetime.strptime(str(v or "").strip(), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
        return dt.isoformat(timespec="seconds").replace("+00:00", "Z")
    except ValueError:
        return ""


def _values(key: Any) -> dict[str, Any]:
    return {str(v.name): v.value for v in key.iter_values()}


def _subkeys(hive: Any, path: str) -> Any:
    try:
        return list(hive.get_key(path).iter_subkeys())
    except Exception:  # noqa: BLE001 - regipy raises its own types when a key is absent
        return []


def parse(hive_path: str, shown_path: str) -> Amcache:
    """Every file record with a SHA-1 and every program of one hive file (a private copy)."""
    from regipy.registry import RegistryHive

    out = Amcache()
    hive = RegistryHive(hive_path)
    n = 0
    for sub in _subkeys(hive, "\\Root\\InventoryApplicationFile"):
        n += 1
        if n > MAX_ENTRIES:
            out.problem = f"more than {MAX_ENTRIES} entries: the rest not read"
            return out
        v = _values(sub)
        sha1 = _sha1(v.get("FileId"))
        if not sha1:
            out.bad += 1
            continue
        out.files.append(AmFile(sha1, str(v.get("LowerCaseLongPath") or v.get("Name") or ""),
                                f"Root\\InventoryApplicationFile\\{sub.name}", _filetime(sub.header.last_modified)))
    for vol in _subkeys(hive, "\\Root\\File"):
        for sub in vol.iter_subkeys():
            n += 1
            if n > MAX_ENTRIES:
                out.problem = f"more than {MAX_ENTRIES} entries: the rest not read"
                return out
            v = _values(sub)
            sha1 = _sha1(v.get("101"))
            if not sha1:
                out.bad += 1
                continue
            out.files.append(AmFile(sha1, str(v.get("15") or ""), f"Root\\File\\{vol.name}\\{sub.name}",
                                    _filetime(v.get("17"))))
    seen: set[tuple[str, str]] = set()
    for where, name_v, version_v in (("InventoryApplication", "Name", "Version"), ("Programs", "0", "1")):
        for sub in _subkeys(hive, f"\\Root\\{where}"):
            v = _values(sub)
            name, version = str(v.get(name_v) or "").strip(), str(v.get(version_v) or "").strip()
            if not name or not version:
                out.bad += 1
                continue
            if (name.lower(), version) in seen:
                continue
            seen.add((name.lower(), version))
            date = _install_date(v.get("InstallDate")) if where == "InventoryApplication" else ""
            out.programs.append(Installed(name, version, "windows", f"{shown_path}:Root\\{where}\\{sub.name}", "amcache",
                                          date, "AmCache InstallDate" if date else ""))
    return out


def read_amcache(src: Any, shown_path: str) -> Amcache:
    """An AmCache hive from the evidence (a walk Entry or a path), read on a private copy."""
    from tracehound.sweep.reading_glue import copy_evidence

    try:
        import regipy.registry  # noqa: F401
    except ImportError:
        return Amcache(problem="AmCache needs the 'regipy' package")
    fd, tmp = tempfile.mkstemp(prefix="th-amcache-", suffix=".hve")
    os.close(fd)
    try:
        try:
            copy_evidence(src, tmp, MAX_HIVE)
        except OSError as exc:
            return Amcache(problem=f"AmCache not read: {exc.strerror or exc}")
        try:
            return parse(tmp, shown_path)
        except Exception as exc:  # noqa: BLE001 - malformed hives
            return Amcache(problem=f"unreadable AmCache hive: {type(exc).__name__}")
    finally:
        os.unlink(tmp)
