"""Cisco ASA / PIX / Firepower Threat Defense connection syslog messages.

302013/302015/302017/302020 (Built ... connection), 302014/302016/302018/302021 (Teardown),
106023/106100/106001/106015 (access denied or permitted), 305011/305012 (translations), and FTD
connection events 430002/430003 (`Key: value, ...`). For Built messages the direction decides who
initiated: "inbound" -> the first address is the source, "outbound" -> the second (Cisco's message
reference). Teardown messages carry no direction: the non-global side of a private/global pair is
taken as the source, otherwise the first address.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader, mostly_match
from tracehound.sources.logs.readers.fieldmap import FieldTable, norm, observation
from tracehound.sources.logs.readers.registry import register
from tracehound.sources.logs.readers.sysloghead import header_time

_TAG = re.compile(r"%(?:ASA|PIX|FTD|FWSM)-\d-(\d{6}):")
_EP = r"(?:[\w.-]+):([0-9A-Fa-f.:]+?)/(\d+)"  # interface:address/port
_BUILT = re.compile(rf"Built (inbound|outbound) (\w+) connection \d+ for {_EP}(?: \([^)]*\))? to {_EP}")
_TEAR = re.compile(rf"Teardown (\w+) connection \d+ for {_EP} to {_EP}")
_ICMP = re.compile(r"(?:Built|Teardown) (?:(inbound|outbound) )?ICMP connection for faddr ([0-9A-Fa-f.:]+)/\d+"
                   r"(?:\([^)]*\))? gaddr [0-9A-Fa-f.:]+/\d+ laddr ([0-9A-Fa-f.:]+)")
_106023 = re.compile(r"Deny (\w+) src [\w.-]+:([0-9A-Fa-f.:]+?)(?:/(\d+))? dst [\w.-]+:([0-9A-Fa-f.:]+?)(?:/(\d+))?"
                     r"(?: |$)")
_106100 = re.compile(r"access-list \S+ (permitted|denied|est-allowed) (\w+) [\w.-]+/([0-9A-Fa-f.:]+)\((\d+)\)"
                     r" -> [\w.-]+/([0-9A-Fa-f.:]+)\((\d+)\)")
_106001 = re.compile(r"(?:Inbound|Outbound)?\s*(\w+) connection denied from ([0-9A-Fa-f.:]+)/(\d+) to"
                     r" ([0-9A-Fa-f.:]+)/(\d+)")
_305011 = re.compile(r"Built (?:dynamic|static) \w+ translation from [\w.-]+:([0-9A-Fa-f.:]+)/\d+ to")
_FTD_KV = re.compile(r"(\w+): ((?:[^,]|,(?! \w+: ))*)")
FTD_FIELDS = FieldTable({
    "@timestamp": (),
    "source.ip": ("SrcIP",),
    "host.name": ("NetBIOSDomain",),
    "user.name": ("User",),
    "destination.domain": ("DNSQuery", "SSLServerName", "ReferencedHost"),
    "destination.ip": ("DstIP",),
    "destination.port": ("DstPort",),
    "url.full": ("URL",),
    "url.path": (),
})


def _local(a: str) -> bool:
    try:
        return not ipaddress.ip_address(a).is_global
    except ValueError:
        return False


def _port(p: str | None) -> int | None:
    return int(p) if p and p.isdigit() and int(p) < 65536 else None


@register(300)
class CiscoAsaReader(Reader):
    name = "asa"
    description = "Cisco ASA/PIX/FTD connection syslog (302013-302021, 106023, 106100, 305011, FTD 430002/3)"

    def __init__(self, mapping: dict[str, str] | None = None, ref_time: datetime | None = None) -> None:
        super().__init__(mapping)
        self.ref_time = ref_time

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return mostly_match(lines, _TAG, share=0.5)

    def parse(self, line: str) -> list[Observation]:
        tag = _TAG.search(line)
        if not tag:
            raise RecordError("not a Cisco ASA/FTD message")
        ts, _host = header_time(line, self.ref_time)
        body = line[tag.end():]
        src = dst = ""
        dport: int | None = None
        if m := _BUILT.search(body):
            a, ap, b, bp = m.group(3), m.group(4), m.group(5), m.group(6)
            src, dst, dport = (a, b, _port(bp)) if m.group(1) == "inbound" else (b, a, _port(ap))
        elif m := _TEAR.search(body):
            a, ap, b, bp = m.group(2), m.group(3), m.group(4), m.group(5)
            swap = _local(b) and not _local(a)
            src, dst, dport = (b, a, _port(ap)) if swap else (a, b, _port(bp))
        elif m := _ICMP.search(body):
            faddr, laddr = m.group(2), m.group(3)
            src, dst = (faddr, laddr) if m.group(1) == "inbound" else (laddr, faddr)
        elif m := _106023.search(body):
            src, dst, dport = m.group(2), m.group(4), _port(m.group(5))
        elif m := _106100.search(body):
            src, dst, dport = m.group(3), m.group(5), _port(m.group(6))
        elif m := _106001.search(body):
            src, dst, dport = m.group(2), m.group(4), _port(m.group(5))
        elif m := _305011.search(body):
            src = m.group(1)
        elif tag.group(1) in ("430002", "430003", "430001"):
            kv = {norm(k): v.strip() for k, v in _FTD_KV.findall(body)}
            return [observation(kv, FTD_FIELDS, self.mapping, ts=ts)]
        else:
            raise RecordError(f"ASA message {tag.group(1)} carries no connection")
        return [Observation(ts=ts, kind="flow", src_ip=src, dst_ip=dst, dst_port=dport,
                            action="deny" if "Deny" in body or "denied" in body else "")]
