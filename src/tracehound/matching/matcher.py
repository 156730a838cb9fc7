"""Indicator semantics, applied to observations from any source.

- domain: the name and its subdomains on label boundaries, case-insensitive, trailing dot ignored;
- IP: exact (after normalization; v4-mapped v6 folded), CIDR by range;
- URL: scheme-agnostic, host equal and path prefix on a segment boundary after percent-decoding;
  a TLS/CONNECT observation of a host whose only indicator is a URL is a *weak* host-only match;
- file hash / certificate thumbprint: exact, case-insensitive.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from tracehound.intel.model import CERT_TYPES, FILE_HASH_TYPES, Indicator, IType, Pack
from tracehound.matching.normalize import label_suffixes, norm_domain, norm_ip, norm_url, path_prefix_match
from tracehound.sources.logs.observation import Observation

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_CANON4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


@dataclass(frozen=True, slots=True)
class Match:
    indicator: Indicator
    field: str  # ECS field of the observation that matched
    observed: str  # the observed value
    weak: bool = False


class Matcher:
    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.domains: dict[str, Indicator] = {}
        self.ips: dict[str, Indicator] = {}
        self.networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Indicator]] = []
        self.networks4: list[tuple[int, int, Indicator]] = []  # IPv4 networks as integer ranges
        self.urls: dict[str, list[tuple[str, Indicator]]] = {}
        self.hashes: dict[str, Indicator] = {}
        self.certs: dict[str, Indicator] = {}
        for ind in pack.indicators:
            t = ind.type
            if t is IType.DOMAIN:
                self.domains[ind.value] = ind
            elif t in (IType.IPV4, IType.IPV6):
                self.ips[ind.value] = ind
            elif t is IType.CIDR:
                net = ipaddress.ip_network(ind.value, strict=False)
                self.networks.append((net, ind))
                if net.version == 4:
                    self.networks4.append((int(net.network_address), int(net.broadcast_address), ind))
            elif t is IType.URL:
                host, path = norm_url(ind.value)
                self.urls.setdefault(host, []).append((path, ind))
            elif t in FILE_HASH_TYPES:
                self.hashes[ind.value] = ind
            elif t in CERT_TYPES:
                self.certs[ind.value] = ind

    def is_empty(self) -> bool:
        return not (self.domains or self.ips or self.networks or self.urls or self.hashes or self.certs)

    def domain(self, name: str) -> Indicator | None:
        if not self.domains or not name:
            return None
        for suffix in label_suffixes(norm_domain(name)):
            ind = self.domains.get(suffix)
            if ind is not None:
                return ind
        return None

    def ip(self, value: str) -> Indicator | None:
        if not value or (not self.ips and not self.networks):
            return None
        if _CANON4.fullmatch(value):  # fast path: a canonical dotted quad is its own normal form
            ind = self.ips.get(value)
            if ind is not None or not self.networks4:
                return ind
            a, b, c, d = (int(x) for x in value.split("."))
            n = (a << 24) | (b << 16) | (c << 8) | d
            return next((nind for lo, hi, nind in self.networks4 if lo <= n <= hi), None)
        ip = norm_ip(value)
        if not ip:
            return None
        ind = self.ips.get(ip)
        if ind is not None or not self.networks:
            return ind
        addr = ipaddress.ip_address(ip)
        for net, nind in self.networks:
            if addr.version == net.version and addr in net:
                return nind
        return None

    def url(self, value: str) -> Indicator | None:
        if not self.urls or not value:
            return None
        host, path = norm_url(value)
        for prefix, ind in self.urls.get(host, ()):
            if path_prefix_match(path, prefix):
                return ind
        return None

    def match(self, obs: Observation) -> list[Match]:
        out: list[Match] = []
        seen: set[tuple[str, str]] = set()

        def add(ind: Indicator | None, field: str, observed: str, weak: bool = False) -> None:
            if ind is not None and (ind.value, field) not in seen:
                seen.add((ind.value, field))
                out.append(Match(ind, field, observed, weak))

        if obs.url:
            add(self.url(obs.url), "url.full", obs.url)
        if obs.domain:
            d = self.domain(obs.domain)
            field = "dns.question.name" if obs.kind == "dns" else "destination.domain"
            add(d, field, obs.domain)
            if d is None and not obs.url and obs.kind in ("connect", "tls") and norm_domain(obs.domain) in self.urls:
                for _p, ind in self.urls[norm_domain(obs.domain)]:
                    add(ind, "destination.domain", obs.domain, weak=True)
                    break
            ipd = self.ip(obs.domain) if not d and obs.domain[:1].isdigit() else None
            add(ipd, "destination.ip", obs.domain)
        add(self.ip(obs.dst_ip), "destination.ip", obs.dst_ip)
        add(self.ip(obs.src_ip), "source.ip", obs.src_ip)
        for a in obs.answers:
            add(self.ip(a) or self.domain(a), "dns.answers.data", a)
        for algo, h in obs.hashes.items():
            add(self.hashes.get(h.lower()), f"file.hash.{algo}", h)
        for algo, h in obs.cert_hashes.items():
            add(self.certs.get(h.lower()), f"tls.server.hash.{algo}" if obs.kind == "tls" else f"x509.hash.{algo}", h)
        return out
