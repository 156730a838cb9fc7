"""Generic JSON Lines and CSV with a field mapping (ECS names by default).

`--map destination.domain=query` says which source field holds which observation field.
Without a mapping, ECS field names and a few common aliases are recognised.
"""

from __future__ import annotations

import csv
from typing import Any

from tracehound.sources.logs.observation import Observation, RecordError, clean, epoch, host_of, iso
from tracehound.sources.logs.readers.base import Reader, json_lines, json_object

# observation target -> candidate source fields (first present wins)
DEFAULT_MAP: dict[str, tuple[str, ...]] = {
    "@timestamp": ("@timestamp", "timestamp", "ts", "time", "datetime", "date"),
    "source.ip": ("source.ip", "src_ip", "src", "client_ip", "clientip", "client", "c-ip"),
    "host.name": ("host.name", "hostname", "host", "computer", "device"),
    "user.name": ("user.name", "user", "username"),
    "destination.domain": ("destination.domain", "dns.question.name", "query", "domain", "dest_host", "dhost",
                           "server_name", "sni", "url.domain"),
    "destination.ip": ("destination.ip", "dest_ip", "dst_ip", "dst", "server_ip", "serverip"),
    "destination.port": ("destination.port", "dest_port", "dst_port", "dpt"),
    "url.full": ("url.full", "url", "request", "uri"),
    "file.hash.sha256": ("file.hash.sha256", "sha256"),
    "file.hash.sha1": ("file.hash.sha1", "sha1"),
    "file.hash.md5": ("file.hash.md5", "md5"),
}
TARGETS = tuple(DEFAULT_MAP)


def _get(r: dict[str, Any], dotted: str) -> Any:
    if dotted in r:
        return r[dotted]
    cur: Any = r
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def record_to_obs(r: dict[str, Any], mapping: dict[str, str]) -> Observation:
    def val(target: str) -> str:
        keys = (mapping[target],) if target in mapping else DEFAULT_MAP[target]
        for k in keys:
            v = _get(r, k)
            if v is not None and not isinstance(v, dict | list):
                return clean(str(v))
        return ""

    ts = None
    t = val("@timestamp")
    if t:
        ts = epoch(t) if t.replace(".", "", 1).isdigit() else iso(t)
    url = val("url.full")
    domain = val("destination.domain")
    if url and "://" not in url:  # host and path in separate fields (--map), or a schemeless host/path
        if url.startswith("/"):
            url = f"http://{domain}{url}" if domain else ""
        elif " " not in url and "." in url.split("/", 1)[0]:
            url = "http://" + url
    if url and not domain and "://" in url:
        domain = host_of(url.split("://", 1)[1].split("/", 1)[0])
    port = val("destination.port")
    hashes = {k: val(f"file.hash.{k}").lower() for k in ("md5", "sha1", "sha256") if val(f"file.hash.{k}")}
    return Observation(ts=ts, kind="http" if url else ("dns" if domain else "flow"), src_ip=val("source.ip"),
                       src_host=val("host.name"), user=val("user.name"), domain=domain.lower().rstrip("."),
                       dst_ip=val("destination.ip"), dst_port=int(port) if port.isdigit() else None,
                       url=url if "://" in url else "", hashes=hashes)


class JsonLinesReader(Reader):
    name = "jsonl"
    description = "generic JSON Lines (ECS names or --map)"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return bool(json_lines(lines))

    def parse(self, line: str) -> list[Observation]:
        return [record_to_obs(json_object(line), self.mapping)]


class CsvReader(Reader):
    name = "csv"
    description = "generic CSV with a header row (ECS names or --map)"

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        super().__init__(mapping)
        self.fields: list[str] = []

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return bool(lines) and lines[0].count(",") >= 2 and not lines[0].lstrip().startswith("{")

    def parse(self, line: str) -> list[Observation]:
        try:
            values = next(csv.reader([line]))
        except (csv.Error, StopIteration) as exc:
            raise RecordError(f"bad CSV: {exc}") from exc
        if not self.fields:
            self.fields = [v.strip() for v in values]
            return []
        if len(values) != len(self.fields):
            raise RecordError(f"{len(values)} cells, header has {len(self.fields)}")
        return [record_to_obs(dict(zip(self.fields, values, strict=True)), self.mapping)]
