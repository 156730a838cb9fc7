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
# FortiGate's "csv" syslog format separates pairs with commas: an unquoted value stops at ",key=".
_PAIR = re.compile(r'(?<![\w.-])([A-Za-z_][\w.-]{0,63})(?:=|:(?="))'
                   r'("(?:[^"\\]|\\.)*(?:"|$)|(?:[^\s;\],]|,(?![A-Za-z_][\w.-]{0,63}=))*)')
_LEEF = re.compile(r"LEEF:(\d(?:\.\d)?)\|")
_HEX_DELIM = re.compile(r"(?:0x|x)[0-9A-Fa-f]{1,4}")


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
    """LEEF attributes after the header at start: tab-separated (1.0, and 2.0 without a delimiter field,
    as Check Point's Log Exporter writes it) or the 2.0 header's delimiter (a character, 0x5E or x5E)."""
    parts = line[start:].split("|", 5)
    if len(parts) < 6:
        raise RecordError("LEEF header has fewer than 5 fields")
    rest, delim = parts[5], "\t"
    if parts[0].split(":", 1)[1].startswith("2"):
        d, sep, after = rest.partition("|")
        if sep and "=" not in d and (len(d) <= 1 or _HEX_DELIM.fullmatch(d)):
            delim = (chr(int(d.split("x", 1)[1], 16)) if len(d) > 1 else d) or "\t"
            rest = after
    delim = next((c for c in (delim, "\t", "|", "^") if c in rest), "")
    if not delim:
        return pairs(rest)  # senders that use spaces where the format says tab
    out: dict[str, str] = {}
    for item in rest.split(delim):
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
        obs = observation(kv, TABLE, self.mapping, ts=ts)
        if obs.domain and kv.get("ipaddr"):  # FortiGate DNS log: qname= with its answers in ipaddr="a, b"
            obs.answers = [a.strip() for a in kv["ipaddr"].split(",") if a.strip()][:64]
            obs.kind = "dns"
        return [obs]
