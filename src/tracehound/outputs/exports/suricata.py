"""Suricata 7 rules (validated with `suricata -T`; Snort 3 is not validated and may need edits).

Domains match the name and its subdomains on a label boundary: `dotprefix; content:".d";
endswith;` matches d and x.d, not notd. URL indicators: exact host (bsize) and path prefix.

Feed values never reach the rule text raw: names and addresses are re-checked (safety.py),
a content holds only ASCII letters, digits and harmless punctuation, every other byte
(`;` `"` `\\` `|`, spaces, UTF-8, a decoded %0A) written as |hex|, and an indicator value holding a
raw control character is refused; msg and metadata are reduced to characters their grammar cannot misread.
"""

from __future__ import annotations

import re

from tracehound.intel.model import Indicator, IType
from tracehound.outputs.exports.safety import address, dns_name, keep, url_parts
from tracehound.outputs.exports.select import ExportOptions, Selection, safe_text

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/~:?=&%@+!*(),")


def _meta_word(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "_"


def _meta(sel: Selection, opt: ExportOptions, ind: Indicator) -> str:
    parts = [f"created_at {opt.now:%Y_%m_%d}", f"tracehound_pack {_meta_word(sel.slug)}",
             f"indicator_type {ind.type.value}"]
    if ind.ctx("stage"):
        parts.append(f"stage {_meta_word(ind.ctx('stage')[0])}")
    if opt.expires:
        parts.append(f"expires {opt.expires:%Y_%m_%d}")
    return ", ".join(parts)


def content(value: str) -> str:
    """A Suricata content string for value: plain characters as they are, every other byte |hex|
    (so a decoded %0A in a URL path is the byte |0a|, never a line break in the rule)."""
    return "".join(c if c in _PLAIN else "".join(f"|{b:02x}|" for b in c.encode("utf-8")) for c in value)


def _url_body(ind: Indicator) -> str:
    host, path = url_parts(ind.value, decoded=True)  # http.uri is the normalised (decoded) URI
    host = host.split(":")[0]
    body = f'http.host; content:"{content(host)}"; bsize:{len(host.encode())};'
    if path not in ("", "/"):
        body += f' http.uri; content:"{content(path.rstrip("/"))}"; startswith;'
    return body


def rules(sel: Selection, opt: ExportOptions) -> list[str]:
    out: list[str] = []
    sid = opt.sid_base
    campaign = safe_text(sel.campaign, 80)

    def add(proto: str, head: str, msg: str, body: str, ind: Indicator) -> None:
        nonlocal sid
        sid += 1
        out.append(f'alert {proto} {head} (msg:"TRACEHOUND {campaign} - {safe_text(msg)}"; {body} '
                   f"classtype:trojan-activity; sid:{sid}; rev:1; metadata:{_meta(sel, opt, ind)};)")

    for ind, d in keep(sel, "suricata", sel.of(IType.DOMAIN), lambda i: content(dns_name(i.value))):
        add("dns", "$HOME_NET any -> any any", f"C2 domain {ind.value} in DNS query",
            f'dns.query; dotprefix; content:".{d}"; nocase; endswith;', ind)
        add("tls", "$HOME_NET any -> $EXTERNAL_NET any", f"C2 domain {ind.value} in TLS SNI",
            f'tls.sni; dotprefix; content:".{d}"; nocase; endswith;', ind)
        add("http", "$HOME_NET any -> $EXTERNAL_NET any", f"C2 domain {ind.value} in HTTP Host",
            f'http.host; dotprefix; content:".{d}"; endswith;', ind)
    for ind, body in keep(sel, "suricata", sel.of(IType.URL), _url_body):
        add("http", "$HOME_NET any -> $EXTERNAL_NET any", f"C2 URL {ind.value}", body, ind)
    for ind, (ip, _) in keep(sel, "suricata", sel.of(IType.IPV4, IType.IPV6, IType.CIDR), lambda i: address(i.value)):
        add("ip", f"$HOME_NET any -> {ip} any", f"traffic to C2 address {ip}", "", ind)
    return out


def export(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    body = rules(sel, opt)
    header = (f"# tracehound rules for {safe_text(sel.campaign)} (pack {sel.slug}), generated {opt.now.isoformat()}\n"
              f"# sids {opt.sid_base + 1}-{opt.sid_base + len(body)}; file hashes need Suricata file-extraction "
              f"lists and are not expressed here (use the YARA or EDR exports)\n")
    return {f"{sel.slug}.rules": header + "\n".join(body) + "\n"}
