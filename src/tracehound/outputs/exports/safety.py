"""What an exporter may write: one set of checks for every line-oriented format.

Packs are canonical (intel/model.py refuses control characters, scope ids and wildcard hosts
before a value enters a pack), but an exporter never relies on that: each value is checked
again here against the grammar it is written into, so a value that slipped through (a pack
built in code, a future reader) still cannot add a line, a rule or a directive. A refused
value is recorded on the selection with the reason and listed in the export README.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

from tracehound.intel.values import RejectedValue, is_dns_name, strict_ip, strict_network, unsafe_char
from tracehound.matching.normalize import norm_url

if TYPE_CHECKING:
    from tracehound.intel.model import Indicator
    from tracehound.outputs.exports.select import Selection

T = TypeVar("T")
_HEX = re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}")


class Refused(ValueError):
    """A value this format cannot carry safely; str() is the reason written to the README."""


def line_safe(value: str, allow_space: bool = False) -> str:
    """The value itself when it holds no control, format or separator character (nor a space
    unless allowed): the shared test for every format that is one entry a line or a field."""
    bad = unsafe_char(value, allow_space) or ("empty value" if not value else None)
    if bad:
        raise Refused(f"{bad}: would break the line")
    return value


def dns_name(value: str) -> str:
    """A name every resolver syntax takes as one owner name: punycode labels only, no wildcard."""
    line_safe(value)
    if not is_dns_name(value):
        raise Refused("not a plain DNS name (letters, digits, '-', '_' and dots; punycode for IDNs)")
    return value


def address(value: str) -> tuple[str, int]:
    """Canonical text and IP version of an address or CIDR network (no scope id, nothing else)."""
    line_safe(value)
    try:
        text = strict_network(value) if "/" in value else strict_ip(value)
    except RejectedValue as exc:
        raise Refused(str(exc)) from exc
    return text, 6 if ":" in text else 4


def hex_digest(value: str) -> str:
    if not _HEX.fullmatch(value):
        raise Refused("not a lowercase hex digest")
    return value


def escape_path(path: str) -> str:
    """A URL path with every space and unsafe character percent-encoded again (the matcher's
    norm_url decodes %0A into a newline; an export must never write that newline)."""
    return "".join(quote(ch, safe="") if ch == " " or unsafe_char(ch) else ch for ch in path)


def url_parts(value: str, decoded: bool = False) -> tuple[str, str]:
    """(host[:port], path) of a URL for exports: the host a DNS name or an IP, never '*', the
    path re-escaped so it holds no raw control character or space. decoded=True keeps the
    percent-decoded path, for grammars that write every byte as hex (a Suricata content)."""
    line_safe(value)
    host, path = norm_url(value)
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    if port and not port.isdigit():
        raise Refused("bad port")
    if "*" in name:
        raise Refused("wildcard host: a URL indicator names one host")
    try:
        if not is_dns_name(name):
            strict_ip(name)
    except RejectedValue as exc:
        raise Refused(f"URL host is neither a DNS name nor an IP address ({exc})") from exc
    return host, path if decoded else escape_path(path)


def keep(sel: Selection, fmt: str, inds: Iterable[Indicator], check: Callable[[Indicator], T]) -> list[tuple[Indicator, T]]:
    """(indicator, checked form) for each indicator check accepts; the others recorded as refused by fmt."""
    out: list[tuple[Indicator, T]] = []
    for ind in inds:
        try:
            out.append((ind, check(ind)))
        except Refused as exc:
            sel.refused.append((fmt, ind, str(exc)))
    return out
