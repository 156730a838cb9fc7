"""Zscaler NSS web logs in CSV (the common feed layouts name their columns in a header row)."""

from __future__ import annotations

import csv

from tracehound.sources.logs.observation import Observation, RecordError, clean, host_of, iso
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.squid import split_url

# Default NSS feed when no header row is present: a commonly deployed field order.
DEFAULT_FIELDS = ["datetime", "reason", "event_id", "protocol", "action", "transactionsize", "responsesize",
                  "requestsize", "urlcategory", "serverip", "clienttranstime", "requestmethod", "refererURL",
                  "useragent", "product", "location", "ClientIP", "status", "user", "url", "vendor", "hostname",
                  "clientpublicIP", "threatcategory", "threatname", "filetype", "appname", "pagerisk",
                  "department", "urlsupercategory", "appclass", "dlpengine", "urlclass", "threatclass",
                  "dlpidentifier", "bwthrottle", "contenttype", "unscannabletype", "deviceowner", "devicehostname"]
_KEYS = {"url", "serverip", "clientip", "hostname", "devicehostname", "requestmethod", "action", "datetime"}


class ZscalerReader(Reader):
    name = "zscaler"
    description = "Zscaler NSS web log (CSV)"

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        super().__init__(mapping)
        self.fields: list[str] = []

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        first = lines[0].lower() if lines else ""
        return '"' in first and sum(1 for k in ("clientip", "serverip", "urlcategory", "requestmethod") if k in first) >= 3

    def parse(self, line: str) -> list[Observation]:
        try:
            values = next(csv.reader([line]))
        except (csv.Error, StopIteration) as exc:
            raise RecordError(f"bad CSV: {exc}") from exc
        low = [v.strip().lower() for v in values]
        if not self.fields and len(_KEYS & set(low)) >= 4:
            self.fields = low
            return []
        fields = self.fields or [f.lower() for f in DEFAULT_FIELDS]
        r = {k: clean(v) for k, v in zip(fields, values, strict=False)}
        if not r.get("url") and not r.get("serverip"):
            raise RecordError("no url or serverip column")
        method = r.get("requestmethod", "GET") or "GET"
        target = r.get("url", "")
        if target and "://" not in target and method.upper() != "CONNECT":
            target = "http://" + target
        host, url, port = split_url(method, target) if target else ("", "", None)
        ts = None
        if r.get("datetime"):
            try:
                ts = iso(r["datetime"])
            except RecordError:
                from datetime import datetime

                try:
                    ts = datetime.strptime(r["datetime"], "%a %b %d %H:%M:%S %Y").astimezone()
                except ValueError:
                    ts = None
        return [Observation(ts=ts, kind="connect" if method.upper() == "CONNECT" else "http",
                            src_ip=r.get("clientip", ""), src_host=r.get("devicehostname", ""),
                            user=r.get("user", "") or r.get("login", ""), domain=host_of(host) if host else "",
                            dst_ip=r.get("serverip", ""), dst_port=port, url=url, method=method.upper(),
                            action=r.get("action", ""))]
