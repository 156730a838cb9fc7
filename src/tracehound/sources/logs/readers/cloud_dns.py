"""Cloud DNS and firewall logs with a fixed layout: AWS Route 53 public DNS query logs (space-separated)
and Azure Firewall's legacy diagnostics (JSON whose properties.msg is a sentence).

Route 53 public query log fields (AWS documentation): log format version, query timestamp, hosted
zone ID, query name, query type, response code, protocol, edge location, resolver IP address,
EDNS client subnet. The resolver that asked is the source. (Route 53 *Resolver* query logs are JSON
and are read by the generic JSON reader through its synonym table: query_name, srcaddr, ...)
"""

from __future__ import annotations

import re

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader, mostly_match
from tracehound.sources.logs.readers.fieldmap import ip_of, json_record, parse_time
from tracehound.sources.logs.readers.registry import register

_R53 = re.compile(r"^(\d\.\d+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (\S+) (\S+) (\S+) ([A-Z]+) (UDP|TCP) (\S+)"
                  r" ([0-9A-Fa-f.:]+)(?: (\S+))?\s*$")
_AZ_CAT = re.compile(r'^\s*\{.*"category"\s*:\s*"AzureFirewall(?:Application|Network|DnsProxy)')
_AZ_REQ = re.compile(r"^(\w+)\s+request from ([0-9A-Fa-f.:]+?):(\d+)(?: to ([^\s:]+|\[[^\]]+\]):(\d+))?[.,]"
                     r"(?:.*?\bUrl: (\S+?)\.(?:\s|$))?")
_AZ_DNS = re.compile(r"^DNS Request: ([0-9A-Fa-f.:]+?):(\d+) - \d+ (\S+) (\S+) (\S+) ")


@register(230)
class Route53PublicReader(Reader):
    name = "route53"
    description = "AWS Route 53 public DNS query log (space-separated)"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return mostly_match(lines, _R53)

    def parse(self, line: str) -> list[Observation]:
        m = _R53.match(line)
        if not m:
            raise RecordError("not a Route 53 query log line")
        return [Observation(ts=parse_time(m.group(2)), kind="dns", src_ip=ip_of(m.group(9)),
                            domain=m.group(4).lower().rstrip("."), action=m.group(6))]


@register(240)
class AzureFirewallReader(Reader):
    name = "azurefw"
    description = "Azure Firewall diagnostics (AzureFirewallApplicationRule/NetworkRule/DnsProxy JSON)"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return mostly_match(lines, _AZ_CAT, sample=10, share=0.5)

    def parse(self, line: str) -> list[Observation]:
        r = json_record(line)
        props = r.get("properties")
        msg = props.get("msg") if isinstance(props, dict) else None
        if not isinstance(msg, str):
            raise RecordError("no properties.msg")
        ts = parse_time(str(r.get("time", "")))
        if m := _AZ_DNS.match(msg):
            return [Observation(ts=ts, kind="dns", src_ip=ip_of(m.group(1)), domain=m.group(5).lower().rstrip("."))]
        m = _AZ_REQ.match(msg)
        if not m:
            raise RecordError("properties.msg is not a request or DNS sentence")
        target = (m.group(4) or "").strip("[]")
        dst = ip_of(target) if target and not re.search(r"[g-zG-Z]", target) else ""
        host = "" if dst else target.lower()
        port = int(m.group(5)) if m.group(5) else None
        url = ""
        if m.group(6):
            url = m.group(6) if "://" in m.group(6) else ("https://" if port == 443 else "http://") + m.group(6)
        action = re.search(r"Action: (\w+)", msg)
        return [Observation(ts=ts, kind="http" if url else "connect" if host else "flow", src_ip=ip_of(m.group(2)),
                            domain=host, dst_ip=dst, dst_port=port, url=url,
                            action=action.group(1).lower() if action else "")]
