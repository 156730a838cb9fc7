"""A Sigma rule hit as the same ECS finding document as an indicator hit (findings/ecs.py shape):
`event.kind: alert`, `rule.*`, `tags` with the ATT&CK ids, the record as `event.original`,
`host.name` from the record, and `tracehound.*` (source, line, format, verdict, host, kind).

Verdict: a Sigma rule is behaviour, not proof. critical/high/medium hits make the host
`suspicious`; a critical/high hit of a rule written for the 3CX campaign (its title or tags name
3CX) makes it `compromised`, as does any IOC hit on the same host (the host's verdict is the
strongest of its findings). low/informational hits are listed but leave the verdict `clean`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tracehound.findings.ecs import iso_ts, put
from tracehound.matching.sigma.ruleset import CompiledRule

MAX_ORIGINAL = 16 * 1024
_ATTACK = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.I)
CAMPAIGN_WORDS = ("3cx",)


def verdict_for(rule: CompiledRule) -> str:
    if rule.level in ("critical", "high"):
        tags = " ".join(str(t) for t in rule.rule.tags).lower()
        if any(w in rule.title.lower() or w in tags for w in CAMPAIGN_WORDS):
            return "compromised"
        return "suspicious"
    if rule.level == "medium":
        return "suspicious"
    return "clean"


def _truncate(raw: str) -> str:
    return raw if len(raw) <= MAX_ORIGINAL else raw[:MAX_ORIGINAL] + f"…[{len(raw) - MAX_ORIGINAL} more characters]"


def sigma_finding(rule: CompiledRule, raw: str, path: str, line: int, fmt: str, ts: datetime | None,
                  host: str, extra: dict[str, Any]) -> dict[str, Any]:
    r = rule.rule
    doc: dict[str, Any] = {}
    put(doc, "@timestamp", iso_ts(ts))
    doc["event"] = {"kind": "alert", "category": ["threat"], "type": ["indicator"], "module": "tracehound",
                    "dataset": "tracehound.sigma", "original": _truncate(raw)}
    from_pack = rule.path.startswith("pack:")  # intel/rule_check.PACK_ORIGIN: pasted in the pack's advisory
    doc["message"] = f"Sigma rule {rule.title!r} ({rule.level}) matched" + (
        f" (from the pack: {rule.path[5:]})" if from_pack else "")
    doc["rule"] = {"id": rule.id, "name": rule.title, "ruleset": "sigma"}
    put(doc, "rule.description", " ".join(str(r.description or "").split()))
    put(doc, "rule.reference", list(r.references))
    put(doc, "rule.author", r.author)
    put(doc, "rule.license", r.license)
    tags = [str(t) for t in r.tags]
    attack = sorted({m.group(1).upper() for t in tags if (m := _ATTACK.match(t))})
    put(doc, "tags", tags)
    put(doc, "threat.technique.id", attack)
    for k, v in extra.items():
        put(doc, k, v)
    doc["log"] = {"file": {"path": path}}
    th = doc.setdefault("tracehound", {})  # extras above may have put tracehound.winlog.* there
    th.update({"source": "hunt", "line": line, "format": fmt, "verdict": verdict_for(rule),
               "host": host or "unknown", "kind": "sigma",
               "sigma": {"level": rule.level, "logsource": rule.logsource(), "file": rule.path,
                         "status": str(r.status.name).lower() if r.status is not None else None}})
    return doc
