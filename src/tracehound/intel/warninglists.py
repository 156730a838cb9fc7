"""Known-benign lists from MISP warninglists (shipped inside pymispwarninglists, no network).

Only the "legitimate service used as hosting" list (lots-project: github.com, pastebin...)
justifies leaving a value out: the big popularity lists contain real C2 domains
(akamaicontainer.com is in the Tranco top million), so they only *flag*.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
from functools import cache
from pathlib import Path

EXCLUDING_LISTS = ("lots-project",)
FLAGGING_LISTS = (
    "tranco10k", "cisco_top10k", "security-provider-blogpost", "url-shortener", "dynamic-dns",
    "parking-domain", "sinkholes", "public-dns-v4", "public-dns-v6", "rfc1918", "rfc5735", "rfc6598",
    "multicast", "ipv6-linklocal", "empty-hashes", "common-ioc-false-positive",
)


def _lists_dir() -> Path | None:
    try:
        import pymispwarninglists
    except ImportError:  # pragma: no cover - declared dependency
        return None
    d = Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"
    return d if d.is_dir() else None


class _List:
    def __init__(self, name: str, data: dict) -> None:
        self.name = name
        self.title = str(data.get("name", name))
        self.kind = str(data.get("type", "string"))
        values = [str(v).strip().lower() for v in data.get("list", [])]
        self.exact = {v.lstrip(".") for v in values if v}
        self.suffixes = {v.lstrip(".") for v in values if v.startswith(".") or self.kind == "hostname"}
        # CIDR lists as sorted, merged address ranges per IP version: a lookup is one bisection
        # (the former scan of every network took 90 ms per address: 2,000 IPs in an advisory, 55 s).
        self.networks: dict[int, tuple[list[int], list[int]]] = {}
        if self.kind == "cidr":
            ranges: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
            for v in values:
                try:
                    n = ipaddress.ip_network(v, strict=False)
                except ValueError:
                    continue
                ranges[n.version].append((int(n.network_address), int(n.broadcast_address)))
            for version, rs in ranges.items():
                merged: list[tuple[int, int]] = []
                for a, b in sorted(rs):
                    if merged and a <= merged[-1][1] + 1:
                        merged[-1] = (merged[-1][0], max(merged[-1][1], b))
                    else:
                        merged.append((a, b))
                if merged:
                    self.networks[version] = ([a for a, _ in merged], [b for _, b in merged])

    def __contains__(self, value: str) -> bool:
        v = value.lower().rstrip(".")
        if self.networks:
            try:
                ip = ipaddress.ip_address(v)
            except ValueError:
                return False
            starts, ends = self.networks.get(ip.version, ([], []))
            k = bisect.bisect_right(starts, int(ip)) - 1
            return k >= 0 and int(ip) <= ends[k]
        if v in self.exact:
            return True
        labels = v.split(".")
        return any(".".join(labels[i:]) in self.suffixes for i in range(1, len(labels) - 1))


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


def excluded_by(value: str) -> str | None:
    """Name of the hosting-service list that justifies leaving value out, if any."""
    for name in EXCLUDING_LISTS:
        lst = _load(name)
        if lst is not None and value in lst:
            return f"legitimate service used as hosting (MISP warninglist '{lst.title}')"
    return None


def flags_for(value: str) -> list[str]:
    """Warninglists that contain value: shown to the analyst, never used to drop it."""
    out = []
    for name in FLAGGING_LISTS:
        lst = _load(name)
        if lst is not None and value in lst:
            out.append(f"warninglist:{name}")
    return out
