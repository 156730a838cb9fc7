"""Reports from a case: HTML (one self-contained file, no network requests), Markdown, CSV, JSON.

All evidence is attacker-controlled text: HTML is autoescaped by Jinja2, CSV cells are
neutralised against formula injection, indicators are shown defanged in human formats.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

from tracehound.defang import defang, strip_control
from tracehound.findings.ecs import matched_indicators
from tracehound.intel.formats.csvpack import neutralise
from tracehound.outputs.case_store import Case
from tracehound.outputs.timeline import timeline_svg

FORMATS = ("html", "md", "csv", "json")
STATUSES = ("compromised", "suspicious", "exposed", "clean", "not checked")
EVIDENCE_ROWS = 10  # per host card in HTML; the JSON report has every row
OPEN_CARDS = 20  # host cards shown open when the case has at most this many hosts

ACTIONS: dict[str, str] = {
    "isolate": "Isolate the host from the network and preserve evidence (memory, disk) before cleaning",
    "uninstall-affected-software": "Uninstall the affected desktop application",
    "use-web-app": "Use the web application instead of the desktop application until a fixed version is deployed",
    "reset-browser-credentials": "Reset every credential stored in this host's browsers (the infostealer targets browser data and history)",
    "block-signing-certificate": "Block (blacklist) the compromised code-signing certificate",
    "block-c2-domains": "Block the C2 domains, IPs and URLs at proxy, DNS and firewall",
    "hunt-proxy-logs": "Hunt proxy/DNS logs for this host's C2 contacts, looking back further than the C2 delay",
    "sweep-host": "Sweep this host (files, signatures, versions) — it has not been checked",
    "c2-delay": "Keep hunting: the implant waits before its first C2 call",
}
PLAN: dict[str, list[str]] = {
    "compromised": ["isolate", "uninstall-affected-software", "use-web-app", "reset-browser-credentials",
                    "block-signing-certificate", "block-c2-domains"],
    "suspicious": ["hunt-proxy-logs", "uninstall-affected-software", "use-web-app", "block-c2-domains"],
    "exposed": ["uninstall-affected-software", "use-web-app", "block-signing-certificate", "hunt-proxy-logs", "c2-delay"],
    "clean": [],
    "not checked": ["sweep-host", "hunt-proxy-logs"],
}


def _defang_text(value: Any) -> str:
    return strip_control(str(value))


def evidence_row(doc: dict[str, Any]) -> dict[str, Any]:
    th = doc.get("tracehound") or {}
    matched = matched_indicators(doc)
    indicators = [defang(m["value"]) if m["ecs_type"] in ("domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr")
                  else m["value"] for m in matched]
    where = ""
    if (doc.get("log") or {}).get("file"):
        where = f"{doc['log']['file'].get('path', '')}:{th.get('line', '')}"
    elif (doc.get("file") or {}).get("path"):
        where = str(doc["file"]["path"])
    elif (doc.get("package") or {}).get("path"):
        where = str(doc["package"]["path"])
    message = doc.get("message") or ""
    if not message and th.get("source") == "hunt":
        dest = (doc.get("url") or {}).get("full") or (doc.get("destination") or {}).get("domain") or \
            (doc.get("dns") or {}).get("question", {}).get("name") or (doc.get("destination") or {}).get("ip") or ""
        message = f"contact with {defang(str(dest))}" if dest else "indicator in a log record"
    return {
        "time": doc.get("@timestamp") or "", "source": th.get("source", ""), "check": th.get("check") or th.get("format") or "",
        "verdict": th.get("verdict", ""), "indicators": indicators, "message": _defang_text(message), "where": _defang_text(where),
        "original": defang_record(_defang_text((doc.get("event") or {}).get("original", ""))[:2000],
                                  [m["value"] for m in matched] + [m["atomic"] for m in matched]),
    }


_SCHEME = re.compile(r"\b(h)(tt)(ps?)(://)", re.I)


def defang_record(text: str, values: list[str]) -> str:
    """A log record quoted in a report, with its indicators and URL schemes defanged."""
    text = _SCHEME.sub(lambda m: f"{m.group(1)}xx{m.group(3)}{m.group(4)}", text)
    for v in sorted({v for v in values if "." in v and len(v) > 3}, key=len, reverse=True):
        text = re.sub(re.escape(v), lambda m: defang(m.group(0)), text, flags=re.I)
    return text


def _pack_remediation(case: Case) -> tuple[dict[str, list[str]], int | None, list[dict[str, Any]]]:
    """Advisory sentences per action, C2 delay and summary of the packs recorded in the case."""
    quotes: dict[str, list[str]] = {}
    delay: int | None = None
    packs = case.packs()
    for p in packs:
        if p["c2_delay_days"] is not None:
            delay = max(delay or 0, int(p["c2_delay_days"]))
        for r in p["remediation"]:
            quotes.setdefault(str(r.get("action", "")), []).append(strip_control(str(r.get("text", ""))))
    return quotes, delay, packs


def build_model(case: Case) -> dict[str, Any]:
    hosts = case.hosts()
    quotes, delay, packs = _pack_remediation(case)
    counts = {s: 0 for s in STATUSES}
    plans = {verdict: _plan(verdict, quotes, delay) for verdict in STATUSES}
    host_rows: list[dict[str, Any]] = []
    for h in hosts:
        counts[h.verdict] = counts.get(h.verdict, 0) + 1
        plan = plans.get(h.verdict) or _plan(h.verdict, quotes, delay)
        host_rows.append({
            "host": _defang_text(h.host), "verdict": h.verdict, "os": h.os, "swept": h.swept,
            "sweep_complete": h.sweep_complete, "identities": sorted(_defang_text(i) for i in h.identities),
            "first_contact": h.first_contact, "last_contact": h.last_contact, "first_seen": h.first_seen,
            "delay_days": h.delay_days(), "installed_at": h.installed_at,
            "install_time_note": h.install_time_note,
            "install_delay_days": h.delay_days(h.installed_at) if h.installed_at else None,
            "evidence": [evidence_row(d) for d in h.evidence], "installed": h.installed, "remediation": plan,
            "contacts": [c["@timestamp"] for c in h.contacts()], "anchor": f"host-{len(host_rows) + 1}",
            "card": bool(h.evidence or h.installed),
        })
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "case": str(case.dir), "counts": counts, "hosts": host_rows, "coverage": case.coverage(),
        "ingests": case.ingests(), "packs": packs, "c2_delay_days": delay, "timeline": timeline_svg(hosts),
        "checklists": [{"verdict": v, "hosts": counts[v], "items": plans[v]} for v in STATUSES if counts[v] and plans[v]],
        "evidence_rows": EVIDENCE_ROWS, "open_cards": len(host_rows) <= OPEN_CARDS,
        "card_groups": [{"verdict": v, "hosts": [h for h in host_rows if h["verdict"] == v and h["card"]]}
                        for v in STATUSES if any(h["verdict"] == v and h["card"] for h in host_rows)],
    }


def _plan(verdict: str, quotes: dict[str, list[str]], delay: int | None) -> list[dict[str, Any]]:
    """The checklist for one verdict, each action with the advisory's own sentence when it has one."""
    plan = []
    for action in PLAN.get(verdict, []):
        text = ACTIONS[action]
        if action == "c2-delay" and delay:
            text = f"Keep hunting: the implant waits {delay} days before its first C2 call"
        plan.append({"action": action, "text": text, "advisory": quotes.get(action, [])[:1]})
    return plan


def render(case: Case, fmt: str) -> str:
    model = build_model(case)
    if fmt == "json":
        model.pop("timeline")
        return json.dumps(model, indent=1, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["host", "verdict", "identities", "swept", "first_contact", "last_contact", "evidence", "summary"])
        for h in model["hosts"]:
            summary = "; ".join(f"{e['verdict']}: {e['message']}" for e in h["evidence"][:5])
            w.writerow([neutralise(str(c)) for c in (h["host"], h["verdict"], " ".join(h["identities"]), h["swept"],
                                                     h["first_contact"] or "", h["last_contact"] or "",
                                                     len(h["evidence"]), summary)])
        return buf.getvalue()
    if fmt == "md":
        return _markdown(model)
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("tracehound", "templates"), autoescape=select_autoescape(default=True))
    return env.get_template("report.html.j2").render(**model)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _markdown(m: dict[str, Any]) -> str:
    lines = ["# tracehound report", "", f"Generated {m['generated']} from case `{_md(m['case'])}`.", "",
             "| status | hosts |", "|---|---|"]
    lines += [f"| {s} | {n} |" for s, n in m["counts"].items()]
    lines += ["", "## Hosts", "", "| host | verdict | identities | swept | first seen in logs | first C2 contact | delay | evidence |",
              "|---|---|---|---|---|---|---|---|"]
    for h in m["hosts"]:
        delay = f"{h['delay_days']} d" if h["delay_days"] is not None else "-"
        lines.append(f"| {_md(h['host'])} | {h['verdict']} | {_md(', '.join(h['identities']))} | "
                     f"{'yes' if h['swept'] else 'no'} | {h['first_seen'] or '-'} | {h['first_contact'] or '-'} | {delay} | "
                     f"{len(h['evidence'])} |")
    for c in m["checklists"]:
        lines += ["", f"## Checklist: {c['verdict']} ({c['hosts']} hosts)", ""]
        for r in c["items"]:
            lines.append(f"- [ ] {_md(r['text'])}")
            lines += [f"  - Advisory: “{_md(q)}”" for q in r["advisory"]]
    for h in m["hosts"]:
        if not h["evidence"]:
            continue
        lines += ["", f"### {_md(h['host'])} — {h['verdict']}", ""]
        for e in h["evidence"][:m["evidence_rows"]]:
            lines.append(f"- {e['time'] or ''} [{e['source']}/{e['check']}] **{e['verdict']}** {_md(e['message'])} "
                         f"({_md(', '.join(e['indicators']))}) `{_md(e['where'])}`")
        if len(h["evidence"]) > m["evidence_rows"]:
            lines.append(f"- … {len(h['evidence']) - m['evidence_rows']} more (see the JSON report)")
    if m["coverage"]:
        lines += ["", "## Log coverage", "", "| format | files | records | from | to |", "|---|---|---|---|---|"]
        lines += [f"| {c['format']} | {c['files']} | {c['records']} | {c['first'] or '-'} | {c['last'] or '-'} |"
                  for c in m["coverage"]]
        for c in m["coverage"]:
            lines += [f"- ⚠ {_md(w)}" for w in c["warnings"]]
    return "\n".join(lines) + "\n"
