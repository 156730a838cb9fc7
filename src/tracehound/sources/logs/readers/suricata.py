"""Suricata EVE JSON: dns (v1 and v2 layouts), http, tls, flow, fileinfo, alert."""

from __future__ import annotations

from typing import Any

from tracehound.sources.logs.observation import Observation, RecordError, iso
from tracehound.sources.logs.readers.base import Reader, json_lines, json_object


class SuricataEveReader(Reader):
    name = "suricata"
    description = "Suricata eve.json"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return any('"event_type"' in ln for ln in json_lines(lines))

    def parse(self, line: str) -> list[Observation]:
        e = json_object(line)
        if "event_type" not in e:
            raise RecordError("not an EVE event")
        et = e["event_type"]
        ts = iso(e["timestamp"]) if isinstance(e.get("timestamp"), str) else None
        port = e.get("dest_port")
        base: dict[str, Any] = {"ts": ts, "src_ip": str(e.get("src_ip") or ""), "dst_ip": str(e.get("dest_ip") or ""),
                "dst_port": port if isinstance(port, int) else None}
        if et == "stats":
            return []
        if et == "dns":
            d: dict[str, Any] = e.get("dns") or {}
            answers = [str(a.get("rdata")) for a in d.get("answers") or [] if isinstance(a, dict) and a.get("rdata")]
            if d.get("rdata"):
                answers.append(str(d["rdata"]))
            return [Observation(kind="dns", domain=str(d.get("rrname") or "").lower().rstrip("."), answers=answers, **base)]
        if et == "http" or (et == "fileinfo" and "http" in e):
            h: dict[str, Any] = e.get("http") or {}
            host, url = str(h.get("hostname") or "").lower(), str(h.get("url") or "")
            full = url if "://" in url else (f"http://{host}{url}" if host and url else "")
            obs = Observation(kind="http" if et == "http" else "file", domain=host, url=full,
                              method=str(h.get("http_method") or ""), **base)
            if et == "fileinfo":
                obs.hashes = _hashes(e.get("fileinfo") or {})
            return [obs]
        if et == "fileinfo":
            return [Observation(kind="file", hashes=_hashes(e.get("fileinfo") or {}), **base)]
        if et == "tls":
            t: dict[str, Any] = e.get("tls") or {}
            obs = Observation(kind="tls", domain=str(t.get("sni") or "").lower().rstrip("."), **base)
            fp = str(t.get("fingerprint") or "").replace(":", "").lower()
            if fp:
                obs.cert_hashes = {"sha1" if len(fp) == 40 else "sha256": fp}
            return [obs]
        return [Observation(kind="flow", **base)]


def _hashes(fi: dict[str, Any]) -> dict[str, str]:
    return {k: str(fi[k]).lower() for k in ("md5", "sha1", "sha256") if fi.get(k)}
