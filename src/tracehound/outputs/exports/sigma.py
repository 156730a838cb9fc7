"""Sigma rules: proxy, dns_query, network_connection, process_creation/image_load (hashes).

Domains match exactly or as a subdomain (`|endswith: .domain`), never as a substring, so a
look-alike parent domain does not fire. Hashes use the Sysmon `Hashes` field form (SHA256=...).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tracehound.intel.model import FILE_HASH_TYPES, IType
from tracehound.matching.normalize import norm_url
from tracehound.outputs.exports.select import ExportOptions, Selection, safe_text

HASH_FIELD = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256"}
NS = uuid.UUID("0b7c7f5e-3a61-4d0e-8f1b-5c2d9e6a4b17")


def _rule(sel: Selection, opt: ExportOptions, kind: str, title: str, logsource: dict[str, str],
          detection: dict[str, Any], level: str, tags: list[str]) -> str:
    doc = {
        "title": f"{safe_text(sel.campaign, 60)} - {title}",
        "id": str(uuid.uuid5(NS, f"{sel.slug}|{kind}")),
        "status": "experimental",
        "description": f"Indicators of {safe_text(sel.campaign)} (tracehound pack {sel.slug}).",
        "author": "tracehound",
        "date": (sel.pack.published or opt.now.date().isoformat()),
        "modified": opt.now.date().isoformat(),
        "tags": tags,
        "logsource": logsource,
        "detection": detection,
        "falsepositives": ["Unknown"],
        "level": level,
    }
    # JSON is valid YAML: no YAML emitter quirks with indicator text.
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _domain_detection(field: str, domains: list[str]) -> dict[str, Any]:
    return {"selection_exact": {field: domains}, "selection_subdomain": {f"{field}|endswith": [f".{d}" for d in domains]},
            "condition": "1 of selection_*"}


def export(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    out: dict[str, str] = {}
    c2 = ["attack.command-and-control", "attack.t1071.001"]
    domains = [i.value for i in sel.of(IType.DOMAIN)]
    ips = [i.value for i in sel.of(IType.IPV4, IType.IPV6)]
    if domains:
        out[f"{sel.slug}_proxy_c2_domains.yml"] = _rule(sel, opt, "proxy-domains", "C2 domains in proxy logs",
                                                         {"category": "proxy"}, _domain_detection("cs-host", domains),
                                                         "high", c2)
        out[f"{sel.slug}_dns_query_c2_domains.yml"] = _rule(sel, opt, "dns", "DNS query for C2 domains",
                                                             {"category": "dns_query", "product": "windows"},
                                                             _domain_detection("QueryName", domains), "high", c2)
        out[f"{sel.slug}_network_connection_c2_domains.yml"] = _rule(
            sel, opt, "netconn-domains", "network connection to C2 domains",
            {"category": "network_connection", "product": "windows"},
            _domain_detection("DestinationHostname", domains), "high", c2)
    if ips:
        out[f"{sel.slug}_network_connection_c2_ips.yml"] = _rule(
            sel, opt, "netconn-ips", "network connection to C2 addresses",
            {"category": "network_connection", "product": "windows"},
            {"selection": {"DestinationIp": ips}, "condition": "selection"}, "medium", c2)
    urls = sel.of(IType.URL)
    if urls:
        detection: dict[str, Any] = {}
        for n, ind in enumerate(urls, 1):
            host, path = norm_url(ind.value)
            sel_ = {"cs-host": host.split(":")[0]}
            if path not in ("", "/"):
                sel_["c-uri|contains"] = path.rstrip("/")
            detection[f"selection_url{n}"] = sel_
        detection["condition"] = "1 of selection_url*"
        out[f"{sel.slug}_proxy_c2_urls.yml"] = _rule(sel, opt, "proxy-urls", "requests to C2 URLs",
                                                      {"category": "proxy"}, detection, "high", c2)
    hashes = sel.of(*FILE_HASH_TYPES)
    if hashes:
        values = [f"{HASH_FIELD[i.type.value]}={i.value.upper()}" for i in hashes]
        det = {"selection": {"Hashes|contains": values}, "condition": "selection"}
        exe = ["attack.execution", "attack.t1195.002"]
        out[f"{sel.slug}_process_creation_hashes.yml"] = _rule(sel, opt, "proc-hashes", "process from a known payload",
                                                                {"category": "process_creation", "product": "windows"},
                                                                det, "critical", exe)
        out[f"{sel.slug}_image_load_hashes.yml"] = _rule(sel, opt, "load-hashes", "known payload loaded as a module",
                                                          {"category": "image_load", "product": "windows"}, det,
                                                          "critical", exe)
    return out
