"""CEF over syslog (ArcSight Common Event Format), the lingua franca of firewalls and proxies."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tracehound.sources.logs.observation import Observation, RecordError, epoch, host_of
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.squid import split_url
from tracehound.sources.logs.readers.timeparse import syslog_time

_CEF = re.compile(r"CEF:\d+\|")
# A key starts the extension or follows whitespace; its value runs to the next key. Found with one
# linear scan (the former lookahead regex `((?:[^=\\]|\\.)*?)(?=\s+\w+=|\s*$)` was quadratic: a
# 40,000-space line took 84 s). An unescaped '=' that does not end a key stays in the value
# (URLs with query strings, which some vendors do not escape).
_KEY = re.compile(r"(?:^|(?<=\s))(\w+)=")


def _extension(text: str) -> dict[str, str]:
    keys = list(_KEY.finditer(text))  # an escaped '\=' is never a key's: a key ends with a word character
    out: dict[str, str] = {}
    for n, m in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(text)
        out[m.group(1)] = text[m.end():end].replace("\\=", "=").replace("\\\\", "\\").strip()
    return out


def _cef_fields(line: str) -> tuple[list[str], dict[str, str]]:
    start = line.find("CEF:")
    parts: list[str] = []
    cur, i, n = [], start, len(line)
    while i < n and len(parts) < 7:
        c = line[i]
        if c == "\\" and i + 1 < n:
            cur.append(line[i + 1])
            i += 2
            continue
        if c == "|":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if len(parts) < 7:
        raise RecordError("CEF header has fewer than 8 fields")
    ext = _extension(line[i:])
    return parts, ext


class CefReader(Reader):
    name = "cef"
    description = "CEF events (syslog or plain lines)"

    def __init__(self, mapping: dict[str, str] | None = None, ref_time: datetime | None = None) -> None:
        super().__init__(mapping)
        self.ref_time = ref_time

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return sum(1 for ln in lines[:30] if _CEF.search(ln)) >= 1

    def parse(self, line: str) -> list[Observation]:
        if not _CEF.search(line):
            raise RecordError("not a CEF line")
        _hdr, ext = _cef_fields(line)
        ts = None
        rt = ext.get("rt") or ext.get("end") or ext.get("start")
        if rt:
            if rt.isdigit():
                ts = epoch(str(int(rt) / 1000 if len(rt) > 11 else rt))
            else:
                for fmt in ("%b %d %Y %H:%M:%S", "%b %d %Y %H:%M:%S.%f"):
                    try:
                        ts = datetime.strptime(rt, fmt).replace(tzinfo=UTC)
                        break
                    except ValueError:
                        continue
        if ts is None:
            m = re.match(r"^(\w{3}\s+\d{1,2} \d{2}:\d{2}:\d{2})", line)
            ts = syslog_time(m.group(1), self.ref_time) if m else None
        method = ext.get("requestMethod", "GET")
        host, url = host_of(ext.get("dhost", "")), ""
        if ext.get("request"):
            h2, url, _ = split_url(method, ext["request"])
            host = host or h2
        port = ext.get("dpt", "")
        hashes = {}
        fh = ext.get("fileHash", "")
        if len(fh) in (32, 40, 64):
            hashes = {{32: "md5", 40: "sha1", 64: "sha256"}[len(fh)]: fh.lower()}
        return [Observation(ts=ts, kind="http" if url else "flow", src_ip=ext.get("src", ""),
                            src_host=ext.get("shost", ""), user=ext.get("suser", ""), domain=host,
                            dst_ip=ext.get("dst", ""), dst_port=int(port) if port.isdigit() else None, url=url,
                            method=method.upper() if url else "", action=ext.get("act", ""), hashes=hashes)]
