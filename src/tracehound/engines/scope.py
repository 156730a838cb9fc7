"""Scope: which hosts of an inventory run an affected version (exact, per platform)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tracehound.findings.ecs import attach_threat, put
from tracehound.intel.model import Pack
from tracehound.sources.inventory import InventoryRow, read_inventory
from tracehound.sweep.docs import now_iso
from tracehound.sweep.software import Installed, ProductIndex


@dataclass
class ScopeResult:
    hosts: dict[str, InventoryRow] = field(default_factory=dict)
    affected: set[str] = field(default_factory=set)
    related: set[str] = field(default_factory=set)
    rows: int = 0


def scope_doc(row: InventoryRow, path: str, status: str, verdict: str, pack: Pack, ind: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"@timestamp": now_iso(),
                           "event": {"kind": "alert" if verdict == "exposed" else "event", "category": ["package"],
                                     "type": ["indicator"], "module": "tracehound", "dataset": "tracehound.scope"}}
    put(doc, "host.name", row.host)
    put(doc, "host.ip", row.ip)
    put(doc, "host.os.type", row.platform)
    put(doc, "package.name", row.product)
    put(doc, "package.version", row.version)
    doc["message"] = f"{row.product} {row.version} on {row.host}: {status}"
    if ind is not None and verdict == "exposed":
        attach_threat(doc, [(ind, "package.version", row.version)], pack.name)
    doc["log"] = {"file": {"path": path}}
    doc.setdefault("tracehound", {}).update({"source": "scope", "check": "inventory", "verdict": verdict, "host": row.host,
                                             "line": row.line, "status": status})
    return doc


def host_doc(row: InventoryRow, path: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"@timestamp": now_iso(), "event": {"kind": "state", "category": ["host"], "type": ["info"],
                                                             "module": "tracehound", "dataset": "tracehound.scope"}}
    put(doc, "host.name", row.host)
    put(doc, "host.ip", row.ip)
    put(doc, "host.os.type", row.platform)
    doc["log"] = {"file": {"path": path}}
    doc["tracehound"] = {"source": "scope", "record": "inventory-host", "host": row.host, "aliases": row.aliases}
    return doc


def run_scope(pack: Pack, paths: list[str], mapping: dict[str, str], emit: Callable[[dict[str, Any]], None],
              hosts: dict[str, str] | None = None) -> ScopeResult:
    """`hosts` maps an inventory path to the host name of a file without a host column."""
    products = ProductIndex.build(pack)
    result = ScopeResult()
    for path in paths:
        seen_hosts: dict[str, InventoryRow] = {}
        for row in read_inventory(path, mapping, (hosts or {}).get(path, "")):
            result.rows += 1
            known = seen_hosts.get(row.host.lower())
            if known is None:
                seen_hosts[row.host.lower()] = row
            else:
                known.ip += [i for i in row.ip if i not in known.ip]
                known.aliases += [a for a in row.aliases if a not in known.aliases]
                known.platform = known.platform or row.platform
            if not row.product or not products.lookup(row.product):
                continue
            status, ind = products.assess(Installed(row.product, row.version, row.platform, path, "inventory"))
            result.related.add(row.host)
            if status == "affected":
                result.affected.add(row.host)
            emit(scope_doc(row, path, status, "exposed" if status == "affected" else "info", pack, ind))
        for row in seen_hosts.values():
            emit(host_doc(row, path))
            result.hosts[row.host] = row
    return result
