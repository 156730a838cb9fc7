"""Turn a flat record of named fields into an Observation through a synonym table (synonyms.py).

Shared by the header-aware CSV/JSON readers and the key=value syslog readers: one place decides
how a value becomes a source address, a destination host or a URL, so every format agrees.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tracehound.sources.logs.observation import Observation, RecordError, clean, host_of
from tracehound.sources.logs.readers.base import json_object

_HOSTLIKE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_-]+)+(?::\d{1,5})?(?=[/?#]|$)")
_TZ = re.compile(r"^([+-])(\d{1,2}):?(\d{2})$")


def json_record(line: str) -> dict[str, Any]:
    """base.json_object, with every decoder failure (a 5,000-digit number raises ValueError) a RecordError."""
    try:
        return json_object(line)
    except RecordError:
        raise
    except (ValueError, RecursionError) as exc:
        raise RecordError(f"invalid JSON: {str(exc)[:60]}") from exc


def norm(key: str) -> str:
    return key.strip().lstrip("\ufeff").strip('"').lower().replace("-", "_").replace(" ", "_")


class FieldTable:
    """A synonym table with its names normalised once."""

    def __init__(self, table: dict[str, tuple[str, ...]]) -> None:
        self.targets = tuple(table)
        self.names = {t: tuple(norm(n) for n in names) for t, names in table.items()}

    def value(self, flat: dict[str, str], target: str, mapping: dict[str, str] | None = None) -> str:
        names = (norm(mapping[target]),) if mapping and target in mapping else self.names.get(target, ())
        for n in names:
            v = clean(flat.get(n))
            if v:
                return v
        return ""


def flatten(obj: dict[str, Any], prefix: str = "", out: dict[str, str] | None = None,
            depth: int = 0) -> dict[str, str]:
    """Nested JSON -> {normalised dotted key: scalar text}; lists keep their first scalar."""
    out = {} if out is None else out
    if depth > 16:
        return out
    for k, v in obj.items():
        key = f"{prefix}{norm(str(k))}"
        if isinstance(v, dict):
            out.setdefault(key, "")
            flatten(v, key + ".", out, depth + 1)
        elif isinstance(v, list):
            first = next((x for x in v if x is not None and not isinstance(x, dict | list)), None)
            if first is not None:
                out.setdefault(key, str(first))
        elif v is not None:
            out.setdefault(key, str(v))
    return out


def ip_of(value: str) -> str:
    """An address from 'ip', 'ip:port', 'ip:port:iface' (SonicWall), '[v6]:port'; '' when none."""
    v = value.strip()
    if v.startswith("["):
        v = v[1:].split("]", 1)[0]
    for cand in (v, v.split(":", 1)[0], v.split("/", 1)[0], v.split("%", 1)[0]):
        try:
            return str(ipaddress.ip_address(cand))
        except ValueError:
            continue
    return ""


def _tz(text: str) -> timezone | None:
    m = _TZ.match(text.strip())
    if not m:
        return None
    delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return timezone(-delta if m.group(1) == "-" else delta)


def parse_time(value: str, tz: str = "") -> datetime | None:
    """Epoch (s, ms, us or ns) or ISO 8601 / 'YYYY-MM-DD HH:MM:SS' / 'Mon DD YYYY HH:MM:SS'; None when unreadable.
    A time without zone gets tz (e.g. FortiGate's tz="+0200") or UTC."""
    v = value.strip().strip('"')
    if not v:
        return None
    if re.fullmatch(r"\d{9,19}(?:\.\d+)?", v):
        digits = len(v.split(".", 1)[0])
        scale = 1 if digits <= 11 else 1e3 if digits <= 14 else 1e6 if digits <= 17 else 1e9
        try:
            return datetime.fromtimestamp(float(v) / scale, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    v = re.sub(r"([+-])-?(\d):(\d\d)$", r"\g<1>0\2:\3", v.replace("--", "-"))  # Check Point '--5:00'
    v = re.sub(r"(\.\d{6})\d+", r"\1", v)  # 7-digit fractions (Windows, Azure)
    dt: datetime | None = None
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        for fmt in ("%b %d %Y %H:%M:%S", "%b %d %Y %H:%M:%S.%f", "%d/%b/%Y:%H:%M:%S %z", "%Y/%m/%d %H:%M:%S",
                    "%m/%d/%Y %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p"):
            try:
                dt = datetime.strptime(v, fmt)
                break
            except ValueError:
                continue
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=_tz(tz) or UTC)).astimezone(UTC)


def _url(raw: str, domain: str, path: str, port: int | None) -> str:
    """A full URL from a URL field, or from a host plus a path in separate fields."""
    if "://" in raw:
        return raw
    scheme = "https" if port == 443 else "http"
    if raw.startswith("/") and domain:
        return f"{scheme}://{domain}{raw}"
    if raw and _HOSTLIKE.match(raw):
        full = f"{scheme}://{raw}"
        if path and "/" not in raw.split("://", 1)[-1]:
            full += path if path.startswith("/") else "/" + path
        return full
    if not raw and path and domain:
        return f"{scheme}://{domain}{path if path.startswith('/') else '/' + path}"
    return ""


def observation(flat: dict[str, str], table: FieldTable, mapping: dict[str, str] | None = None,
                ts: datetime | None = None, kind: str = "") -> Observation:
    """One observation from a flat record (keys normalised with norm())."""
    def val(target: str) -> str:
        return table.value(flat, target, mapping)

    if ts is None:
        ts = parse_time(val("@timestamp"))
    port_s = val("destination.port")
    port = int(port_s) if port_s.isdigit() and int(port_s) < 65536 else None
    src = val("source.ip")
    dst_raw = val("destination.ip")
    dst = ip_of(dst_raw) if dst_raw else ""
    domain = val("destination.domain")
    domain = host_of(domain.split("://", 1)[-1].split("/", 1)[0]) if domain else ""
    if domain and ip_of(domain) and not re.search(r"[a-z]", domain.split(":")[0]):
        dst, domain = dst or ip_of(domain), ""
    url = _url(val("url.full"), domain, val("url.path"), port)
    if url:
        host = host_of(re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0].rsplit("@", 1)[-1])
        if ip_of(host) and not re.search(r"[a-z]", host):
            dst = dst or ip_of(host)
        elif not domain:
            domain = host
    hashes = {k: val(f"file.hash.{k}").lower() for k in ("md5", "sha1", "sha256")
              if re.fullmatch(r"[0-9A-Fa-f]{32,64}", val(f"file.hash.{k}"))}
    src_ip = ip_of(src) if src else ""
    src_host = val("host.name") or ("" if src_ip else src)  # a source field holding a name names the host
    return Observation(ts=ts, kind=kind or ("http" if url else "dns" if domain and not dst else "flow"),
                       src_ip=src_ip, src_host=src_host, user=val("user.name"),
                       domain=domain.lower().rstrip("."), dst_ip=dst, dst_port=port, url=url, hashes=hashes)
