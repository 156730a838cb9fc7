"""Name resolution pinned on the host: the hosts file (an attacker may pin a C2 name; a
defender may have sinkholed one, which is reported as information, not compromise)."""

from __future__ import annotations

from tracehound.matching.matcher import Matcher
from tracehound.matching.normalize import norm_ip

HOSTS_FILES = ("etc/hosts", "private/etc/hosts", "windows/system32/drivers/etc/hosts")
SINKHOLES = {"0.0.0.0", "127.0.0.1", "::", "::1"}


def is_hosts_file(rel_path: str) -> bool:
    return rel_path.lower() in HOSTS_FILES


def hosts_entries(text: str, matcher: Matcher) -> list[tuple[int, str, str, str]]:
    """(line, ip, name, verdict) for entries that name an indicator domain or IP."""
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].split()
        if len(line) < 2:
            continue
        ip = norm_ip(line[0])
        for name in line[1:]:
            d = matcher.domain(name)
            i = matcher.ip(ip) if ip else None
            if d is None and i is None:
                continue
            verdict = "info" if ip in SINKHOLES and i is None else "compromised" if i is not None else "suspicious"
            out.append((n, ip, name, verdict))
    return out
