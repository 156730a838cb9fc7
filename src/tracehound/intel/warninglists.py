"""Known-benign lists from MISP warninglists (shipped inside pymispwarninglists, no network).

Only the "legitimate service used as hosting" list (lots-project: github.com, pastebin...)
justifies leaving a value out: the big popularity lists contain real C2 domains
(akamaicontainer.com is in the Tranco top million), so they only *flag*.
"""

from __future__ import annotations

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
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        if self.kind == "cidr":
            for v in values:
                try:
                    self.networks.append(ipaddress.ip_network(v, strict=False))
                except ValueError:
                    continue

    def __contains__(self, value: str) -> bool:
        v = value.lower().rstrip(".")
        if self.networks:
            try:
                ip = ipaddress.ip_address(v)
            except ValueError:
                return False
            return any(ip in n for n in self.networks)
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


def in_list(name: str, value: str) -> bool:
    """True when value is on the named bundled warninglist (False when the list is missing)."""
    lst = _load(name)
    return lst is not None and value in lst


def flags_for(value: str) -> list[str]:
    """Warninglists that contain value: shown to the analyst, never used to drop it."""
    out = []
    for name in FLAGGING_LISTS:
        lst = _load(name)
        if lst is not None and value in lst:
            out.append(f"warninglist:{name}")
    return out
