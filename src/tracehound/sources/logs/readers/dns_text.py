"""Text DNS server logs: Windows DNS Server debug log, BIND query log, dnsmasq."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.timeparse import syslog_time

_WINDNS = re.compile(
    r"^(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4})\s+(\d{1,2}:\d{2}:\d{2})(?:\s+(AM|PM))?\s+\S+\s+PACKET\s+\S+\s+(UDP|TCP)\s+"
    r"(Snd|Rcv)\s+(\S+)\s+\S+\s+(R)?\s*\S\s+\[[^\]]*\]\s+(\S+)\s+(\S+)")
_LABELS = re.compile(r"\((\d{1,2})\)")


def wire_to_dotted(name: str) -> str:
    """'(3)www(15)akamaicontainer(3)com(0)' -> 'www.akamaicontainer.com'."""
    parts = [p for p in _LABELS.split(name)[2::2] if p]
    return ".".join(parts).lower()


class WindowsDnsReader(Reader):
    name = "windns"
    description = "Windows DNS Server debug log"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return sum(1 for ln in lines[:80] if " PACKET " in ln and _WINDNS.match(ln)) >= 1

    def parse(self, line: str) -> list[Observation]:
        if " PACKET " not in line:
            return []  # the log interleaves non-packet lines (headers, EVENT lines)
        m = _WINDNS.match(line)
        if not m:
            raise RecordError("not a Windows DNS debug PACKET line")
        date, time, ampm, _proto, direction, remote, response, qtype, qname = m.groups()
        if (direction == "Rcv") == bool(response):
            return []  # forwarder traffic (query sent upstream / answer received): not a client
        fmt = "%m/%d/%Y %I:%M:%S %p" if ampm else ("%Y-%m-%d %H:%M:%S" if "-" in date else "%m/%d/%Y %H:%M:%S")
        try:
            ts = datetime.strptime(f"{date} {time}" + (f" {ampm}" if ampm else ""), fmt).replace(tzinfo=UTC)
        except ValueError:
            ts = None
        return [Observation(ts=ts, kind="dns", src_ip=remote, domain=wire_to_dotted(qname))]


# Two linear searches instead of one regex with `\s+.*?client` (quadratic on long runs of spaces):
# BIND's own timestamp at the start of the line, then the first 'client ... query:' that parses.
_BIND_STAMP = re.compile(r"(\d{2}-\w{3}-\d{4} \d{2}:\d{2}:\d{2})(?:\.\d+)?\s")
_BIND = re.compile(r"client (?:@\S+ )?([0-9A-Fa-f.:]+)#\d+(?: \([^)]*\))?: (?:view \S+: )?query: (\S+) IN (\S+)")
_SYSLOG_TS = re.compile(r"^(\w{3}\s+\d{1,2} \d{2}:\d{2}:\d{2})\s+(\S+)\s")


class BindReader(Reader):
    name = "bind"
    description = "BIND named query log"

    def __init__(self, mapping: dict[str, str] | None = None, ref_time: datetime | None = None) -> None:
        super().__init__(mapping)
        self.ref_time = ref_time

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return sum(1 for ln in lines[:50] if _BIND.search(ln)) >= 1

    def parse(self, line: str) -> list[Observation]:
        m = _BIND.search(line)
        if not m:
            if "query:" in line:
                raise RecordError("unrecognised BIND query line")
            return []
        client, qname, _qtype = m.groups()
        sm0 = _BIND_STAMP.match(line)
        stamp = sm0.group(1) if sm0 else None
        ts = None
        if stamp:
            try:
                ts = datetime.strptime(stamp, "%d-%b-%Y %H:%M:%S").replace(tzinfo=UTC)
            except ValueError as exc:
                raise RecordError("bad BIND timestamp") from exc
        else:
            sm = _SYSLOG_TS.match(line)
            ts = syslog_time(sm.group(1), self.ref_time) if sm else None
        return [Observation(ts=ts, kind="dns", src_ip=client, domain=qname.lower().rstrip("."))]


_DNSMASQ = re.compile(r"^(\w{3}\s+\d{1,2} \d{2}:\d{2}:\d{2})\s+(?:\S+\s+)?dnsmasq\[\d+\]: query\[(\w+)\] (\S+) from (\S+)")


class DnsmasqReader(Reader):
    name = "dnsmasq"
    description = "dnsmasq query log (log-queries)"

    def __init__(self, mapping: dict[str, str] | None = None, ref_time: datetime | None = None) -> None:
        super().__init__(mapping)
        self.ref_time = ref_time

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return sum(1 for ln in lines[:50] if "dnsmasq[" in ln) >= 1

    def parse(self, line: str) -> list[Observation]:
        if "dnsmasq[" not in line:
            raise RecordError("not a dnsmasq line")
        m = _DNSMASQ.match(line)
        if not m:
            return []  # reply/forwarded/cached lines: the query line already names client and domain
        stamp, _qtype, qname, client = m.groups()
        return [Observation(ts=syslog_time(stamp, self.ref_time), kind="dns", src_ip=client,
                            domain=qname.lower().rstrip("."))]
