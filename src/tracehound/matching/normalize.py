"""Normalization shared by the matcher and every engine (local, Spark): one definition of
'same domain', 'same URL', 'same IP'."""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote


def norm_domain(value: str) -> str:
    v = value.strip().lower().rstrip(".")
    if v.startswith("[") or (v.count(":") == 1 and v.rsplit(":", 1)[1].isdigit()):
        v = v.rsplit(":", 1)[0].strip("[]")
    return v


def label_suffixes(domain: str) -> list[str]:
    """'a.b.example.com' -> ['a.b.example.com', 'b.example.com', 'example.com', 'com']."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def split_zone(value: str) -> tuple[str, str]:
    """('fe80::1', 'eth0') from 'fe80::1%eth0' (or '[fe80::1%25eth0]'); (value, '') without a zone."""
    v = value.strip().strip("[]")
    addr, sep, zone = v.partition("%")
    if not sep:
        return v, ""
    return addr, zone[2:] if zone.startswith("25") and len(zone) > 2 else zone


def norm_ip(value: str) -> str:
    """Canonical address text, or '' when the value is not an address. An IPv6 zone id ('%eth0',
    '%12') is dropped on purpose: it names the observer's interface, not the peer, so an observed
    fe80::1%eth0 is the indicator fe80::1 (the hunt counts such matches: ZONE_NOTE). An IPv4 address
    has no zones: '10.0.0.1%x' is not an address."""
    v, zone = split_zone(value)
    if zone and ":" not in v:
        return ""
    if v.startswith("::ffff:") and v.count(".") == 3:
        v = v[7:]
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        return ""


ZONE_NOTE = "IPv6 zone id ignored when matching (an observed fe80::1%eth0 is the indicator fe80::1)"


def has_zone(value: str) -> bool:
    """True for an IPv6 address with a zone id (what norm_ip drops)."""
    v, zone = split_zone(value)
    return bool(zone) and ":" in v and bool(norm_ip(value))


_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}


def norm_url(value: str) -> tuple[str, str]:
    """(host, path-and-query) of a URL, scheme dropped, default port dropped, host lowercased,
    path percent-decoded (so /%49conStorages matches /IconStorages)."""
    v = value.strip()
    scheme = ""
    if "://" in v:
        scheme, v = v.split("://", 1)
        scheme = scheme.lower()
    cut = len(v)
    for sep in "/?#":
        i = v.find(sep)
        if i != -1:
            cut = min(cut, i)
    hostport, rest = v[:cut], v[cut:]
    hostport = hostport.rsplit("@", 1)[-1].lower()
    if hostport.startswith("["):
        host = hostport[1:].split("]", 1)[0]
    elif hostport.count(":") == 1:
        host, port = hostport.split(":", 1)
        if port and port != _DEFAULT_PORTS.get(scheme, port) and not (not scheme and port in ("80", "443")):
            host = f"{host}:{port}"
    else:
        host = hostport
    rest = rest.split("#", 1)[0]
    return host.rstrip("."), unquote(rest) if rest else "/"


def path_prefix_match(path: str, prefix: str) -> bool:
    """Prefix on a path-segment boundary: /a/b matches /a/b, /a/b/c, /a/b?x, not /a/bc."""
    if prefix in ("", "/"):
        return True
    p = prefix.rstrip("/")
    return path == p or path.startswith(p + "/") or path.startswith(p + "?") or path == p + "/"
