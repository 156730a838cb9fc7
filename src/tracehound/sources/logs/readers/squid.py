"""Squid native access.log and Apache/NCSA combined logs (proxy mode)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tracehound.sources.logs.observation import Observation, RecordError, clean, epoch, host_of
from tracehound.sources.logs.readers.base import Reader, mostly_match

_SQUID = re.compile(
    r"^(\d{9,11}(?:\.\d+)?)\s+(-?\d+)\s+(\S+)\s+(\S+)/(\d{1,3})\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/(\S+)(?:\s+(\S+))?")


def split_url(method: str, target: str) -> tuple[str, str, int | None]:
    """(host, full url or '', port) from a proxy request target."""
    if method.upper() == "CONNECT" or "://" not in target:
        host = host_of(target)
        port = target.rsplit(":", 1)[1] if target.count(":") == 1 else ""
        return host, "", int(port) if port.isdigit() else None
    rest = target.split("://", 1)[1]
    hostport = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    port_s = hostport.rsplit(":", 1)[1] if hostport.count(":") == 1 else ""
    return host_of(hostport), target, int(port_s) if port_s.isdigit() else None


class SquidReader(Reader):
    name = "squid"
    description = "Squid native access.log"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return mostly_match(lines, _SQUID)

    def parse(self, line: str) -> list[Observation]:
        m = _SQUID.match(line)
        if not m:
            raise RecordError("not a Squid access.log line")
        ts, _el, client, code, _status, _bytes, method, target, user, _hier, peer, _ctype = m.groups()
        host, url, port = split_url(method, target)
        return [Observation(
            ts=epoch(ts), kind="connect" if method.upper() == "CONNECT" else "http", src_ip=client,
            user=clean(user), domain=host, dst_ip=clean(peer) if re.match(r"^[0-9a-fA-F.:]+$", peer) else "",
            dst_port=port, url=url, method=method.upper(), action="denied" if "DENIED" in code else "",
        )]


_NCSA = re.compile(
    r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "(\S+) (\S+)(?: [^"]*)?" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?')


def ncsa_time(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)
    except ValueError as exc:
        raise RecordError(f"bad NCSA timestamp {value[:40]!r}") from exc


class NcsaReader(Reader):
    name = "ncsa"
    description = "Apache/NCSA common or combined log (forward-proxy or web server)"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return mostly_match(lines, _NCSA)

    def parse(self, line: str) -> list[Observation]:
        m = _NCSA.match(line)
        if not m:
            raise RecordError("not an NCSA/combined log line")
        client, _ident, user, ts, method, target, status, _size, referer, _ua = m.groups()
        host, url, port = split_url(method, target)
        if not url and method.upper() != "CONNECT":
            host = ""  # web-server log: the request names a path on this server, not a destination
        # Squid's "combined" logformat appends %Ss:%Sh (e.g. TCP_DENIED:HIER_NONE) after the user agent
        tail = line[m.end():].split()
        action = "denied" if tail and "DENIED" in tail[-1].upper() else ""
        return [Observation(ts=ncsa_time(ts), kind="connect" if method.upper() == "CONNECT" else "http",
                            src_ip=client, user=clean(user), domain=host, dst_port=port, url=url, method=method.upper(),
                            action=action)]
