"""Cisco Umbrella (and Secure Access) DNS logs: quoted CSV without a header row, in the documented order
timestamp, most granular identity, identities, internal ip, external ip, action, query type,
response code, domain, categories[, most granular identity type, identity types, blocked categories]."""

from __future__ import annotations

import csv
import re

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.fieldmap import ip_of, parse_time
from tracehound.sources.logs.readers.registry import register

_ROW = re.compile(r'^"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",\s*"[^"]*",\s*"[^"]*",\s*"[^"]*",\s*"[^"]*",\s*"(?:Allowed|Blocked)",'
                  r'\s*"\d+ \(\w*\)"')


def _cells(line: str) -> list[str]:
    try:
        return next(csv.reader([line], skipinitialspace=True))
    except (csv.Error, StopIteration) as exc:
        raise RecordError(f"bad CSV: {exc}") from exc


@register(220)
class UmbrellaDnsReader(Reader):
    name = "umbrella"
    description = "Cisco Umbrella / Secure Access DNS log (CSV, documented column order, no header)"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        data = [ln for ln in lines if ln.strip()][:20]
        return bool(data) and sum(1 for ln in data if _ROW.match(ln)) >= max(1, len(data) // 2)

    def parse(self, line: str) -> list[Observation]:
        c = _cells(line)
        if len(c) < 9:
            raise RecordError(f"{len(c)} cells, an Umbrella DNS row has at least 10")
        identity, internal, external, domain = c[1], c[3], c[4], c[8]
        kind_of_identity = c[10] if len(c) > 10 else ""
        user = identity if "user" in kind_of_identity.lower() else ""
        host = identity if identity and not user and "network" not in kind_of_identity.lower() else ""
        return [Observation(ts=parse_time(c[0]), kind="dns", src_ip=ip_of(internal) or ip_of(external),
                            src_host=host, user=user, domain=domain.strip().lower().rstrip("."),
                            action=c[5].lower())]
