"""Installed software and versions from where apps install, compared with the pack's
affected versions per platform (18.12.416.0 == 18.12.416; fixed 18.12.422 is not affected).

Sources: macOS .app bundles (Contents/Info.plist), Electron apps (resources/app.asar header
or resources/app/package.json), Windows PE version resources (for executables named like an
affected product), Windows uninstall keys from registry hives (offline: NTUSER.DAT and
SOFTWARE via regipy).
"""

from __future__ import annotations

import json
import plistlib
import struct
from dataclasses import dataclass
from typing import Any

from tracehound.intel.model import (
    Indicator,
    IType,
    Pack,
    normalize_platform,
    normalize_product,
    normalize_version,
)

MAX_META = 4 * 1024 * 1024


@dataclass
class Installed:
    product: str
    version: str
    platform: str
    path: str
    source: str  # info.plist, asar, package.json, pe-version, registry
    installed: str = ""  # ISO time of the installation (or update), when known
    installed_source: str = ""  # where that time comes from: file mtime, registry InstallDate, receipt InstallDate...


@dataclass
class ProductIndex:
    by_name: dict[str, list[Indicator]]

    @classmethod
    def build(cls, pack: Pack) -> ProductIndex:
        idx: dict[str, list[Indicator]] = {}
        for ind in pack.of_type(IType.SOFTWARE):
            idx.setdefault(normalize_product(ind.value), []).append(ind)
        return cls(idx)

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def names(self) -> list[str]:
        return list(self.by_name)

    def lookup(self, product: str) -> list[Indicator]:
        key = normalize_product(product)
        if not key:
            return []
        if key in self.by_name:
            return self.by_name[key]
        # '3CX Desktop App' vs '3cxdesktopapp-installer' style names: containment of the folded forms
        return [i for k, inds in self.by_name.items() if len(k) >= 5 and (k in key) for i in inds]

    def assess(self, inst: Installed) -> tuple[str, Indicator | None]:
        """('affected' | 'fixed' | 'unaffected' | 'unknown-platform', indicator)."""
        inds = self.lookup(inst.product)
        if not inds:
            return "unrelated", None
        v = normalize_version(inst.version)
        platform = normalize_platform(inst.platform) if inst.platform else ""
        candidates = [i for i in inds if not platform or i.ctx("platform") in ([platform], ["any"], [])]
        for ind in candidates:
            if v in {normalize_version(x) for x in ind.ctx("versions")}:
                return "affected", ind
        if not platform and inds:
            return "unknown-platform", inds[0]
        return "unaffected", candidates[0] if candidates else inds[0]


def from_info_plist(data: bytes, path: str) -> Installed | None:
    try:
        p = plistlib.loads(data)
    except Exception:  # noqa: BLE001 - plistlib raises many types on malformed input
        return None
    if not isinstance(p, dict):
        return None
    name = str(p.get("CFBundleDisplayName") or p.get("CFBundleName") or p.get("CFBundleExecutable") or "")
    version = str(p.get("CFBundleShortVersionString") or p.get("CFBundleVersion") or "")
    if not name or not version:
        return None
    return Installed(name, version, "macos", path, "info.plist")


def from_package_json(data: bytes, path: str, platform: str) -> Installed | None:
    try:
        p = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(p, dict):
        return None
    name = str(p.get("productName") or p.get("name") or "")
    version = str(p.get("version") or "")
    return Installed(name, version, platform, path, "package.json") if name and version else None


def from_asar(read_at, size: int, path: str, platform: str) -> Installed | None:
    """Electron asar: pickle header (4 x uint32), JSON directory, then file contents."""
    try:
        head = read_at(0, 16)
        if len(head) < 16:
            return None
        _a, _b, _c, json_len = struct.unpack("<4I", head)
        if json_len <= 0 or json_len > MAX_META or 16 + json_len > size:
            return None
        directory = json.loads(read_at(16, json_len).decode("utf-8", errors="replace"))
        files = directory.get("files") if isinstance(directory, dict) else None  # hostile headers: check each level
        entry = files.get("package.json") if isinstance(files, dict) else None
        if not isinstance(entry, dict) or "offset" not in entry:
            return None
        base = 8 + struct.unpack("<I", head[4:8])[0]
        length = int(entry.get("size", 0))
        if length <= 0 or length > MAX_META:
            return None
        content = read_at(base + int(entry["offset"]), length)
    except (ValueError, KeyError, TypeError, struct.error, OSError, RecursionError):
        return None
    return from_package_json(content, path, platform)


def from_pe_version(data: bytes, path: str) -> Installed | None:
    try:
        import lief

        lief.logging.disable()
        b = lief.PE.parse(data)
        if b is None or not b.has_resources:
            return None
        manager: Any = b.resources_manager
        ver = manager.version
        if not ver:
            return None
        ver = ver[0] if isinstance(ver, list) else ver
        strings: dict[str, str] = {}
        sfi = ver.string_file_info
        for table in (sfi.children if sfi else []):
            for entry in table.entries:
                strings[str(entry.key)] = str(entry.value)
        name = strings.get("ProductName") or strings.get("FileDescription") or ""
        version = strings.get("ProductVersion") or strings.get("FileVersion") or ""
        if not version and ver.file_info:
            fi = ver.file_info
            ms, ls = fi.file_version_ms, fi.file_version_ls
            version = f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"
    except Exception:  # noqa: BLE001 - hostile PE resources
        return None
    return Installed(name, version, "windows", path, "pe-version") if name and version else None


UNINSTALL_KEYS = (
    "\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
)


MAX_HIVE = 1024 * 1024 * 1024  # SOFTWARE hives of large servers reach a few hundred MB


def from_registry_hive(src: Any) -> tuple[list[Installed], str]:
    """Uninstall entries of an offline hive (NTUSER.DAT or SOFTWARE); (entries, error).

    src is a walk Entry (or a path). regipy opens by path, so the hive is first copied through the
    safe reader to a private temporary file: a hive swapped for a FIFO never blocks, one swapped for
    a symlink or another file is refused, and the evidence keeps its access time."""
    from tracehound.sweep.installs import registry_install_date
    from tracehound.sweep.regkeys import hive_copy

    path = str(getattr(src, "path", src))
    out: list[Installed] = []
    with hive_copy(src) as (hive, err):
        if hive is None:
            return [], err
        try:
            for key_path in UNINSTALL_KEYS:
                try:
                    key = hive.get_key(key_path)
                except Exception:  # noqa: BLE001 - regipy raises its own types when absent
                    continue
                for sub in key.iter_subkeys():
                    vals = {v.name: v.value for v in sub.iter_values()}
                    name, version = vals.get("DisplayName"), vals.get("DisplayVersion")
                    if name and version:
                        date = registry_install_date(vals.get("InstallDate"))
                        out.append(Installed(str(name), str(version), "windows", f"{path}:{key_path}\\{sub.name}",
                                             "registry", date, "registry InstallDate" if date else ""))
        except Exception as exc:  # noqa: BLE001 - malformed hives
            return out, f"unreadable registry hive: {type(exc).__name__}"
    return out, ""


def live_windows_registry() -> list[Installed]:
    """Live Windows: HKLM and every loaded user hive's uninstall keys (winreg, read-only)."""
    import importlib

    try:
        winreg: Any = importlib.import_module("winreg")  # Windows only
    except ImportError:
        return []
    out: list[Installed] = []
    roots = [(winreg.HKEY_LOCAL_MACHINE, "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"),
             (winreg.HKEY_LOCAL_MACHINE, "SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall")]
    try:
        with winreg.OpenKey(winreg.HKEY_USERS, "") as users:
            i = 0
            while True:
                try:
                    sid = winreg.EnumKey(users, i)
                except OSError:
                    break
                roots.append((winreg.HKEY_USERS, f"{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"))
                i += 1
    except OSError:
        pass
    for hive, sub in roots:
        try:
            with winreg.OpenKey(hive, sub, 0, winreg.KEY_READ) as k:
                j = 0
                while True:
                    try:
                        name = winreg.EnumKey(k, j)
                    except OSError:
                        break
                    j += 1
                    try:
                        with winreg.OpenKey(k, name) as app:
                            dn = winreg.QueryValueEx(app, "DisplayName")[0]
                            dv = winreg.QueryValueEx(app, "DisplayVersion")[0]
                            out.append(Installed(str(dn), str(dv), "windows", f"registry:{sub}\\{name}", "registry"))
                    except OSError:
                        continue
        except OSError:
            continue
    return out
