"""Windows Defender Firewall log (pfirewall.log): W3C-like '#Fields:' header, space-separated records.

Documented fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn
tcpack tcpwin icmptype icmpcode info path [pid]. Times are the machine's local time ('#Time Format:
Local'); they are read as UTC because the log does not record the zone.
"""

from __future__ import annotations

from tracehound.sources.logs.observation import Observation, RecordError, clean
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.fieldmap import ip_of, parse_time
from tracehound.sources.logs.readers.registry import register

DEFAULT_FIELDS = ["date", "time", "action", "protocol", "src-ip", "dst-ip", "src-port", "dst-port", "size",
                  "tcpflags", "tcpsyn", "tcpack", "tcpwin", "icmptype", "icmpcode", "info", "path", "pid"]


@register(110)
class WindowsFirewallReader(Reader):
    name = "winfw"
    description = "Windows Firewall pfirewall.log"
    has_headers = True

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        super().__init__(mapping)
        self.fields = list(DEFAULT_FIELDS)

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        head = lines[:10]
        return any("Windows Firewall" in ln for ln in head if ln.startswith("#Software:")) or any(
            ln.startswith("#Fields:") and "src-ip" in ln and "dst-ip" in ln and "cs-" not in ln for ln in head)

    def header(self, line: str) -> None:
        if line.startswith("#Fields:"):
            self.fields = [f.lower() for f in line[len("#Fields:"):].split()]

    def parse(self, line: str) -> list[Observation]:
        values = line.split()
        if len(values) < 6:
            raise RecordError(f"{len(values)} fields, pfirewall.log records have {len(self.fields)}")
        r = {k: clean(v) for k, v in zip(self.fields, values, strict=False)}
        src, dst = ip_of(r.get("src-ip", "")), ip_of(r.get("dst-ip", ""))
        if not src and not dst:
            raise RecordError("no src-ip/dst-ip")
        port = r.get("dst-port", "")
        return [Observation(ts=parse_time(f"{r.get('date', '')} {r.get('time', '')}"), kind="flow", src_ip=src,
                            dst_ip=dst, dst_port=int(port) if port.isdigit() and int(port) < 65536 else None,
                            action=r.get("action", "").lower())]
