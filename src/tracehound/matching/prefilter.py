"""Multi-literal prefilter over raw log bytes (Aho-Corasick).

Every line that could possibly match some indicator contains at least one of these literals
(lowercase): the registered domain or indicator domain, the IP text (also in expanded IPv6
and Windows DNS wire form), the URL host, the hash. Lines without any literal are never
parsed; candidates go through the exact matcher, so the prefilter may over-approximate but
never under-approximate.
"""

from __future__ import annotations

import ipaddress

import ahocorasick

from tracehound.intel.model import CERT_TYPES, FILE_HASH_TYPES, IType, Pack
from tracehound.matching.normalize import norm_url


def literals_for(pack: Pack) -> set[str]:
    lits: set[str] = set()
    for ind in pack.indicators:
        t, v = ind.type, ind.value
        if t is IType.DOMAIN:
            lits.add(v)
            lits.add("".join(f"({len(label)}){label}" for label in v.split(".")) + "(0)")  # Windows DNS debug form
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
            host = norm_url(v)[0].split(":")[0]
            lits.add(host)
        elif t in FILE_HASH_TYPES or t in CERT_TYPES:
            lits.add(v)
            if t in CERT_TYPES:
                lits.add(":".join(v[i : i + 2] for i in range(0, len(v), 2)))
    return {lit for lit in lits if lit}


class Prefilter:
    def __init__(self, literals: set[str]) -> None:
        self.literals = literals
        self.automaton = ahocorasick.Automaton()
        for lit in literals:
            self.automaton.add_word(lit, len(lit))
        if literals:
            self.automaton.make_automaton()

    def candidate_ends(self, text: str) -> list[int]:
        """End positions of literal hits in text (already lowercase)."""
        if not self.literals:
            return []
        return [end for end, _ in self.automaton.iter(text)]

    def any_in(self, text: str) -> bool:
        if not self.literals:
            return False
        for _ in self.automaton.iter(text):
            return True
        return False
