"""A central syslog file that mixes devices (a collector's /var/log/remote/*.log): each line is read by
the reader its own markers name (CEF, Cisco ASA/FTD, pfSense programs, key=value/LEEF bodies).

Chosen only when the first records show at least two of these families (a file of one vendor keeps
its own reader) and at least a third of them are recognised; lines that no reader recognises (sshd,
cron, ...) are counted as unparsed when they hold an indicator literal.
"""

from __future__ import annotations

import re
from datetime import datetime

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.cisco_asa import CiscoAsaReader
from tracehound.sources.logs.readers.keyvalue import TABLE, KeyValueReader, pairs
from tracehound.sources.logs.readers.pfsense import PfsenseReader
from tracehound.sources.logs.readers.registry import register
from tracehound.sources.logs.readers.syslog import CefReader

_CEF = re.compile(r"CEF:\d+\|")
_ASA = re.compile(r"%(?:ASA|PIX|FTD|FWSM)-\d-\d{6}:")
_LEEF = re.compile(r"LEEF:\d(?:\.\d)?\|")
_PF = re.compile(r"\s(?:filterlog|unbound|\(?squid[\w-]*\)?)(?:\[\d+\]:| \d+ - )")


def _which(line: str) -> str:
    head = line[:4096]
    if _CEF.search(head):
        return "cef"
    if _ASA.search(head):
        return "asa"
    if _PF.search(head[:300]):
        return "pfsense"
    if _LEEF.search(head):
        return "kv"
    kv = pairs(head)
    return "kv" if len(kv) >= 4 and (TABLE.value(kv, "source.ip") or TABLE.value(kv, "destination.ip")) else ""


@register(250)
class MixedSyslogReader(Reader):
    name = "syslog-mixed"
    description = "syslog collector file mixing devices (CEF, Cisco ASA/FTD, pfSense, key=value/LEEF per line)"

    def __init__(self, mapping: dict[str, str] | None = None, ref_time: datetime | None = None) -> None:
        super().__init__(mapping)
        self.readers: dict[str, Reader] = {
            "cef": CefReader(mapping, ref_time=ref_time), "asa": CiscoAsaReader(mapping, ref_time=ref_time),
            "pfsense": PfsenseReader(mapping, ref_time=ref_time), "kv": KeyValueReader(mapping, ref_time=ref_time)}

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        data = [ln for ln in lines if ln.strip()][:30]
        if not data or data[0].lstrip().startswith(("{", "[")):
            return False
        kinds = [k for k in map(_which, data) if k]
        return len(set(kinds)) >= 2 and len(kinds) * 3 >= len(data)

    def parse(self, line: str) -> list[Observation]:
        which = _which(line)
        if not which:
            raise RecordError("syslog line of no known device format")
        return self.readers[which].parse(line)
