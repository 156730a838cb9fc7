"""Exports: a pack in the formats security tools load. One module per tool family; each
exporter takes the selected indicators and returns {file name: content}."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tracehound.intel.model import IType
from tracehound.outputs.exports import (
    dns_block,
    edr,
    exchange,
    firewall,
    loki,
    sigma,
    suricata,
    yara_rules,
    zeek_intel,
)
from tracehound.outputs.exports.select import ExportOptions, Selection

Exporter = Callable[[Selection, ExportOptions], dict[str, str]]


NETWORK = frozenset({IType.DOMAIN, IType.IPV4, IType.IPV6, IType.CIDR, IType.URL})
HASHES = frozenset({IType.MD5, IType.SHA1, IType.SHA256})
ALL = frozenset(IType)
_NOT_TRAFFIC = "scans files or hosts, not traffic"
_NAMES_ONLY = "a resolver blocks names, not addresses, URLs or files"
_ADDRESSES_ONLY = "a firewall set holds addresses, not names, URLs or files"


@dataclass(frozen=True)
class Format:
    name: str
    exporter: Exporter
    where: str  # one line for the README of `export --all`; {file} is the first file written
    carries: frozenset[IType] = ALL
    why_not: dict[IType, str] = field(default_factory=dict)  # reason per type it cannot carry
    default_why: str = "no such indicator type in this format"

    def usage(self, files: list[str]) -> str:
        return self.where.replace("{file}", files[0] if files else "FILE")

    def reason(self, itype: IType) -> str | None:
        return None if itype in self.carries else self.why_not.get(itype, self.default_why)


FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("suricata", suricata.export, "Suricata 7 / Snort 3 IDS: add {file} to rule-files in suricata.yaml, then `suricata -T`.",
           NETWORK, {**dict.fromkeys(HASHES, "file hashes need Suricata file-extraction lists (use the YARA or EDR exports)"),
                     IType.CERT_SHA1: "a code-signing certificate is not seen in traffic",
                     IType.CERT_SHA256: "a code-signing certificate is not seen in traffic"}, "no IDS rule for this type"),
    Format("sigma", sigma.export, "SIEM detection: convert with sigma-cli/pySigma to your SIEM (Splunk, Elastic, ...).",
           NETWORK | HASHES | {IType.FILE_PATH, IType.REGISTRY_KEY},
           {IType.MUTEX: "no Sigma log source records mutexes (Sysmon has no mutex event)",
            IType.PDB_PATH: "a PDB path is a string inside a binary, not an event field",
            IType.FILENAME: "a bare file name is also the name of legitimate files (full paths and hashes are exported)",
            IType.CERT_SHA1: "no Sigma log-source field carries a signer thumbprint",
            IType.CERT_SHA256: "no Sigma log-source field carries a signer thumbprint"}, "no Sigma rule for this type"),
    Format("yara", yara_rules.export, "YARA / yara-x scanners, EDR and sandboxes that load YARA; `tracehound sweep --yara {file}`.",
           HASHES | {IType.CERT_SHA1}, {IType.CERT_SHA256: "the YARA pe module exposes the SHA-1 thumbprint only",
                                        IType.FILENAME: "YARA rules match content, not file names (sweep and Loki do)",
                                        IType.SHA512: "the YARA hash module has no SHA-512"},
           f"YARA {_NOT_TRAFFIC}"),
    Format("zeek", zeek_intel.export, "Zeek Intel framework: `redef Intel::read_files += { \"/path/to/{file}\" };`.",
           NETWORK | HASHES | {IType.CERT_SHA1, IType.CERT_SHA256, IType.EMAIL, IType.FILENAME}),
    Format("rpz", dns_block.export_rpz, "BIND/Unbound/PowerDNS response policy zone {file} (blocks names and subdomains).",
           frozenset({IType.DOMAIN, IType.IPV4, IType.IPV6, IType.CIDR}),
           {IType.URL: "a DNS policy blocks names, not URLs (a URL's host is blocked when it is a domain indicator)"},
           "a DNS policy blocks names and answers, not files"),
    Format("hosts", dns_block.export_hosts, "hosts file {file}: exact names only (no wildcards).",
           frozenset({IType.DOMAIN}), default_why=_NAMES_ONLY),
    Format("dnsmasq", dns_block.export_dnsmasq, "dnsmasq conf-dir ({file}): NXDOMAIN for names and subdomains.",
           frozenset({IType.DOMAIN}), default_why=_NAMES_ONLY),
    Format("unbound", dns_block.export_unbound, "Unbound include ({file}): always_nxdomain local-zones.",
           frozenset({IType.DOMAIN}), default_why=_NAMES_ONLY),
    Format("lists", firewall.export_lists, "Plain IP/domain/URL lists: Palo Alto EDL, pfSense/OPNsense URL tables, proxies.",
           NETWORK, default_why="a block list holds addresses, names and URLs, not files"),
    Format("nftables", firewall.export_nft, "Linux firewall: `nft -f {file}` (drops output/forward to C2 IPs).",
           frozenset({IType.IPV4, IType.IPV6, IType.CIDR}), default_why=_ADDRESSES_ONLY),
    Format("ipset", firewall.export_ipset, "iptables users: `ipset restore < {file}`, then match-set in rules.",
           frozenset({IType.IPV4, IType.IPV6, IType.CIDR}), default_why=_ADDRESSES_ONLY),
    Format("defender", edr.export_defender,
           "Microsoft Defender for Endpoint: import the CSVs (500 rows each); certificates via the API body.",
           frozenset({IType.SHA1, IType.SHA256, IType.IPV4, IType.IPV6, IType.DOMAIN, IType.URL, IType.CERT_SHA1}),
           {IType.MD5: "Defender file indicators are FileSha1/FileSha256 only, no MD5",
            IType.CIDR: "Defender IpAddress indicators are single addresses, no CIDR",
            IType.CERT_SHA256: "Defender CertificateThumbprint is the SHA-1 thumbprint"},
           "no Defender indicator type for this"),
    Format("appcontrol", edr.export_appcontrol,
           "Application control (Santa, WDAC): needs --certificate; see README-appcontrol.txt.",
           frozenset({IType.CERT_SHA1}), default_why="application control rules here block a signer certificate only"),
    Format("loki", loki.export,
           "Loki / THOR Lite: copy the IOC files below into signature-base/iocs/ (C2 names match "
           "as substrings of a connection's remote address).",
           HASHES | {IType.DOMAIN, IType.IPV4, IType.IPV6, IType.CIDR, IType.FILENAME, IType.FILE_PATH},
           {IType.URL: "Loki's c2-iocs match a connection's remote address, not a URL (a URL's host is carried "
                       "when it is a domain indicator)",
            IType.REGISTRY_KEY: "Loki scans files and processes, not the registry (no registry IOC file)",
            IType.MUTEX: "Loki has no mutex IOC file (it scans files and processes)",
            IType.PDB_PATH: "a PDB path is a string inside a binary, not a file on disk (Loki's filename IOCs)",
            IType.SHA512: "Loki's hash-iocs hold MD5, SHA-1 and SHA-256 only",
            IType.EMAIL: "Loki has no e-mail IOC file",
            IType.CERT_SHA1: "Loki has no signer-certificate IOC file (use the YARA export)",
            IType.CERT_SHA256: "Loki has no signer-certificate IOC file"},
           "no Loki IOC file for this type"),
    Format("stix", exchange.export_stix, "Threat-intel platforms: STIX 2.1 bundle {file} (OpenCTI, TAXII servers...)."),
    Format("misp", exchange.export_misp, "MISP: Event > Import > MISP JSON ({file})."),
]}

__all__ = ["FORMATS", "ExportOptions", "Format", "Selection"]
