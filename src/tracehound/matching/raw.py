"""Raw-text matching: the matcher's own semantics applied to candidate tokens of a record.

Used when a record holds an indicator literal but its reader gave no matching observation (the
record did not parse, or the reader did not recognise the field that holds the value). No second
copy of the semantics: tokens are cut out of the text and passed to Matcher.domain/ip/url and the
hash tables, so label boundaries, exact IPs and CIDR ranges, and URL host + segment-boundary path
are the same as for parsed records.

Tokens: the text is cut at whitespace, quotes and list punctuation; a leading `key=` is dropped.
A token with '://' is a URL (its host is also checked as a domain/IP; its path and query are not
searched for names, as for a parsed URL). Otherwise a token is cut at '#', '=' and '@'; each part
is a host (`host`, `host:port`, `ip:port:interface`, `interface:ip`, `[v6]:port`, DNS wire form `(3)www(7)example(3)com(0)`), possibly
followed by '/path' (checked as a schemeless URL; later segments checked as IPs: `DIRECT/1.2.3.4`).
Standalone '/path' tokens are joined with every host token of a URL indicator (split-field logs:
`cs-host` + `cs-uri-path`, Zeek `host` + `uri`).
"""

from __future__ import annotations

import re

from tracehound.intel.model import Indicator
from tracehound.matching.matcher import Match, Matcher
from tracehound.matching.normalize import norm_domain
from tracehound.matching.prefilter import Prefilter
from tracehound.sources.logs.observation import Observation

RAW_FIELD = "event.original"
_CUT = re.compile(r"[\s\"'`,;|<>(){}\\]+")
_WIRE = re.compile(r"(?:\(\d{1,2}\)[A-Za-z0-9_-]+)+\(0\)")
_WIRE_LABEL = re.compile(r"\(\d{1,2}\)")
_KEY = re.compile(r"^[A-Za-z_][\w.-]{0,63}=")
_HEX = re.compile(r"^[0-9A-Fa-f]{32,128}$")
_HEXPAIRS = re.compile(r"^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){15,63}$")
_STRIP = ".:[]!?*"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_HOST_END = re.compile(r"[/?#]")
_PARTS = re.compile(r"[#=@]")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_IPV6ISH = re.compile(r"[0-9A-Fa-f:.]+(?:%\w+)?")


def _wire_names(text: str) -> list[str]:
    return [".".join(p for p in _WIRE_LABEL.split(m.group(0)) if p) for m in _WIRE.finditer(text)]


def raw_matches(text: str, matcher: Matcher, covered: list[str] | None = None) -> list[Match]:
    """Indicators found in the raw text of one record. `covered`: lowercased field values the
    reader did read (their exact semantics already said no), whose tokens are not reported again."""
    out: list[Match] = []
    seen: set[str] = set()
    cov = [c for c in (covered or []) if c]

    def add(ind: Indicator | None, observed: str) -> None:
        if ind is None or ind.value in seen:
            return
        low = observed.lower()
        if any(low in c for c in cov):
            return
        seen.add(ind.value)
        out.append(Match(ind, RAW_FIELD, observed))

    def host(tok: str) -> None:
        h = tok[1:].split("]", 1)[0] if tok.startswith("[") else tok.strip(_STRIP)
        if tok.startswith("::") and not h.startswith("["):
            h = "::" + h  # '::1', '::ffff:1.2.3.4'
        if len(h) < 3:
            return
        if ":" in h and not (h.count(":") >= 2 and _IPV6ISH.fullmatch(h)):
            # host:port, SonicWall ip:port:interface, Cisco ASA interface:ip
            for part in h.split(":"):
                if "." in part:
                    host(part)
            return
        if _IPV4.fullmatch(h) or (":" in h and _IPV6ISH.fullmatch(h)):
            add(matcher.ip(h), h)
        elif "." in h:
            add(matcher.domain(h), h)

    def hexval(tok: str) -> None:
        t = tok.strip(_STRIP).lower()
        if _HEXPAIRS.match(t):
            t = t.replace(":", "")
        if _HEX.match(t):
            add(matcher.hashes.get(t) or matcher.certs.get(t), t)

    url_hosts = matcher.urls
    hosts: list[str] = []
    paths: list[str] = []
    for name in _wire_names(text):
        host(name)
    for piece in _CUT.split(text):
        if not piece:
            continue
        if "=" in piece:
            piece = _KEY.sub("", piece, count=1)
        if "://" in piece:
            m = _SCHEME.search(piece)
            url = piece[m.start():] if m else piece
            h = url.split("://", 1)[1]
            h = _HOST_END.split(h, maxsplit=1)[0].rsplit("@", 1)[-1]
            if url_hosts and norm_domain(h.strip(_STRIP)) in url_hosts:
                add(matcher.url(url), url)
            host(h)
            hosts.append(h)
            continue
        if piece.startswith("/"):
            paths.append(piece)
            for seg in piece.split("/"):
                if seg[:1].isdigit():
                    host(seg)
            continue
        for part in _PARTS.split(piece) if ("#" in piece or "=" in piece or "@" in piece) else (piece,):
            if not part:
                continue
            if len(part) >= 32:
                hexval(part)
            head, slash, rest = part.partition("/")
            host(head)
            hosts.append(head)
            if slash:
                if url_hosts and norm_domain(head.strip(_STRIP)) in url_hosts:
                    add(matcher.url(part), part)
                for seg in rest.split("/"):
                    if seg[:1].isdigit():
                        host(seg)
    if url_hosts and paths:
        for h in sorted({norm_domain(h.strip(_STRIP)) for h in hosts} & set(url_hosts)):
            for p in paths:
                add(matcher.url(h + p), h + p)
    return out


def raw_check_needed(text: str, observations: list[Observation], covered: list[str], matcher: Matcher,
                     prefilter: Prefilter) -> bool:
    """Cheap gate before raw_matches for a record whose fields did not match: True unless no
    indicator literal is left once the field values the reader read are blanked out (then no
    token outside those fields can match). Always True when a field holds the host of a URL
    indicator but no URL (the path may sit in a field the reader does not know)."""
    if matcher.urls and any(o.domain and not o.url and norm_domain(o.domain) in matcher.urls for o in observations):
        return True
    rest = text.lower()
    for value in sorted(covered, key=len, reverse=True):
        rest = rest.replace(value, " ")
    return prefilter.any_in(rest)
