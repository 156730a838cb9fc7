"""Zeek logs, TSV (with #fields headers) and JSON: conn, dns, http, ssl, x509, files."""

from __future__ import annotations

from typing import Any

from tracehound.sources.logs.observation import Observation, RecordError, clean, epoch, iso
from tracehound.sources.logs.readers.base import Reader, json_lines, json_object


def _path_from_fields(fields: set[str]) -> str:
    for path, key in (("dns", "query"), ("http", "uri"), ("ssl", "server_name"), ("files", "fuid"),
                      ("x509", "certificate.subject"), ("conn", "conn_state")):
        if key in fields:
            return path
    return "conn"


def _ts(value: Any) -> Any:
    if value is None or value == "-":
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        return epoch(str(value))
    return iso(str(value))


def _vec(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    v = clean(value if isinstance(value, str) else None)
    return [x for x in v.split(",") if x and x != "-"] if v else []


def record_to_obs(path: str, r: dict[str, Any]) -> list[Observation]:
    def s(key: str) -> str:
        v = r.get(key)
        return clean(str(v)) if v is not None and not isinstance(v, list | dict) else ""

    port = r.get("id.resp_p")
    base: dict[str, Any] = {"ts": _ts(r.get("ts")), "src_ip": s("id.orig_h"), "dst_ip": s("id.resp_h"),
            "dst_port": int(str(port)) if str(port or "").isdigit() else None}
    if path == "dns":
        return [Observation(kind="dns", domain=s("query").lower().rstrip("."), answers=_vec(r.get("answers")), **base)]
    if path == "http":
        host, uri = s("host"), s("uri")
        url = f"http://{host}{uri}" if host and uri else ""
        return [Observation(kind="http", domain=host.lower(), url=url, method=s("method"), user=s("username"), **base)]
    if path == "ssl":
        certs = _vec(r.get("cert_chain_fps"))
        obs = Observation(kind="tls", domain=s("server_name").lower().rstrip("."), **base)
        if certs:
            obs.cert_hashes = {"sha256" if len(certs[0]) == 64 else "sha1": certs[0]}
        return [obs]
    if path == "x509":
        fp = s("fingerprint")
        names = _vec(r.get("san.dns"))
        obs = Observation(kind="x509", ts=base["ts"], domain=names[0].lower() if names else "")
        if fp:
            obs.cert_hashes = {"sha256" if len(fp) == 64 else "sha1": fp.lower()}
        return [obs]
    if path == "files":
        hashes = {k: s(k).lower() for k in ("md5", "sha1", "sha256") if s(k)}
        tx, rx = _vec(r.get("tx_hosts")), _vec(r.get("rx_hosts"))
        return [Observation(kind="file", ts=base["ts"], src_ip=rx[0] if rx else "", dst_ip=tx[0] if tx else "",
                            hashes=hashes)]
    return [Observation(kind="flow", **base)]


class ZeekTsvReader(Reader):
    name = "zeek"
    description = "Zeek TSV logs (conn, dns, http, ssl, x509, files)"
    has_headers = True

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        super().__init__(mapping)
        self.fields: list[str] = []
        self.path = ""
        self.sep = "\t"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return any(ln.startswith("#fields\t") for ln in lines[:20])

    def header(self, line: str) -> None:
        if line.startswith("#fields"):
            self.fields = line.rstrip("\n").split("\t")[1:]
            if not self.path:
                self.path = _path_from_fields(set(self.fields))
        elif line.startswith("#path"):
            self.path = line.split(None, 1)[1].strip() if len(line.split(None, 1)) > 1 else ""

    def parse(self, line: str) -> list[Observation]:
        if not self.fields:
            raise RecordError("record before any #fields header")
        values = line.rstrip("\n").split(self.sep)
        if len(values) != len(self.fields):
            raise RecordError(f"{len(values)} fields, header declares {len(self.fields)}")
        return record_to_obs(self.path, dict(zip(self.fields, values, strict=True)))


class ZeekJsonReader(Reader):
    name = "zeek-json"
    description = "Zeek JSON logs (one record a line)"

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        super().__init__(mapping)
        self.path = ""

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return any('"id.orig_h"' in ln or '"_path"' in ln for ln in json_lines(lines))

    def parse(self, line: str) -> list[Observation]:
        r = json_object(line)
        if "id.orig_h" not in r and "_path" not in r and "ts" not in r:
            raise RecordError("not a Zeek record")
        path = str(r.get("_path") or self.path or _path_from_fields(set(r)))
        return record_to_obs(path, r)
