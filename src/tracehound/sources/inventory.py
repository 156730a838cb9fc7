"""Asset inventories for scoping: CSV (any columns, with a mapping), osquery JSON
(`programs` on Windows, `apps` on macOS; osqueryi --json arrays or osqueryd result logs),
and Intune / SCCM software exports (their column names are recognised).

Each row becomes (host, ip, platform, product, version); hosts are also emitted as
inventory-host records so the case knows every host, checked or not, and its addresses.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound import safejson
from tracehound.errors import InputError

MAX_INVENTORY = 2 * 1024 * 1024 * 1024

# canonical column -> accepted header names (lowercase)
COLUMNS: dict[str, tuple[str, ...]] = {
    "host": ("host", "hostname", "host name", "computer", "computer name", "computername", "device", "device name",
             "devicename", "machine", "machine name", "netbios_name0", "name0", "hostidentifier", "asset", "fqdn"),
    "ip": ("ip", "ip address", "ipaddress", "ip addresses", "ip_address", "address", "ipaddress0", "ip_addresses0"),
    "platform": ("platform", "os", "operating system", "os type", "ostype", "caption0", "operatingsystem"),
    "product": ("product", "software", "application", "application name", "app", "app name", "displayname0",
                "display name", "displayname", "program", "name", "bundle_name", "productname0"),
    "version": ("version", "application version", "app version", "displayversion", "displayversion0", "version0",
                "display version", "bundle_short_version", "productversion0", "bundle_version"),
    "aliases": ("aliases", "other names", "alias"),
}


@dataclass
class InventoryRow:
    host: str
    ip: list[str] = field(default_factory=list)
    platform: str = ""
    product: str = ""
    version: str = ""
    aliases: list[str] = field(default_factory=list)
    line: int = 0


def _platform(text: str) -> str:
    t = text.lower()
    if "win" in t:
        return "windows"
    if "mac" in t or "darwin" in t or "os x" in t:
        return "macos"
    if "linux" in t or "ubuntu" in t or "debian" in t or "red hat" in t:
        return "linux"
    return t.strip()


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace(";", ",").replace(" ", ",").split(",") if v.strip()]


def read_inventory(path: str, mapping: dict[str, str], host: str = "") -> Iterator[InventoryRow]:
    """Rows of one inventory. `host` names the machine of a file that has no host column
    (plain `osqueryi --json` output, a one-host CSV); a row's own host name wins."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_INVENTORY:
            raise InputError("inventory too large", path=path)
        text = p.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    if not text.strip():
        raise InputError("empty inventory", path=path)
    if text.lstrip().startswith(("[", "{")):
        yield from _osquery(text, path, host)
    else:
        yield from _csv(text, path, mapping, host)


def _csv(text: str, path: str, mapping: dict[str, str], default_host: str = "") -> Iterator[InventoryRow]:
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise InputError("no header row", path=path, line=1) from exc
    index: dict[str, int] = {}
    for canon, names in COLUMNS.items():
        wanted = mapping.get(canon)
        for i, h in enumerate(header):
            if (wanted and h == wanted.lower()) or (not wanted and h in names):
                index[canon] = i
                break
    missing = [c for c in ("host", "product", "version") if c not in index and not (c == "host" and default_host)]
    if missing:
        hint = f"use --map {missing[0]}=COLUMN" + (" or --host NAME for a one-host file" if missing[0] == "host" else "")
        raise InputError(f"no column for {', '.join(missing)} (header: {', '.join(header)}; {hint})", path=path, line=1)
    try:
        for row in reader:
            if not any(c.strip() for c in row):
                continue

            def get(c: str, row: list[str] = row) -> str:
                i = index.get(c)
                return row[i].strip() if i is not None and i < len(row) else ""

            if not (get("host") or default_host):
                raise InputError("row without a host name", path=path, line=reader.line_num)
            yield InventoryRow(get("host") or default_host, _split(get("ip")), _platform(get("platform")), get("product"),
                               get("version"), _split(get("aliases")), reader.line_num)
    except csv.Error as exc:
        raise InputError(f"bad CSV: {exc}", path=path, line=reader.line_num) from exc


def _osquery(text: str, path: str, default_host: str = "") -> Iterator[InventoryRow]:
    rows: list[tuple[dict[str, Any], str, int]] = []
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = safejson.loads(text)
        except ValueError as exc:
            raise InputError(f"invalid JSON: {exc}", path=path) from exc
        for n, r in enumerate(data if isinstance(data, list) else [], 1):
            if isinstance(r, dict):
                rows.append((r.get("columns", r), str(r.get("hostIdentifier") or r.get("host") or r.get("hostname") or ""), n))
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = safejson.loads(line)
            except ValueError as exc:
                raise InputError(f"invalid JSON: {exc}", path=path, line=n) from exc
            if isinstance(r, dict):
                cols = r.get("columns") or r
                for item in r.get("snapshot") or [cols]:
                    rows.append((item, str(r.get("hostIdentifier") or r.get("hostname") or ""), n))
    for cols, host, n in rows:
        if not isinstance(cols, dict):
            continue
        name = str(cols.get("name") or cols.get("bundle_name") or cols.get("display_name") or "")
        version = str(cols.get("version") or cols.get("bundle_short_version") or cols.get("bundle_version") or "")
        is_app = "bundle_identifier" in cols or "bundle_short_version" in cols or str(cols.get("path", "")).endswith(".app")
        platform = "macos" if is_app else "windows" if "install_location" in cols or "publisher" in cols else ""
        host = host or str(cols.get("hostname") or cols.get("host") or "") or default_host
        if not host:
            raise InputError("osquery row without hostIdentifier/hostname (plain osqueryi --json output: "
                             "say whose it is with --host NAME, or export with a host column)", path=path, line=n)
        yield InventoryRow(host, _split(str(cols.get("ip") or cols.get("address") or "")), platform, name, version, [], n)
