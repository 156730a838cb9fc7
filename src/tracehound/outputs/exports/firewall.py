"""Firewall and proxy lists: plain lists (external dynamic lists), nftables sets, ipset."""

from __future__ import annotations

from tracehound.intel.model import IType
from tracehound.matching.normalize import norm_url
from tracehound.outputs.exports.select import ExportOptions, Selection


def _ips(sel: Selection, version: int) -> list[str]:
    return sorted(i.value for i in sel.of(IType.IPV4, IType.IPV6, IType.CIDR) if (":" in i.value) == (version == 6))


def export_lists(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    domains = sorted(i.value for i in sel.of(IType.DOMAIN))
    urls = sorted({norm_url(i.value)[0] + norm_url(i.value)[1].rstrip("/") for i in sel.of(IType.URL)})
    return {
        f"{sel.slug}-ip.txt": "\n".join(_ips(sel, 4) + _ips(sel, 6)) + "\n",
        f"{sel.slug}-domain.txt": "\n".join(domains) + "\n",
        # PAN-OS URL EDL / pfSense URL table form: no scheme; '*.' entries cover subdomains.
        f"{sel.slug}-url.txt": "\n".join(sorted(set(urls + domains + [f"*.{d}" for d in domains]))) + "\n",
    }


def export_nft(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    lines = [f"# tracehound pack {sel.slug}: nft -f this file", "table inet tracehound {"]
    for name, family, version in (("c2_v4", "ipv4_addr", 4), ("c2_v6", "ipv6_addr", 6)):
        elems = _ips(sel, version)
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
        lines += [f"add {name} {ip} -exist" for ip in _ips(sel, version)]
    return {f"{sel.slug}.ipset": "\n".join(lines) + "\n"}
