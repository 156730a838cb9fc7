"""pfSense / OPNsense syslog: filterlog (packet filter CSV), unbound query lines and the Squid package.

filterlog CSV (pfSense's documented raw filter log format): rule, sub-rule, anchor, tracker,
interface, reason, action, direction, IP version, then for IPv4 tos, ecn, ttl, id, offset, flags,
protocol id, protocol, length, source, destination[, source port, destination port, ...] and for
IPv6 class, flow label, hop limit, protocol, protocol id, length, source, destination[, ports ...].
"""

from __future__ import annotations

import re
from datetime import datetime

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.fieldmap import ip_of, parse_time
from tracehound.sources.logs.readers.registry import register
from tracehound.sources.logs.readers.squid import split_url
from tracehound.sources.logs.readers.sysloghead import header_time

_PROG = re.compile(r"\s(filterlog|unbound|\(?squid[\w-]*\)?)(?:\[\d+\]:| \d+ - (?:\[[^\]]*\]|-))\s")
_UNBOUND = re.compile(r"info: ([0-9A-Fa-f.:]+) (\S+?)\.? (\w+) IN\b")
_SQUID = re.compile(r"(\d{9,11}\.\d+)\s+(-?\d+)\]?(?:\([^)]*\))?\s+(\S+)\s+(\S+)/\d{3}\s+\d+\s+(\S+)\s+(\S+)\s+(\S+)"
                    r"\s+\S+/(\S+)")


@register(260)
class PfsenseReader(Reader):
    name = "pfsense"
    description = "pfSense/OPNsense syslog (filterlog, unbound queries, Squid package)"

    def __init__(self, mapping: dict[str, str] | None = None, ref_time: datetime | None = None) -> None:
        super().__init__(mapping)
        self.ref_time = ref_time

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        data = [ln for ln in lines if ln.strip()][:20]
        return bool(data) and sum(1 for ln in data if _PROG.search(ln[:200])) >= max(1, len(data) // 2)

    def parse(self, line: str) -> list[Observation]:
        m = _PROG.search(line[:300])
        if not m:
            raise RecordError("not a filterlog, unbound or squid line")
        ts, _host = header_time(line, self.ref_time)
        body = line[m.end():]
        prog = m.group(1)
        if prog == "filterlog":
            f = body.strip().split(",")
            if len(f) < 17 or f[8] not in ("4", "6"):
                raise RecordError("filterlog record too short or without IP version")
            s, d = (18, 19) if f[8] == "4" else (15, 16)
            if len(f) <= d:
                raise RecordError("filterlog record without addresses")
            dport = f[d + 2] if len(f) > d + 2 else ""
            return [Observation(ts=ts, kind="flow", src_ip=ip_of(f[s]), dst_ip=ip_of(f[d]),
                                dst_port=int(dport) if dport.isdigit() and int(dport) < 65536 else None,
                                action=f[6])]
        if prog == "unbound":
            q = _UNBOUND.search(body)
            if not q:
                raise RecordError("unbound line without a query")
            return [Observation(ts=ts, kind="dns", src_ip=ip_of(q.group(1)), domain=q.group(2).lower().rstrip("."))]
        sq = _SQUID.search(body)
        if not sq:
            raise RecordError("squid line not in native access.log layout")
        host, url, port = split_url(sq.group(5), sq.group(6))
        return [Observation(ts=parse_time(sq.group(1)) or ts, kind="connect" if sq.group(5) == "CONNECT" else "http",
                            src_ip=ip_of(sq.group(3)), domain=host, url=url, dst_port=port, method=sq.group(5).upper(),
                            dst_ip=ip_of(sq.group(8)), user="" if sq.group(7) == "-" else sq.group(7))]
