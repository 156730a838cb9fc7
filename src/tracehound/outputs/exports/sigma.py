"""Sigma rules: proxy, dns_query, network_connection, process_creation/image_load (hashes),
file_event and registry_event (host artefacts, sigma_host.py).

Domains match exactly or as a subdomain (`|endswith: .domain`), never as a substring, so a
look-alike parent domain does not fire. Hashes use the Sysmon `Hashes` field form (SHA256=...).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tracehound.intel.model import FILE_HASH_TYPES, Indicator, IType
from tracehound.outputs.exports import pack_rules, sigma_host
from tracehound.outputs.exports.safety import address, dns_name, hex_digest, keep, line_safe, url_parts
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
    # JSON is valid YAML: no YAML emitter quirks with indicator text. ASCII only: YAML reads U+0085,
    # U+2028 and U+2029 as line breaks even inside a quoted scalar.
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def literal(value: str) -> str:
    """A Sigma string that matches value literally: '*' and '?' are Sigma wildcards, '\\' escapes them."""
    line_safe(value, allow_space=True)
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _url_selection(ind: Indicator) -> dict[str, str]:
    host, path = url_parts(ind.value)
    sel_ = {"cs-host": literal(host.split(":")[0])}
    if path not in ("", "/"):
        sel_["c-uri|contains"] = literal(path.rstrip("/"))
    return sel_


def _domain_detection(field: str, domains: list[str]) -> dict[str, Any]:
    return {"selection_exact": {field: domains}, "selection_subdomain": {f"{field}|endswith": [f".{d}" for d in domains]},
            "condition": "1 of selection_*"}


def export(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    out: dict[str, str] = {}
    c2 = ["attack.command-and-control", "attack.t1071.001"]
    domains = [d for _, d in keep(sel, "sigma", sel.of(IType.DOMAIN), lambda i: dns_name(i.value))]
    ips = [ip for _, (ip, _v) in keep(sel, "sigma", sel.of(IType.IPV4, IType.IPV6), lambda i: address(i.value))]
    nets = [n for _, (n, _v) in keep(sel, "sigma", sel.of(IType.CIDR), lambda i: address(i.value))]
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
    if ips or nets:
        det: dict[str, Any] = {}
        if ips:
            det["selection_ip"] = {"DestinationIp": ips}
        if nets:
            det["selection_net"] = {"DestinationIp|cidr": nets}
        det["condition"] = "1 of selection_*"
        out[f"{sel.slug}_network_connection_c2_ips.yml"] = _rule(
            sel, opt, "netconn-ips", "network connection to C2 addresses",
            {"category": "network_connection", "product": "windows"}, det, "medium", c2)
    urls = keep(sel, "sigma", sel.of(IType.URL), _url_selection)
    if urls:
        detection: dict[str, Any] = {}
        for n, (_, sel_) in enumerate(urls, 1):
            detection[f"selection_url{n}"] = sel_
        detection["condition"] = "1 of selection_url*"
        out[f"{sel.slug}_proxy_c2_urls.yml"] = _rule(sel, opt, "proxy-urls", "requests to C2 URLs",
                                                      {"category": "proxy"}, detection, "high", c2)
    hashes = keep(sel, "sigma", sel.of(*FILE_HASH_TYPES), lambda i: hex_digest(i.value))
    if hashes:
        values = [f"{HASH_FIELD[i.type.value]}={h.upper()}" for i, h in hashes]
        det = {"selection": {"Hashes|contains": values}, "condition": "selection"}
        exe = ["attack.execution", "attack.t1195.002"]
        out[f"{sel.slug}_process_creation_hashes.yml"] = _rule(sel, opt, "proc-hashes", "process from a known payload",
                                                                {"category": "process_creation", "product": "windows"},
                                                                det, "critical", exe)
        out[f"{sel.slug}_image_load_hashes.yml"] = _rule(sel, opt, "load-hashes", "known payload loaded as a module",
                                                          {"category": "image_load", "product": "windows"}, det,
                                                          "critical", exe)
    out.update(sigma_host.rules(sel, lambda kind, title, logsource, detection, level, tags: _rule(
        sel, opt, kind, title, logsource, detection, level, tags)))
    out.update(pack_rules.sigma_part(sel.pack, sel.slug, set(out)))  # the pack's own valid Sigma rules, as published
    return out
