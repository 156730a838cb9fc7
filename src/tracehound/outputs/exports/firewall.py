"""Firewall and proxy lists: plain lists (external dynamic lists), nftables sets, ipset.

Addresses are re-parsed (no scope id, nothing but the address) and URLs re-escaped
(safety.url_parts) so one indicator is exactly one list entry or set element."""

from __future__ import annotations

import ipaddress

from tracehound.intel.model import IType
from tracehound.outputs.exports.safety import address, dns_name, keep, url_parts
from tracehound.outputs.exports.select import ExportOptions, Selection


def _ips(sel: Selection, fmt: str, version: int) -> list[str]:
    checked = keep(sel, fmt, [i for i in sel.of(IType.IPV4, IType.IPV6, IType.CIDR) if (":" in i.value) == (version == 6)],
                   lambda i: address(i.value))
    return sorted(text for _, (text, v) in checked if v == version)


def export_lists(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    domains = sorted(d for _, d in keep(sel, "lists", sel.of(IType.DOMAIN), lambda i: dns_name(i.value)))
    parts = keep(sel, "lists", sel.of(IType.URL), lambda i: url_parts(i.value))
    urls = sorted({host + path.rstrip("/") for _, (host, path) in parts})
    return {
        f"{sel.slug}-ip.txt": "\n".join(_ips(sel, "lists", 4) + _ips(sel, "lists", 6)) + "\n",
        f"{sel.slug}-domain.txt": "\n".join(domains) + "\n",
        # PAN-OS URL EDL / pfSense URL table form: no scheme; '*.' entries cover subdomains.
        f"{sel.slug}-url.txt": "\n".join(sorted(set(urls + domains + [f"*.{d}" for d in domains]))) + "\n",
    }


def _collapsed(values: list[str]) -> list[str]:
    """Overlapping networks merged: an interval set refuses the whole file when two elements overlap
    (a /24 and an address inside it), so one feed entry would otherwise unblock every C2."""
    parsed = [ipaddress.ip_network(v) for v in values]
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [
        *ipaddress.collapse_addresses(n for n in parsed if isinstance(n, ipaddress.IPv4Network)),
        *ipaddress.collapse_addresses(n for n in parsed if isinstance(n, ipaddress.IPv6Network))]
    return [str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n) for n in nets]


def export_nft(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = [f"# tracehound pack {sel.slug}: nft -f this file (overlapping networks merged)", "table inet tracehound {"]
    for name, family, version in (("c2_v4", "ipv4_addr", 4), ("c2_v6", "ipv6_addr", 6)):
        elems = _collapsed(_ips(sel, "nftables", version))
        lines.append(f"  set {name} {{\n    type {family}\n    flags interval")
        if elems:
            lines.append("    elements = { " + ", ".join(elems) + " }")
        lines.append("  }")
    for hook in ("output", "forward"):
        lines += [f"  chain {hook} {{", f"    type filter hook {hook} priority 0; policy accept;",
                  '    ip daddr @c2_v4 counter log prefix "tracehound-c2 " drop',
                  '    ip6 daddr @c2_v6 counter log prefix "tracehound-c2 " drop', "  }"]
    lines.append("}")
    return {f"{sel.slug}.nft": "\n".join(lines) + "\n"}


def export_ipset(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = []
    for name, family, version in ((f"tracehound-{sel.slug}-v4"[:31], "inet", 4), (f"tracehound-{sel.slug}-v6"[:31], "inet6", 6)):
        lines.append(f"create {name} hash:net family {family} -exist")
        lines += [f"add {name} {ip} -exist" for ip in _ips(sel, "ipset", version)]
    return {f"{sel.slug}.ipset": "\n".join(lines) + "\n"}
