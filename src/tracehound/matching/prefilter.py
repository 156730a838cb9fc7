"""Multi-literal prefilter over raw log bytes (Hyperscan, or Aho-Corasick as a fallback).

Every line that could possibly match some indicator contains at least one of these literals
(compared case-insensitively): the indicator domain, the IP text (also in expanded IPv6 forms,
and domains in Windows DNS wire form for that format), the URL host (never the whole URL: a log may keep host and path in separate fields), the hash. Lines without any literal are never
parsed; candidates go through the exact matcher, so the prefilter may over-approximate but
never under-approximate.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from tracehound.intel.model import CERT_TYPES, FILE_HASH_TYPES, IType, Pack
from tracehound.matching import hs_cache
from tracehound.matching.normalize import norm_url


def literals_for(pack: Pack, wire: bool = False) -> set[str]:
    """Literals of the pack; with wire=True also domains in Windows DNS debug-log form
    ((3)www(7)example(3)com(0)), needed only for that format (it doubles a large pack)."""
    lits: set[str] = set()
    for ind in pack.indicators:
        t, v = ind.type, ind.value
        if t is IType.DOMAIN:
            lits.add(v)
            if wire:
                lits.add("".join(f"({len(label)}){label}" for label in v.split(".")) + "(0)")
        elif t is IType.IPV4:
            lits.add(v)
        elif t is IType.IPV6:
            lits.add(v)
            lits.add(ipaddress.ip_address(v).exploded)
            lits.add(":".join(g.lstrip("0") or "0" for g in ipaddress.ip_address(v).exploded.split(":")))
        elif t is IType.CIDR:
            net = ipaddress.ip_network(v, strict=False)
            if net.version == 4:
                # Literal prefix common to all addresses of the network (e.g. '10.1.' for 10.1.0.0/16).
                octets = str(net.network_address).split(".")[: net.prefixlen // 8]
                lits.add(".".join(octets) + "." if octets else ".")
            else:
                lits.add(":")  # IPv6 ranges: every line with a colon is a candidate (rare in practice)
        elif t is IType.URL:
            # The host, never the whole URL: many formats keep host and path in separate fields
            # (W3C cs-host + cs-uri-path, Zeek host + uri, Suricata hostname + url). The host is
            # enough: a URL matches only with an equal host. A path literal would make every line
            # with a common path ('/downloads') a candidate (a 166 MB proxy log: 0.7 s -> 279 s).
            host = norm_url(v)[0]
            lits.add(host.rsplit(":", 1)[0] if host.count(":") == 1 else host)
        elif t in FILE_HASH_TYPES or t in CERT_TYPES:
            lits.add(v)
            if t in CERT_TYPES:
                lits.add(":".join(v[i : i + 2] for i in range(0, len(v), 2)))
    return {lit for lit in lits if lit}


class Prefilter:
    """Case-insensitive multi-literal search over raw bytes.

    Hyperscan (literal mode, caseless) scans at memory speed without a lowercasing pass;
    pyahocorasick is the fallback where no Hyperscan wheel exists (it needs lowercased input).
    """

    def __init__(self, literals: set[str], engine: str = "auto", cache_dir: str = "") -> None:
        """cache_dir: a folder for compiled databases of large literal sets (hs_cache.py); "" for none."""
        self.literals = sorted(literals)
        self.cache = ""  # "loaded" / "compiled, cached" / "compiled" (large sets with a cache folder)
        self._hs: Any = None
        self._ac: Any = None
        if not self.literals:
            return
        hyperscan: Any = None
        if engine in ("auto", "hyperscan"):
            try:
                import hyperscan
            except ImportError:  # only where no Hyperscan wheel exists; the fallback is tested directly
                if engine == "hyperscan":
                    raise
        if hyperscan is not None:
            self._hs = self._compile(hyperscan, cache_dir)
        else:
            import ahocorasick

            self._ac = ahocorasick.Automaton()
            for lit in self.literals:
                self._ac.add_word(lit, len(lit))
            self._ac.make_automaton()

    def _compile(self, hyperscan: Any, cache_dir: str) -> Any:
        mode, flags = hyperscan.HS_MODE_BLOCK, hyperscan.HS_FLAG_CASELESS
        key = ""
        if cache_dir and len(self.literals) >= hs_cache.CACHE_MIN:
            key = hs_cache.cache_key(hyperscan, self.literals, flags, mode)
            db = hs_cache.load(hyperscan, cache_dir, key, mode)
            if db is not None:
                self.cache = "loaded"
                return db
        db = hyperscan.Database(mode=mode)
        db.compile(expressions=[lit.encode("utf-8") for lit in self.literals], ids=list(range(len(self.literals))),
                   flags=[flags] * len(self.literals), literal=True)
        if key:
            self.cache = "compiled, cached" if hs_cache.store(hyperscan, cache_dir, key, db) else "compiled"
        return db

    def candidate_ends(self, data: bytes) -> list[int]:
        """End offsets (exclusive) of literal occurrences in data, in any order."""
        if self._hs is not None:
            ends: list[int] = []

            def on_match(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                ends.append(end)

            self._hs.scan(data, match_event_handler=on_match)
            return ends
        if self._ac is not None:
            return [end + 1 for end, _ in self._ac.iter(data.lower().decode("latin-1"))]
        return []

    def ends_by_literal(self, data: bytes) -> list[tuple[int, int]]:
        """(index in self.literals, end offset) of literal occurrences in data, in any order."""
        if self._hs is not None:
            out: list[tuple[int, int]] = []

            def on_match(lit_id: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                out.append((lit_id, end))

            self._hs.scan(data, match_event_handler=on_match)
            return out
        if self._ac is not None:
            index = {lit: i for i, lit in enumerate(self.literals)}
            text = data.lower().decode("latin-1")
            return [(index[text[end + 1 - n:end + 1]], end + 1) for end, n in self._ac.iter(text)
                    if text[end + 1 - n:end + 1] in index]
        return []

    def any_in(self, data: bytes | str) -> bool:
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        if self._hs is not None:
            found: list[bool] = []

            def on_match(_id: int, _start: int, _end: int, _flags: int, _ctx: object) -> bool:
                found.append(True)
                return True  # stop scanning

            try:
                self._hs.scan(raw, match_event_handler=on_match)
            except Exception as exc:  # hyperscan signals the requested stop with an error
                if not found:
                    raise exc
            return bool(found)
        if self._ac is not None:
            for _ in self._ac.iter(raw.lower().decode("latin-1")):
                return True
        return False
