"""Exports: a pack in the formats security tools load. One module per tool family; each
exporter takes the selected indicators and returns {file name: content}."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracehound.outputs.exports import (
    dns_block,
    edr,
    exchange,
    firewall,
    sigma,
    suricata,
    yara_rules,
    zeek_intel,
)
from tracehound.outputs.exports.select import ExportOptions, Selection

Exporter = Callable[[Selection, ExportOptions], dict[str, str]]


@dataclass(frozen=True)
class Format:
    name: str
    exporter: Exporter
    where: str  # one line for the README of `export --all`


FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("suricata", suricata.export, "Suricata 7 / Snort 3 IDS: add to rule-files in suricata.yaml, then `suricata -T`."),
    Format("sigma", sigma.export, "SIEM detection: convert with sigma-cli/pySigma to your SIEM (Splunk, Elastic, ...)."),
    Format("yara", yara_rules.export, "YARA / yara-x scanners, EDR and sandboxes that load YARA; `tracehound sweep --yara`."),
    Format("zeek", zeek_intel.export, "Zeek Intel framework: `redef Intel::read_files += { \"tracehound.intel\" };`."),
    Format("rpz", dns_block.export_rpz, "BIND/Unbound/PowerDNS response policy zone (blocks names and subdomains)."),
    Format("hosts", dns_block.export_hosts, "hosts file: exact names only (no wildcards)."),
    Format("dnsmasq", dns_block.export_dnsmasq, "dnsmasq conf-dir: NXDOMAIN for names and subdomains."),
    Format("unbound", dns_block.export_unbound, "Unbound include: always_nxdomain local-zones."),
    Format("lists", firewall.export_lists, "Plain IP/domain/URL lists: Palo Alto EDL, pfSense/OPNsense URL tables, proxies."),
    Format("nftables", firewall.export_nft, "Linux firewall: `nft -f tracehound.nft` (drops output/forward to C2 IPs)."),
    Format("ipset", firewall.export_ipset, "iptables users: `ipset restore < tracehound.ipset`, then match-set in rules."),
    Format("defender", edr.export_defender, "Microsoft Defender for Endpoint: import the CSVs (500 rows each); certificates via the API body."),
    Format("appcontrol", edr.export_appcontrol, "Application control (Santa, WDAC): needs --certificate; see README-appcontrol.txt."),
    Format("stix", exchange.export_stix, "Threat-intel platforms: STIX 2.1 bundle (OpenCTI, TAXII servers...)."),
    Format("misp", exchange.export_misp, "MISP: Event > Import > MISP JSON."),
]}

__all__ = ["FORMATS", "ExportOptions", "Format", "Selection"]
