"""Hunt findings as ECS documents: from a parsed observation, or from the raw text of a record."""

from __future__ import annotations

from typing import Any

from tracehound.findings.ecs import attach_threat, iso_ts, network_verdict, put, strongest
from tracehound.matching.matcher import Match
from tracehound.sources.logs.observation import Observation

MAX_ORIGINAL = 16 * 1024


def _truncate(raw: str) -> str:
    return raw if len(raw) <= MAX_ORIGINAL else raw[:MAX_ORIGINAL] + f"…[{len(raw) - MAX_ORIGINAL} more characters]"


def finding_doc(obs: Observation, matches: list[Match], raw: str, path: str, line: int, offset: int | None,
                fmt: str, pack_name: str, parse_error: str = "", raw_match: bool = False) -> dict[str, Any]:
    """raw_match: the indicator was found in the record's raw text, not in a field the reader gave
    (`tracehound.match: raw`); only the record's time and source, when the reader read them, are kept."""
    doc: dict[str, Any] = {}
    put(doc, "@timestamp", iso_ts(obs.ts))
    verdict = strongest([network_verdict(m.indicator, m.weak) for m in matches])
    file_hit = any(m.field.startswith("file.") for m in matches)
    doc["event"] = {"kind": "alert", "category": ["threat", "file" if file_hit else "network"], "type": ["indicator"],
                    "module": "tracehound", "dataset": "tracehound.hunt", "original": _truncate(raw)}
    put(doc, "event.action", obs.action)
    put(doc, "host.name", obs.src_host)
    put(doc, "source.ip", obs.src_ip)
    put(doc, "user.name", obs.user)
    put(doc, "destination.domain", obs.domain if obs.kind != "dns" else "")
    put(doc, "dns.question.name", obs.domain if obs.kind == "dns" else "")
    put(doc, "dns.answers", [{"data": a} for a in obs.answers])
    put(doc, "destination.ip", obs.dst_ip)
    put(doc, "destination.port", obs.dst_port)
    put(doc, "url.full", obs.url)
    put(doc, "http.request.method", obs.method)
    put(doc, "process.executable", obs.process)
    for algo, h in obs.hashes.items():
        put(doc, f"file.hash.{algo}", h)
    for algo, h in obs.cert_hashes.items():
        put(doc, f"tls.server.hash.{algo}", h)
    attach_threat(doc, [(m.indicator, m.field, m.observed) for m in matches], pack_name)
    doc["log"] = {"file": {"path": path}}
    put(doc, "tracehound.log.offset", offset)
    # The host is our end of the record: the source, unless the indicator *is* the source
    # (an inbound connection from a C2 address), in which case it is the destination.
    inbound = all(m.field == "source.ip" for m in matches)
    host = (obs.dst_ip or obs.src_host) if inbound else (obs.src_host or obs.src_ip or obs.user)
    th: dict[str, Any] = {"source": "hunt", "line": line, "format": fmt, "verdict": verdict,
                          "host": host or "unknown", "kind": obs.kind or ("unknown" if raw_match else "")}
    if raw_match:
        th["match"] = "raw"
    if any(m.weak for m in matches):
        th["weak"] = True
    if parse_error:
        th["parse_error"] = parse_error
    if obs.record_id is not None:
        put(doc, "tracehound.winlog.record_id", obs.record_id)
    doc.setdefault("tracehound", {}).update(th)
    return doc


def raw_finding(obs: Observation | None, matches: list[Match], raw: str, path: str, line: int, offset: int | None,
                fmt: str, pack_name: str, parse_error: str = "") -> dict[str, Any]:
    """A finding from the raw text: fields unknown, the time and source kept when the reader read them."""
    kept = Observation(ts=obs.ts, src_ip=obs.src_ip, src_host=obs.src_host, user=obs.user) if obs else Observation()
    return finding_doc(kept, matches, raw, path, line, offset, fmt, pack_name, parse_error, raw_match=True)
