"""Known-benign lists from MISP warninglists (shipped inside pymispwarninglists, no network).

Only the "legitimate service used as hosting" list (lots-project: github.com, pastebin...)
justifies leaving a value out: the big popularity lists contain real C2 domains
(akamaicontainer.com is in the Tranco top million), so they only *flag*.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
from functools import cache, lru_cache
from pathlib import Path

EXCLUDING_LISTS = ("lots-project",)
FLAGGING_LISTS = (
    "tranco10k", "cisco_top10k", "security-provider-blogpost", "url-shortener", "dynamic-dns",
    "parking-domain", "sinkholes", "public-dns-v4", "public-dns-v6", "rfc1918", "rfc5735", "rfc6598",
    "multicast", "ipv6-linklocal", "empty-hashes", "common-ioc-false-positive",
)


@cache
def _lists_dir() -> Path | None:
    # Locate the data without importing the package: its import pulls jsonschema and takes seconds.
    spec = importlib.util.find_spec("pymispwarninglists")
    if spec is None or not spec.origin:  # pragma: no cover - declared dependency
        return None
    d = Path(spec.origin).parent / "data" / "misp-warninglists" / "lists"
    return d if d.is_dir() else None


def _network(v: str) -> tuple[int, int, int] | None:
    """(version, prefix length, network address as int); the IPv4 form parsed without ipaddress (lists are big)."""
    addr, _, plen = v.partition("/")
    parts = addr.split(".")
    if len(parts) == 4 and ":" not in addr and all(p.isdigit() and int(p) < 256 for p in parts):
        bits = int(plen) if plen.isdigit() and int(plen) <= 32 else (32 if not plen else -1)
        if bits < 0:
            return None
        n = (int(parts[0]) << 24) | (int(parts[1]) << 16) | (int(parts[2]) << 8) | int(parts[3])
        return 4, bits, (n >> (32 - bits)) << (32 - bits) if bits else 0
    try:
        net = ipaddress.ip_network(v, strict=False)
    except ValueError:
        return None
    return net.version, net.prefixlen, int(net.network_address)


class _List:
    def __init__(self, name: str, data: dict) -> None:
        self.name = name
        self.title = str(data.get("name", name))
        self.kind = str(data.get("type", "string"))
        values = [str(v).strip().lower() for v in data.get("list", [])]
        self.exact = {v.lstrip(".") for v in values if v}
        self.suffixes = {v.lstrip(".") for v in values if v.startswith(".") or self.kind == "hostname"}
        # CIDR lists: per (version, prefix length), the set of network addresses, so a lookup is
        # one mask per distinct prefix length instead of a scan of every network.
        self.networks: dict[tuple[int, int], set[int]] = {}
        if self.kind == "cidr":
            for v in values:
                if "/" not in v and ":" not in v or v.endswith("/32") and ":" not in v:
                    self.exact.add(v.removesuffix("/32"))  # a single IPv4 address: compared as its text
                    continue
                net = _network(v)
                if net is not None:
                    self.networks.setdefault(net[:2], set()).add(net[2])

    def __contains__(self, value: str) -> bool:
        return self.has(value.lower().rstrip("."), _ip(value))

    def has(self, v: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        """v lowercased without trailing dot; ip its parsed address or None (parsed once by the caller)."""
        if self.kind == "cidr":
            if v in self.exact:
                return True
            if ip is None or not self.networks:
                return False
            bits = 32 if ip.version == 4 else 128
            n = int(ip)
            return any(((n >> (bits - plen)) << (bits - plen) if plen else 0) in nets
                       for (ver, plen), nets in self.networks.items() if ver == ip.version)
        if v in self.exact:
            return True
        if ip is not None:
            return False
        labels = v.split(".")
        return any(".".join(labels[i:]) in self.suffixes for i in range(1, len(labels) - 1))


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    v = value.strip().rstrip(".")
    if not v or not (v[0].isdigit() or ":" in v):
        return None
    try:
        return ipaddress.ip_address(v)
    except ValueError:
        return None


@cache
def _load(name: str) -> _List | None:
    d = _lists_dir()
    if d is None:
        return None
    f = d / name / "list.json"
    try:
        return _List(name, json.loads(f.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


@lru_cache(maxsize=65536)
def excluded_by(value: str) -> str | None:
    """Name of the hosting-service list that justifies leaving value out, if any."""
    for name in EXCLUDING_LISTS:
        lst = _load(name)
        if lst is not None and value in lst:
            return f"legitimate service used as hosting (MISP warninglist '{lst.title}')"
    return None


@lru_cache(maxsize=65536)
def in_list(name: str, value: str) -> bool:
    """True when value is on the named bundled warninglist (False when the list is missing)."""
    lst = _load(name)
    return lst is not None and value in lst


def flags_for(value: str) -> list[str]:
    """Warninglists that contain value: shown to the analyst, never used to drop it."""
    return list(_flags(value))


@lru_cache(maxsize=65536)
def _flags(value: str) -> tuple[str, ...]:
    out: list[str] = []
    v, ip = value.lower().rstrip("."), _ip(value)
    for name in FLAGGING_LISTS:
        lst = _load(name)
        if lst is not None and lst.has(v, ip):
            out.append(f"warninglist:{name}")
    return tuple(out)
