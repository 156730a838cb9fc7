"""Suricata 7 rules (validated with `suricata -T`; Snort 3 is not validated and may need edits).

Domains match the name and its subdomains on a label boundary: `dotprefix; content:".d";
endswith;` matches d and x.d, not notd. URL indicators: exact host (bsize) and path prefix.
"""

from __future__ import annotations

from tracehound.intel.model import Indicator, IType
from tracehound.matching.normalize import norm_url
from tracehound.outputs.exports.select import ExportOptions, Selection, safe_text


def _meta(sel: Selection, opt: ExportOptions, ind: Indicator) -> str:
    parts = [f"created_at {opt.now:%Y_%m_%d}", f"tracehound_pack {sel.slug}", f"indicator_type {ind.type.value}"]
    if ind.ctx("stage"):
        parts.append(f"stage {safe_text(ind.ctx('stage')[0]).replace(' ', '_')}")
    if opt.expires:
        parts.append(f"expires {opt.expires:%Y_%m_%d}")
    return ", ".join(parts)


def _content(value: str) -> str:
    return "".join(c if c.isalnum() or c in "._-/~:?=&%@+!*()," and c not in ";\"\\" else f"|{ord(c):02x}|" for c in value)


def rules(sel: Selection, opt: ExportOptions) -> list[str]:
    out: list[str] = []
    sid = opt.sid_base
    campaign = safe_text(sel.campaign, 80)

    def add(proto: str, head: str, msg: str, body: str, ind: Indicator) -> None:
        nonlocal sid
        sid += 1
        out.append(f'alert {proto} {head} (msg:"TRACEHOUND {campaign} - {safe_text(msg)}"; {body} '
                   f"classtype:trojan-activity; sid:{sid}; rev:1; metadata:{_meta(sel, opt, ind)};)")

    for ind in sel.of(IType.DOMAIN):
        d = _content(ind.value)
        add("dns", "$HOME_NET any -> any any", f"C2 domain {ind.value} in DNS query",
            f'dns.query; dotprefix; content:".{d}"; nocase; endswith;', ind)
        add("tls", "$HOME_NET any -> $EXTERNAL_NET any", f"C2 domain {ind.value} in TLS SNI",
            f'tls.sni; dotprefix; content:".{d}"; nocase; endswith;', ind)
        add("http", "$HOME_NET any -> $EXTERNAL_NET any", f"C2 domain {ind.value} in HTTP Host",
            f'http.host; dotprefix; content:".{d}"; endswith;', ind)
    for ind in sel.of(IType.URL):
        host, path = norm_url(ind.value)
        host = host.split(":")[0]
        body = f'http.host; content:"{_content(host)}"; bsize:{len(host)};'
        if path not in ("", "/"):
            body += f' http.uri; content:"{_content(path.rstrip("/"))}"; startswith;'
        add("http", "$HOME_NET any -> $EXTERNAL_NET any", f"C2 URL {ind.value}", body, ind)
    for ind in sel.of(IType.IPV4, IType.IPV6, IType.CIDR):
        add("ip", f"$HOME_NET any -> {ind.value} any", f"traffic to C2 address {ind.value}", "", ind)
    return out


def export(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    body = rules(sel, opt)
    header = (f"# tracehound rules for {safe_text(sel.campaign)} (pack {sel.slug}), generated {opt.now.isoformat()}\n"
              f"# sids {opt.sid_base + 1}-{opt.sid_base + len(body)}; file hashes need Suricata file-extraction "
              f"lists and are not expressed here (use the YARA or EDR exports)\n")
    return {f"{sel.slug}.rules": header + "\n".join(body) + "\n"}
