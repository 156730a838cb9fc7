"""DNS blocking: RPZ zone, hosts file, dnsmasq and Unbound configuration.

Every name is checked as a plain DNS name (safety.dns_name) and every address re-parsed
(safety.address) before it becomes an owner name or a directive: a value that is not one is
refused and listed in the README, it never adds a record."""

from __future__ import annotations

import ipaddress

from tracehound.intel.model import IType
from tracehound.outputs.exports.safety import address, dns_name, keep
from tracehound.outputs.exports.select import ExportOptions, Selection


def _domains(sel: Selection, fmt: str) -> list[str]:
    return sorted(d for _, d in keep(sel, fmt, sel.of(IType.DOMAIN), lambda i: dns_name(i.value)))


def _rpz_ip_owner(value: str) -> str:
    net = ipaddress.ip_network(address(value)[0], strict=False)
    if net.version == 4:
        return f"{net.prefixlen}." + ".".join(reversed(str(net.network_address).split(".")))
    groups = str(net.network_address).replace("::", ":zz:").strip(":").split(":")
    return f"{net.prefixlen}." + ".".join(reversed(groups))


def export_rpz(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    serial = int(opt.now.strftime("%Y%m%d%H"))
    lines = ["$TTL 300", f"@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 86400 300 )", "@ IN NS localhost.",
             f"; tracehound pack {sel.slug}: NXDOMAIN for each C2 name and its subdomains"]
    for d in _domains(sel, "rpz"):
        lines += [f"{d} CNAME .", f"*.{d} CNAME ."]
    for _, owner in keep(sel, "rpz", sel.of(IType.IPV4, IType.IPV6, IType.CIDR), lambda i: _rpz_ip_owner(i.value)):
        lines.append(f"{owner}.rpz-ip CNAME .")
    return {f"{sel.slug}.rpz.zone": "\n".join(lines) + "\n"}


def export_hosts(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = [f"# tracehound pack {sel.slug}: exact names only, a hosts file has no wildcards"]
    lines += [f"0.0.0.0 {d}" for d in _domains(sel, "hosts")]
    return {f"{sel.slug}.hosts": "\n".join(lines) + "\n"}


def export_dnsmasq(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = [f"# tracehound pack {sel.slug}: NXDOMAIN for each name and its subdomains"]
    lines += [f"address=/{d}/" for d in _domains(sel, "dnsmasq")]
    return {f"{sel.slug}.dnsmasq.conf": "\n".join(lines) + "\n"}


def export_unbound(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = [f"# tracehound pack {sel.slug}: include from unbound.conf", "server:"]
    lines += [f'    local-zone: "{d}." always_nxdomain' for d in _domains(sel, "unbound")]
    return {f"{sel.slug}.unbound.conf": "\n".join(lines) + "\n"}
