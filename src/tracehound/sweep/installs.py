"""Installed versions as findings, and when they were installed, from what the evidence records.

An install time comes, best first, from a date the system recorded at installation (Windows
uninstall key `InstallDate`, a macOS installer receipt `InstallDate`, `InstallHistory.plist`),
then from the mtime of the app's metadata file. On an offline copy made without preserving
times, every mtime is the copy's: when most of the tree (90% of its files) was written within one
day and the metadata file's mtime falls in that window, the tree is a copy and the mtime says
nothing about the installation, so the finding says "install time unknown (mtimes are the copy's)"
instead of a wrong date. (The spread of one install's own files does not tell a copy apart: an
installer also writes all its files within seconds. The spread of the whole tree does: a system
in use holds files written over months or years.)
"""

from __future__ import annotations

import plistlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tracehound.intel.model import normalize_product, normalize_version
from tracehound.sweep.software import Installed, ProductIndex

COPY_SHARE = 0.9
COPY_SPAN = 24 * 3600
BUCKET = 10  # seconds: the histogram stays small for millions of files
UNKNOWN_COPY = "install time unknown (mtimes are the copy's)"
RECORDED = ("registry InstallDate", "receipt InstallDate", "InstallHistory.plist")
MakeDoc = Callable[..., dict[str, Any]]


def iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def registry_install_date(value: object) -> str:
    """Uninstall key InstallDate: REG_SZ 'YYYYMMDD' (a day, given as midnight UTC) or a DWORD Unix time; '' if not."""
    try:
        if isinstance(value, int) and 0 < value < 1 << 32:
            return iso(datetime.fromtimestamp(value, tz=UTC))
        text = str(value or "").strip()
        if len(text) == 8 and text.isdigit():
            return iso(datetime.strptime(text, "%Y%m%d"))
    except (ValueError, OverflowError, OSError):
        pass
    return ""


def from_receipt(data: bytes, path: str) -> list[Installed]:
    """macOS installer records: a receipt (/private/var/db/receipts/*.plist) or /Library/Receipts/InstallHistory.plist."""
    try:
        p = plistlib.loads(data)
    except Exception:  # noqa: BLE001 - plistlib raises many types on malformed input
        return []
    out = []
    if isinstance(p, dict) and isinstance(p.get("InstallDate"), datetime):
        ident, version = p.get("PackageIdentifier"), p.get("PackageVersion")
        if isinstance(ident, str) and isinstance(version, str) and ident and version:
            out.append(Installed(ident, version, "macos", path, "receipt", iso(p["InstallDate"]), "receipt InstallDate"))
    elif isinstance(p, list):
        for item in p[:100_000]:
            if not isinstance(item, dict) or not isinstance(item.get("date"), datetime):
                continue
            name, version = item.get("displayName"), item.get("displayVersion")
            if isinstance(name, str) and isinstance(version, str) and name and version:
                out.append(Installed(name, version, "macos", path, "install-history", iso(item["date"]),
                                     "InstallHistory.plist"))
    return out


def is_receipt(rel_path: str) -> bool:
    low = "/" + rel_path.lower()
    return (low.endswith(".plist") and "/var/db/receipts/" in low) or low.endswith("/library/receipts/installhistory.plist")


class MtimeProfile:
    """Histogram of the tree's mtimes (10-second buckets), filled by the walk."""

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.n = 0

    def add(self, mtime: float) -> None:
        self.buckets[int(mtime) // BUCKET] += 1
        self.n += 1

    def copy_window(self) -> tuple[float, float] | None:
        """(start, end) when COPY_SHARE of the files were written within COPY_SPAN: the tree is a copy."""
        if self.n < 2:
            return None
        keys = sorted(self.buckets)
        drop = int(self.n * (1 - COPY_SHARE) / 2)
        lo = hi = None
        seen = 0
        for k in keys:
            seen += self.buckets[k]
            if lo is None and seen > drop:
                lo = k
            if hi is None and seen >= self.n - drop:
                hi = k
                break
        if lo is None or hi is None or (hi - lo) * BUCKET > COPY_SPAN:
            return None
        return lo * BUCKET - BUCKET, (hi + 2) * BUCKET


def settle_install_times(installed: list[dict[str, str]], window: tuple[float, float] | None) -> None:
    """In place: mtime-derived times inside the copy window become unknown, or a recorded date of the same version."""
    recorded: dict[tuple[str, tuple[int, ...]], dict[str, str]] = {}
    for inst in installed:
        if inst.get("installed_source") in RECORDED and inst.get("installed"):
            recorded.setdefault((normalize_product(inst["product"]), normalize_version(inst["version"])), inst)
    for inst in installed:
        if inst.get("installed_source") != "file mtime" or not inst.get("installed") or window is None:
            continue
        t = datetime.fromisoformat(inst["installed"].replace("Z", "+00:00")).timestamp()
        if not window[0] <= t <= window[1]:
            continue
        key, version = normalize_product(inst["product"]), normalize_version(inst["version"])
        rec = next((r for (k, v), r in recorded.items() if v == version and len(k) >= 5 and (k in key or key in k)),
                   None)
        if rec is not None:
            inst["installed"], inst["installed_source"] = rec["installed"], rec["installed_source"]
        else:
            inst["installed"], inst["installed_source"] = "", UNKNOWN_COPY


def take_installed(inst: dict[str, str], take: Callable[[dict[str, Any]], None], products: ProductIndex,
                   make_doc: MakeDoc) -> None:
    i = Installed(**inst)
    status, ind = products.assess(i)
    if status == "unrelated":
        return
    when = (f"; installed {i.installed} ({i.installed_source})" if i.installed else
            f"; {i.installed_source}" if i.installed_source == UNKNOWN_COPY else "")
    fields = {"package.name": i.product, "package.version": i.version, "package.path": i.path,
              "package.type": i.source, "package.installed": i.installed or None, "tracehound.platform": i.platform,
              "tracehound.install_time_source": (i.installed_source if i.installed else None),
              "tracehound.install_time": UNKNOWN_COPY if i.installed_source == UNKNOWN_COPY else None}
    if status == "affected" and ind is not None:
        take(make_doc("software", "exposed", f"{i.product} {i.version} ({i.platform}) is an affected version{when}",
                      [(ind, "package.version", i.version)], category="package", fields=fields))
    else:
        take(make_doc("software", "info", f"{i.product} {i.version} ({i.platform or 'unknown platform'}) installed: "
                      f"not an affected version{when}", [], category="package", fields=fields))
