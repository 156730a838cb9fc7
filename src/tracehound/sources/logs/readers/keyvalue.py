"""key=value syslog bodies: FortiGate and FortiProxy, SonicWall, Juniper SRX structured syslog
(RFC 5424 SD-params), Check Point (`key:"value";` and `Fields@` syslog) and LEEF 1.0/2.0.

Field names come from synonyms.KV_FIELDS. The time is the body's own (FortiGate date=/time=/tz=,
LEEF devTime, Check Point time:, ...) and otherwise the syslog envelope's.
"""

from __future__ import annotations

import re
from datetime import datetime

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.fieldmap import FieldTable, norm, observation, parse_time
from tracehound.sources.logs.readers.registry import register
from tracehound.sources.logs.readers.synonyms import KV_FIELDS
from tracehound.sources.logs.readers.sysloghead import header_time

TABLE = FieldTable(KV_FIELDS)
# key=value / key="value" / key:"value" (Check Point). An unterminated quote runs to the end of the
# line, so a hostile line is read in one pass (no backtracking over it).
_PAIR = re.compile(r'(?<![\w.-])([A-Za-z_][\w.-]{0,63})(?:=|:(?="))("(?:[^"\\]|\\.)*(?:"|$)|[^\s;\]]*)')
_LEEF = re.compile(r"LEEF:(\d(?:\.\d)?)\|")


def pairs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _PAIR.finditer(text):
        v = m.group(2)
        if v.startswith('"'):
            v = v[1:-1] if len(v) > 1 and v.endswith('"') else v[1:]
            v = v.replace('\\"', '"').replace("\\\\", "\\")
        out.setdefault(norm(m.group(1)), v)
    return out


def leef_pairs(line: str, start: int) -> dict[str, str]:
    """LEEF attributes after the header at start: tab-separated (1.0) or the header's delimiter (2.0)."""
    parts = line[start:].split("|", 6)
    version = parts[0].split(":", 1)[1]
    if version.startswith("2") and len(parts) >= 7:
        d = parts[5]
        if re.fullmatch(r"(?:0x|x)[0-9A-Fa-f]{1,4}", d):
            d = chr(int(d.split("x", 1)[1], 16))
        body, delim = parts[6], d or "\t"
    elif len(parts) >= 6:
        body, delim = "|".join(parts[5:]), "\t"
    else:
        raise RecordError("LEEF header has fewer than 5 fields")
    if delim not in body:
        return pairs(body)  # senders that use spaces where the format says tab
    out: dict[str, str] = {}
    for item in body.split(delim):
        k, sep, v = item.partition("=")
        if sep and k.strip():
            out.setdefault(norm(k), v.strip())
    return out


def _body_time(kv: dict[str, str]) -> datetime | None:
    if kv.get("date") and kv.get("time") and ":" in kv["time"] and "-" in kv["date"]:
        return parse_time(f"{kv['date']} {kv['time']}", kv.get("tz", ""))  # FortiGate
    return parse_time(TABLE.value(kv, "@timestamp"), kv.get("tz", ""))


@register(450)
class KeyValueReader(Reader):
    name = "kv"
    description = ("key=value syslog bodies (FortiGate/FortiProxy, SonicWall, Juniper SRX structured, "
                   "Check Point) and LEEF 1.0/2.0")

    def __init__(self, mapping: dict[str, str] | None = None, ref_time: datetime | None = None) -> None:
        super().__init__(mapping)
        self.ref_time = ref_time

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        data = [ln for ln in lines if ln.strip()][:20]
        if not data or data[0].lstrip().startswith(("{", "[")):
            return False
        good = 0
        for ln in data:
            if _LEEF.search(ln):
                good += 1
                continue
            kv = pairs(ln[:8192])
            if len(kv) >= 4 and (TABLE.value(kv, "source.ip") or TABLE.value(kv, "destination.ip")):
                good += 1
        return good >= max(1, len(data) // 2)

    def parse(self, line: str) -> list[Observation]:
        m = _LEEF.search(line)
        kv = leef_pairs(line, m.start()) if m else pairs(line)
        if len(kv) < 2:
            raise RecordError("no key=value pairs")
        ts = _body_time(kv)
        if ts is None:
            ts, _host = header_time(line, self.ref_time)
        return [observation(kv, TABLE, self.mapping, ts=ts)]
