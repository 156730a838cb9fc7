"""Cisco ASA / PIX / Firepower Threat Defense connection syslog messages.

302013/302015/302017/302020 (Built ... connection), 302014/302016/302018/302021 (Teardown),
106023/106100/106001/106006/106007/106015 (access denied or permitted), 305011/305012 (translations),
and FTD connection events 430001-430003 (`Key: value, ...`). For Built messages the direction decides who
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
from tracehound.sources.logs.readers.fieldmap import FieldTable, ip_of, norm, observation
from tracehound.sources.logs.readers.registry import register
from tracehound.sources.logs.readers.sysloghead import header_time

_TAG = re.compile(r"%(?:ASA|PIX|FTD|FWSM)-\d-(\d{6}):")
# Every repetition is bounded and each message id is tried against its own pattern only, so a hostile
# line costs one linear scan (no rescans of a long token from every position).
_A = r"([0-9A-Fa-f.:]{2,45}?)"  # an IPv4 or IPv6 address
_EP = rf"[\w.-]{{1,64}}:{_A}/(\d{{1,5}})"  # interface:address/port
_BUILT = re.compile(rf"Built (inbound|outbound) \w{{1,16}} connection \d{{1,20}} for {_EP}(?: \([^)]{{0,80}}\))? to {_EP}")
_TEAR = re.compile(rf"Teardown \w{{1,16}} connection \d{{1,20}} for {_EP} to {_EP}")
_ICMP = re.compile(rf"(?:Built|Teardown) (?:(inbound|outbound) )?ICMP connection for faddr {_A}/\d{{1,5}}"
                   rf"(?:\([^)]{{0,80}}\))? gaddr [0-9A-Fa-f.:]{{2,45}}/\d{{1,5}} laddr {_A}/")
_106023 = re.compile(rf"Deny \w{{1,16}} src [\w.-]{{1,64}}:{_A}(?:/(\d{{1,5}}))? dst [\w.-]{{1,64}}:{_A}(?:/(\d{{1,5}}))?"
                     r"(?: |$)")
_106100 = re.compile(rf"access-list \S{{1,128}} (?:permitted|denied|est-allowed) \w{{1,16}} [\w.-]{{1,64}}/{_A}\((\d{{1,5}})\)"
                     rf" -> [\w.-]{{1,64}}/{_A}\((\d{{1,5}})\)")
_DENY_FROM = re.compile(rf"(?:Deny|denied) (?:inbound |outbound )?(?:\w{{1,16}} )?(?:\(no connection\) )?from {_A}/"
                        rf"(\d{{1,5}}) to {_A}/(\d{{1,5}})")
_XLATE = re.compile(rf"(?:Built|Teardown) (?:dynamic|static) \w{{1,16}} translation from [\w.-]{{1,64}}:{_A}/\d{{1,5}} to")
_FTD_KV = re.compile(r"(?<!\w)(\w{1,40}): ((?:[^,]|,(?! \w{1,40}: ))*)")
_FAMILY = {**dict.fromkeys(("302013", "302015", "302017"), "built"), **dict.fromkeys(("302014", "302016", "302018"), "tear"),
           "302020": "icmp", "302021": "icmp", "106023": "106023", "106100": "106100",
           **dict.fromkeys(("106001", "106006", "106007", "106015"), "deny"), "305011": "xlate", "305012": "xlate",
           **dict.fromkeys(("430001", "430002", "430003"), "ftd")}
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
    description = "Cisco ASA/PIX/FTD connection syslog (302013-302021, 106023, 106100, 106001/6/7/15, 305011/2, FTD 430001-3)"

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
        family = _FAMILY.get(tag.group(1), "")
        m = None
        if family == "built" and (m := _BUILT.search(body)):
            a, ap, b, bp = m.group(2), m.group(3), m.group(4), m.group(5)
            src, dst, dport = (a, b, _port(bp)) if m.group(1) == "inbound" else (b, a, _port(ap))
        elif family == "tear" and (m := _TEAR.search(body)):
            a, ap, b, bp = m.group(1), m.group(2), m.group(3), m.group(4)
            swap = _local(b) and not _local(a)
            src, dst, dport = (b, a, _port(ap)) if swap else (a, b, _port(bp))
        elif family == "icmp" and (m := _ICMP.search(body)):
            faddr, laddr = m.group(2), m.group(3)
            src, dst = (faddr, laddr) if m.group(1) == "inbound" else (laddr, faddr)
        elif family == "106023" and (m := _106023.search(body)):
            src, dst, dport = m.group(1), m.group(3), _port(m.group(4))
        elif family == "106100" and (m := _106100.search(body)):
            src, dst, dport = m.group(1), m.group(3), _port(m.group(4))
        elif family == "deny" and (m := _DENY_FROM.search(body)):
            src, dst, dport = m.group(1), m.group(3), _port(m.group(4))
        elif family == "xlate" and (m := _XLATE.search(body)):
            src = m.group(1)
        elif family == "ftd":
            kv = {norm(k): v.strip() for k, v in _FTD_KV.findall(body)}
            return [observation(kv, FTD_FIELDS, self.mapping, ts=ts)]
        if m is None:
            raise RecordError(f"ASA message {tag.group(1)} carries no connection (or is not in its documented layout)")
        return [Observation(ts=ts, kind="flow", src_ip=ip_of(src), dst_ip=ip_of(dst), dst_port=dport,
                            action="deny" if "Deny" in body or "denied" in body else "")]
