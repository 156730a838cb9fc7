"""W3C Extended log format: IIS, Blue Coat ProxySG, and other '#Fields:'-driven logs."""

from __future__ import annotations

from datetime import UTC, datetime

from tracehound.sources.logs.observation import Observation, RecordError, clean, host_of
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.squid import split_url


class W3cReader(Reader):
    name = "w3c"
    description = "W3C Extended (IIS, Blue Coat ProxySG)"
    has_headers = True

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        super().__init__(mapping)
        self.fields: list[str] = []

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return any(ln.startswith("#Fields:") for ln in lines[:30])

    def header(self, line: str) -> None:
        if line.startswith("#Fields:"):
            self.fields = line[len("#Fields:"):].split()

    def parse(self, line: str) -> list[Observation]:
        if not self.fields:
            raise RecordError("record before any #Fields line")
        values = _split(line)
        if len(values) != len(self.fields):
            raise RecordError(f"{len(values)} fields, #Fields declares {len(self.fields)}")
        r = {k.lower(): clean(v) for k, v in zip(self.fields, values, strict=True)}
        ts = None
        if r.get("date") and r.get("time"):
            try:
                ts = datetime.strptime(f"{r['date']} {r['time'][:8]}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError as exc:
                raise RecordError("bad date/time") from exc
        method = r.get("cs-method", "")
        # Only a proxy log names the destination host; a web server's cs-uri-stem is a local path.
        host = r.get("cs-host") or r.get("cs(host)") or ""
        url = ""
        port = None
        stem = r.get("cs-uri-stem", "") or r.get("cs-uri-path", "")  # Blue Coat names it cs-uri-path
        query = r.get("cs-uri-query", "").lstrip("?")
        if r.get("cs-uri-port", "").isdigit():
            port = int(r["cs-uri-port"])
        if r.get("cs-uri"):
            host2, url, port2 = split_url(method, r["cs-uri"])
            host, port = host or host2, port or port2
        elif host and stem and method.upper() != "CONNECT":
            scheme = (r.get("cs-uri-scheme") or "http").lower()
            netloc = host if port in (None, {"http": 80, "https": 443}.get(scheme)) or ":" in host else f"{host}:{port}"
            url = f"{scheme}://{netloc}{stem}" + (f"?{query}" if query else "")
        return [Observation(
            ts=ts, kind="connect" if method.upper() == "CONNECT" else "http", src_ip=r.get("c-ip", ""),
            user=r.get("cs-username", ""), domain=host_of(host) if host else "",
            # proxy logs name the upstream server (r-ip); a web server's own log names itself (s-ip)
            dst_ip=r.get("r-ip", "") or r.get("s-supplier-ip", "") or (r.get("s-ip", "") if not host else ""),
            dst_port=port, url=url, method=method.upper(),
            action=r.get("s-action", ""),
        )]


def _split(line: str) -> list[str]:
    # Blue Coat quotes fields that contain spaces; IIS replaces spaces with '+'.
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        if line[i] == '"':
            j = line.find('"', i + 1)
            j = n if j == -1 else j
            out.append(line[i + 1 : j])
            i = j + 1
        else:
            j = i
            while j < n and line[j] not in " \t":
                j += 1
            out.append(line[i:j])
            i = j
    return out
