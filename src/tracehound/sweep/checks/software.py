"""Check: installed versions from app metadata (Info.plist, package.json, app.asar, PE version
resources, macOS installer receipts), judged against the pack's affected versions after the walk."""

from __future__ import annotations

import os

from tracehound.sources.hosts.reading import open_evidence
from tracehound.sources.hosts.walk import Entry
from tracehound.sweep import installs, software
from tracehound.sweep.checks.base import (
    Check,
    Context,
    FileResult,
    FileView,
    is_binary,
    iso_mtime,
    platform_of_path,
    shown,
)
from tracehound.sweep.checks.signing import PE_MAX

METADATA_NAMES = ("info.plist", "package.json", "app.asar")


class SoftwareCheck(Check):
    name = "software"
    order = 40

    def wants(self, e: Entry, ctx: Context) -> bool:
        if not ctx.products:
            return False
        name = os.path.basename(e.rel).lower()
        return name in METADATA_NAMES or name.endswith(".exe") or installs.is_receipt(e.rel)

    def keep(self, e: Entry, head: bytes, ctx: Context) -> int:
        name = os.path.basename(e.rel).lower()
        meta = software.MAX_META if name in METADATA_NAMES or installs.is_receipt(e.rel) else 0
        return max(meta, PE_MAX if ctx.products and is_binary(head) else 0)

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        products, e, data, lname = ctx.products, f.e, f.data, f.lname
        if not products:
            return
        if data is not None and f.head[:2] == b"MZ" \
                and any(k in software.normalize_product(f.name) for k in products.names() if len(k) >= 5):
            inst = software.from_pe_version(data, e.path)
            if inst:
                res.installed.append({**inst.__dict__, "installed": iso_mtime(e), "installed_source": "file mtime"})
        if data is not None:
            inst = None
            if lname == "info.plist" and "/contents/info.plist" in ("/" + e.rel.lower()):
                inst = software.from_info_plist(data, shown(e.path))
            elif lname == "package.json" and "/resources/app/package.json" in ("/" + e.rel.lower()):
                inst = software.from_package_json(data, shown(e.path), platform_of_path(e.rel, ctx.os_type))
            if inst:
                res.installed.append({**inst.__dict__, "installed": iso_mtime(e), "installed_source": "file mtime"})
        if lname == "app.asar":
            res.installed.extend({**i.__dict__, "installed": iso_mtime(e), "installed_source": "file mtime"}
                                 for i in [_asar_version(e, data, ctx.os_type)] if i)
        if data is not None and installs.is_receipt(e.rel):
            res.installed.extend(i.__dict__ for i in installs.from_receipt(data, shown(e.path)))


def _asar_version(e: Entry, data: bytes | None, os_type: str) -> software.Installed | None:
    """Electron archives are large (about 100 MB): read only the header and package.json."""
    plat = platform_of_path(e.rel, os_type)
    if data is not None:
        return software.from_asar(lambda off, n: data[off : off + n], len(data), shown(e.path), plat)
    fd = open_evidence(e)
    try:
        return software.from_asar(lambda off, n: os.pread(fd, n, off), e.size, shown(e.path), plat)
    finally:
        os.close(fd)


CHECK = SoftwareCheck()
