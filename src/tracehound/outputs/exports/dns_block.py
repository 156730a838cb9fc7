"""DNS blocking: RPZ zone, hosts file, dnsmasq and Unbound configuration."""

from __future__ import annotations

import ipaddress

from tracehound.intel.model import IType
from tracehound.outputs.exports.select import ExportOptions, Selection


def _domains(sel: Selection) -> list[str]:
    return sorted(i.value for i in sel.of(IType.DOMAIN))


def export_rpz(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    serial = int(opt.now.strftime("%Y%m%d%H"))
    lines = ["$TTL 300", f"@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 86400 300 )", "@ IN NS localhost.",
             f"; tracehound pack {sel.slug}: NXDOMAIN for each C2 name and its subdomains"]
    for d in _domains(sel):
        lines += [f"{d} CNAME .", f"*.{d} CNAME ."]
    for ind in sel.of(IType.IPV4, IType.IPV6, IType.CIDR):
        net = ipaddress.ip_network(ind.value, strict=False)
        if net.version == 4:
            owner = f"{net.prefixlen}." + ".".join(reversed(str(net.network_address).split(".")))
        else:
            groups = str(net.network_address).replace("::", ":zz:").strip(":").split(":")
            owner = f"{net.prefixlen}." + ".".join(reversed(groups))
        lines.append(f"{owner}.rpz-ip CNAME .")
    return {f"{sel.slug}.rpz.zone": "\n".join(lines) + "\n"}


def export_hosts(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = [f"# tracehound pack {sel.slug}: exact names only, a hosts file has no wildcards"]
    lines += [f"0.0.0.0 {d}" for d in _domains(sel)]
    return {f"{sel.slug}.hosts": "\n".join(lines) + "\n"}


def export_dnsmasq(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = [f"# tracehound pack {sel.slug}: NXDOMAIN for each name and its subdomains"]
    lines += [f"address=/{d}/" for d in _domains(sel)]
    return {f"{sel.slug}.dnsmasq.conf": "\n".join(lines) + "\n"}


def export_unbound(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = [f"# tracehound pack {sel.slug}: include from unbound.conf", "server:"]
    lines += [f'    local-zone: "{d}." always_nxdomain' for d in _domains(sel)]
    return {f"{sel.slug}.unbound.conf": "\n".join(lines) + "\n"}
