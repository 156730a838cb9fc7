"""Palo Alto PAN-OS syslog CSV: TRAFFIC and THREAT (url) logs.

Field positions follow the PAN-OS syslog field documentation (stable across 8.x-11.x for
the leading fields used here). The syslog header is glued to the first CSV field.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime

from tracehound.sources.logs.observation import Observation, RecordError, clean
from tracehound.sources.logs.readers.base import Reader, mostly_match
from tracehound.sources.logs.readers.squid import split_url

_PAN = re.compile(r",(TRAFFIC|THREAT),")
# 0-based CSV positions (after the syslog header field)
F_TYPE, F_SUBTYPE, F_GEN_TIME, F_SRC, F_DST, F_USER, F_APP = 3, 4, 6, 7, 8, 12, 14
F_SPORT, F_DPORT, F_ACTION, F_URL = 24, 25, 30, 31


class PanosReader(Reader):
    name = "panos"
    description = "Palo Alto PAN-OS TRAFFIC/THREAT syslog CSV"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return mostly_match(lines, _PAN)

    def parse(self, line: str) -> list[Observation]:
        try:
            f = next(csv.reader([line]))
        except (csv.Error, StopIteration) as exc:
            raise RecordError(f"bad CSV: {exc}") from exc
        if len(f) < 32 or f[F_TYPE] not in ("TRAFFIC", "THREAT"):
            raise RecordError("not a PAN-OS TRAFFIC/THREAT record")
        try:
            ts = datetime.strptime(f[F_GEN_TIME], "%Y/%m/%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError as exc:
            raise RecordError("bad generated time") from exc
        port = int(f[F_DPORT]) if f[F_DPORT].isdigit() else None
        host, url = "", ""
        if f[F_TYPE] == "THREAT" and f[F_SUBTYPE] == "url" and clean(f[F_URL]):
            target = f[F_URL]
            full = target if "://" in target else ("https://" if port == 443 else "http://") + target
            host, url, _ = split_url("GET", full)
            if port == 443 and target.endswith("/") and target.count("/") == 1:
                url = ""  # TLS: only the host name (SNI) is known, not a path
        return [Observation(ts=ts, kind="http" if url else "flow", src_ip=f[F_SRC], dst_ip=f[F_DST], dst_port=port,
                            user=clean(f[F_USER]), domain=host, url=url, action=f[F_ACTION])]
