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


def norm_ip(value: str) -> str:
    v = value.strip().strip("[]")
    if v.startswith("::ffff:") and v.count(".") == 3:
        v = v[7:]
    try:
        return str(ipaddress.ip_address(v.split("%", 1)[0]))
    except ValueError:
        return ""


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
