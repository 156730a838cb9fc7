"""ECS documents for sweep findings and the per-host summary record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracehound.findings.ecs import attach_threat, put
from tracehound.intel.model import Indicator


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sweep_doc(host: str, os_type: str, check: str, verdict: str, message: str,
              matches: list[tuple[Indicator, str, str]], pack_name: str, category: str = "file",
              fields: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"@timestamp": now_iso()}
    doc["event"] = {"kind": "alert" if verdict != "info" else "event", "category": ["threat", category],
                    "type": ["indicator"], "module": "tracehound", "dataset": "tracehound.sweep"}
    put(doc, "host.name", host)
    put(doc, "host.os.type", os_type)
    doc["message"] = message
    for k, v in (fields or {}).items():
        put(doc, k, v)
    if matches:
        attach_threat(doc, matches, pack_name)
    doc.setdefault("tracehound", {}).update({"source": "sweep", "check": check, "verdict": verdict, "host": host})
    return doc
