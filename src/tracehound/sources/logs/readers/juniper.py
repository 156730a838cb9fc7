"""Juniper SRX session logs in the plain (non-structured) syslog form, per the Junos system log reference:

RT_FLOW_SESSION_CREATE: session created source-address/source-port->destination-address/destination-port ...
RT_FLOW_SESSION_CLOSE: session closed reason: source-address/source-port->destination-address/destination-port ...
RT_FLOW_SESSION_DENY: session denied source-address/source-port->destination-address/destination-port ...

(The structured form, `[junos@2636... source-address="..." ...]`, is read by the key=value reader.)
"""

from __future__ import annotations

import re
from datetime import datetime

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader, mostly_match
from tracehound.sources.logs.readers.fieldmap import ip_of
from tracehound.sources.logs.readers.registry import register
from tracehound.sources.logs.readers.sysloghead import header_time

_A = r"([0-9A-Fa-f.:]{2,45}?)"
_FLOW = re.compile(rf"RT_FLOW_SESSION_(CREATE|CLOSE|DENY)(?:_LS)?: session (?:created|denied|closed [^:]{{0,80}}:) "
                   rf"{_A}/(\d{{1,5}})->{_A}/(\d{{1,5}})")


@register(280)
class JuniperFlowReader(Reader):
    name = "junos-flow"
    description = "Juniper SRX RT_FLOW session logs (plain syslog form)"

    def __init__(self, mapping: dict[str, str] | None = None, ref_time: datetime | None = None) -> None:
        super().__init__(mapping)
        self.ref_time = ref_time

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return mostly_match(lines, _FLOW, share=0.5)

    def parse(self, line: str) -> list[Observation]:
        m = _FLOW.search(line)
        if not m:
            raise RecordError("not an RT_FLOW session create/close/deny message")
        ts, _host = header_time(line, self.ref_time)
        port = int(m.group(5)) if int(m.group(5)) < 65536 else None
        return [Observation(ts=ts, kind="flow", src_ip=ip_of(m.group(2)), dst_ip=ip_of(m.group(4)), dst_port=port,
                            action="deny" if m.group(1) == "DENY" else "")]
