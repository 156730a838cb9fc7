"""Character-level allow-lists shared by pack canonicalisation and every exporter.

A value from a feed is attacker-controlled: a newline, a NUL or a Unicode line separator in an
indicator would add a line (a DNS record, an IDS rule, a firewall element) to every file
generated from it. This module says, once, what a value may contain; `canonical_value`
(intel/model.py) refuses anything else before it enters a pack, and the exporters check again
with the same functions before they write (outputs/exports/safety.py). The canonical forms of
domains and URLs live here too; `canonical_value` dispatches per type.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

MAX_VALUE_CHARS = 4096

# Unicode categories never allowed in a value: controls (incl. \r \n \t NUL U+0085), format
# characters (bidi overrides, zero-width, BOM), line/paragraph separators, surrogates, private use.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})

DOMAIN_RE = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")
_IP_CHARS = re.compile(r"[0-9a-fA-F:.]+")
_NET_CHARS = re.compile(r"[0-9a-fA-F:.]+(?:/[0-9]{1,3})?")
MIN_PREFIX = {4: 8, 6: 16}  # broader networks are a whole region of the Internet, not an indicator


class RejectedValue(ValueError):
    """A value refused by an allow-list; str() is the reason shown to people."""


def unsafe_char(value: str, allow_space: bool = True) -> str | None:
    """The first character a value may never hold, described ('control character U+000A'), or None."""
    if value.isprintable() and (allow_space or " " not in value):
        return None  # printable: no control, format, surrogate, private-use or separator but the ASCII space
    for ch in value:
        if ch == " " and allow_space:
            continue
        cat = unicodedata.category(ch)
        if cat in _BAD_CATEGORIES:
            kind = {"Zl": "line separator", "Zp": "paragraph separator", "Cf": "format character"}.get(cat, "control character")
            return f"{kind} U+{ord(ch):04X}"
        if cat.startswith("Z"):
            return "space" if ch == " " else f"separator U+{ord(ch):04X}"
    return None


def check_chars(value: str, allow_space: bool = True) -> None:
    if len(value) > MAX_VALUE_CHARS:
        raise RejectedValue(f"longer than {MAX_VALUE_CHARS} characters")
    bad = unsafe_char(value, allow_space)
    if bad:
        raise RejectedValue(bad)


def one_line(text: str) -> str:
    """Free text (a comment, a title) with every control, format and separator character made a space."""
    return "".join(" " if ch != " " and unsafe_char(ch) else ch for ch in text)


def visible(value: str, limit: int = 160) -> str:
    """A value with every unsafe character written as an escape (\\n, \\u2028), cut to limit."""
    out = []
    for ch in value[: limit + 1]:
        if ch != " " and unsafe_char(ch):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    text = "".join(out)
    return text[:limit] + "…" if len(value) > limit else text


def is_dns_name(value: str) -> bool:
    """An ASCII (punycode) host name of two or more labels; no wildcard, no trailing newline."""
    return DOMAIN_RE.fullmatch(value) is not None


def strict_ip(value: str) -> str:
    """Canonical text of an IPv4/IPv6 address; refuses scope ids ('%eth0') and anything but hex, ':' and '.'."""
    if "%" in value:
        raise RejectedValue("IPv6 scope id ('%...') is not part of an indicator")
    if not _IP_CHARS.fullmatch(value):
        raise RejectedValue(f"not an IP address: {visible(value, 60)!r}")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise RejectedValue(str(exc)) from exc


def strict_network(value: str) -> str:
    """Canonical text of a CIDR network ('a.b.c.d/n'); same allow-list as strict_ip plus '/n'."""
    if "%" in value:
        raise RejectedValue("IPv6 scope id ('%...') is not part of an indicator")
    if not _NET_CHARS.fullmatch(value):
        raise RejectedValue(f"not a CIDR network: {visible(value, 60)!r}")
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise RejectedValue(str(exc)) from exc
    if net.prefixlen < MIN_PREFIX[net.version]:
        raise RejectedValue(f"network /{net.prefixlen} too broad to be an indicator (at most /{MIN_PREFIX[net.version]})")
    return str(net)


def canonical_domain(value: str) -> str:
    v = value.lower().rstrip(".")
    if "*" in v:
        raise RejectedValue("wildcard host: an indicator names one host")
    if not v.isascii():
        try:
            v = v.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"invalid internationalised domain {value!r}") from exc
    if not is_dns_name(v):
        raise ValueError(f"invalid domain {value!r}")
    return v


_AUTHORITY = re.compile(r"([a-z][a-z0-9+.-]*)://([^/?#]*)(.*)", re.I | re.S)


def canonical_url(value: str) -> str:
    """Lowercase scheme and host, drop default ports; keep path, query and case of the path.

    The host must be a valid domain (punycode), IPv4 or bracketed IPv6 without scope id, never a
    wildcard; a raw space becomes %20 and percent-escapes stay as written (a %0A is never decoded
    into a newline in the pack). A URL given without scheme stays without scheme: matching is
    scheme-agnostic anyway and inventing 'http://' would misstate the advisory.
    """
    v = value.strip(" \t\r\n")
    check_chars(v)
    v = v.replace(" ", "%20")
    m = _AUTHORITY.fullmatch(v)
    if m:
        scheme, authority, rest = m.group(1).lower(), m.group(2), m.group(3)
    else:
        cut = re.search(r"[/?#]", v)
        scheme, authority, rest = "", v[: cut.start()] if cut else v, v[cut.start():] if cut else ""
    userinfo, at, hostport = authority.rpartition("@")
    host, port = _split_port(hostport.lower().rstrip("."), value)
    if scheme == "http" and port == "80" or scheme == "https" and port == "443":
        port = ""
    return f"{scheme + '://' if scheme else ''}{userinfo}{at}{host}{':' + port if port else ''}{rest}"


def _split_port(hostport: str, value: str) -> tuple[str, str]:
    if not hostport:
        raise ValueError(f"URL without host {value!r}")
    if "*" in hostport:
        raise RejectedValue("wildcard host in URL: an indicator names one host")
    port = ""
    if hostport.startswith("["):
        inner, _, after = hostport[1:].partition("]")
        if after and not (re.fullmatch(r":\d{1,5}", after) and int(after[1:]) <= 65535):
            raise ValueError(f"invalid port in URL {value!r}")
        ip = strict_ip(inner.replace("%25", "%"))
        if ":" not in ip:
            raise ValueError(f"bracketed host is not IPv6 in {value!r}")
        return f"[{ip}]", after[1:]
    if hostport.count(":") == 1:
        hostport, port = hostport.split(":")
        if not (re.fullmatch(r"\d{1,5}", port) and int(port) <= 65535):
            raise ValueError(f"invalid port in URL {value!r}")
    if re.fullmatch(r"[0-9.]+", hostport):
        return strict_ip(hostport), port
    return canonical_domain(hostport), port


# --- host artefacts: file paths and registry keys ---------------------------------------------

# Registry roots as advisories write them, to the short form used in packs (HKLM\SOFTWARE\...).
REGISTRY_ROOTS = {
    "hkey_local_machine": "HKLM", "hklm": "HKLM",
    "hkey_current_user": "HKCU", "hkcu": "HKCU",
    "hkey_users": "HKU", "hku": "HKU",
    "hkey_classes_root": "HKCR", "hkcr": "HKCR",
    "hkey_current_config": "HKCC", "hkcc": "HKCC",
}
_WIN_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_WIN_ENV = re.compile(r"%[A-Za-z_][A-Za-z0-9_()]*%(?:[\\/]|\Z)")
_WIN_UNC = re.compile(r"\\\\[^\\/]+[\\/][^\\/]+")
_WIN_BAD = re.compile(r'["|\x00]')


def path_platform(path: str) -> str:
    """'windows' for drive, %ENV% and UNC paths, 'posix' for '/' and '~/' paths, '' otherwise."""
    if _WIN_DRIVE.match(path) or _WIN_ENV.match(path) or _WIN_UNC.match(path):
        return "windows"
    if path.startswith("/") or path.startswith("~/"):
        return "posix"
    return ""


def canonical_path(value: str) -> str:
    """Canonical file path: Windows paths with backslashes (drive letter upper case, case of the rest kept:
    matching is case-insensitive there), POSIX paths with single slashes; no trailing separator, no '.'/'..'
    component, at least one component below the root. Placeholders ('<GUID>', '*', '?') stay as written."""
    v = value.strip(" \t\r\n").strip('"').strip("'")
    check_chars(v)
    kind = path_platform(v)
    if not kind:
        raise ValueError(f"not an absolute file path: {visible(v, 80)!r}")
    if kind == "windows":
        if _WIN_BAD.search(v):
            raise ValueError(f"character not allowed in a Windows path: {visible(v, 80)!r}")
        unc = v.startswith("\\\\")
        parts = [p for p in re.split(r"[\\/]+", v[2:] if unc else v) if p]
        if any(p in (".", "..") for p in parts):
            raise ValueError(f"'.' or '..' in a path indicator: {visible(v, 80)!r}")
        if len(parts) < 2:
            raise ValueError(f"a path indicator names something below the root: {visible(v, 80)!r}")
        if re.fullmatch(r"[A-Za-z]:", parts[0]):
            parts[0] = parts[0].upper()
        return ("\\\\" if unc else "") + "\\".join(parts)
    home = v.startswith("~/")
    parts = [p for p in (v[2:] if home else v).split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"'.' or '..' in a path indicator: {visible(v, 80)!r}")
    if not parts:
        raise ValueError(f"a path indicator names something below the root: {visible(v, 80)!r}")
    return ("~/" if home else "/") + "/".join(parts)


def canonical_registry_key(value: str) -> str:
    """Canonical registry key: 'HKLM\\SOFTWARE\\...' from HKEY_LOCAL_MACHINE\\..., HKLM:\\... (PowerShell),
    Computer\\HKEY_... (regedit) or 'HKLM/...'; single backslashes, no trailing one, case kept (keys
    compare case-insensitively). A key must start with a root and name something below it."""
    v = value.strip(" \t\r\n").strip('"').strip("'")
    check_chars(v)
    if v.lower().startswith("computer\\"):
        v = v[len("computer\\"):]
    parts = [p for p in v.replace("/", "\\").split("\\")]
    root = parts[0].rstrip(":").lower()
    if root not in REGISTRY_ROOTS:
        raise ValueError(f"registry key without a known root (HKLM, HKCU, HKU, HKCR, HKCC): {visible(v, 80)!r}")
    rest_parts = parts[1:]
    while rest_parts and rest_parts[-1] == "":
        rest_parts.pop()
    if not rest_parts or any(p == "" for p in rest_parts):
        raise ValueError(f"empty registry key component in {visible(v, 80)!r}")
    return "\\".join([REGISTRY_ROOTS[root], *rest_parts])
