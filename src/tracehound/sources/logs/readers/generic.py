"""Generic JSON Lines and header-aware CSV, read through a documented synonym table.

Field names come from synonyms.RECORD_FIELDS (ECS names, Microsoft Defender's RemoteIP/RemoteUrl/
LocalIP/DeviceName/Timestamp, AWS Route 53 Resolver's query_name/srcaddr/srcids.instance/
query_timestamp, Cloudflare's QueryName/SourceIP, Windows Firewall's src-ip/dst-ip, ...), compared
case-insensitively. `--map destination.domain=query` names the field for one target explicitly.
"""

from __future__ import annotations

import csv
from typing import Any

from tracehound.sources.logs.observation import Observation, RecordError
from tracehound.sources.logs.readers.base import Reader, json_lines
from tracehound.sources.logs.readers.fieldmap import FieldTable, flatten, json_record, norm, observation
from tracehound.sources.logs.readers.synonyms import RECORD_FIELDS

# observation target -> candidate source fields (first present wins); the Spark engine reads it too.
DEFAULT_MAP: dict[str, tuple[str, ...]] = RECORD_FIELDS
TARGETS = tuple(DEFAULT_MAP)
TABLE = FieldTable(RECORD_FIELDS)


# DNS answers: lists of addresses/names, or of objects holding one (Route 53 Resolver "Rdata", ECS "data")
ANSWER_FIELDS = ("answers", "dns.answers", "dns.resolved_ip", "Answers", "QueryResults",
                 "winlog.event_data.QueryResults")


def _answers(r: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name in ANSWER_FIELDS:
        cur: Any = r
        for part in name.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        items = cur if isinstance(cur, list) else [cur] if isinstance(cur, str) else []
        for a in items[:64]:
            v = a.get("Rdata") or a.get("data") if isinstance(a, dict) else a
            if isinstance(v, str) and v.strip():
                out += [x.removeprefix("::ffff:").rstrip(".").lower() for x in v.replace(";", " ").split()][:64]
    return out


def record_to_obs(r: dict[str, Any], mapping: dict[str, str]) -> Observation:
    obs = observation(flatten(r), TABLE, mapping)
    obs.answers = _answers(r)
    return obs


def recognised(fields: list[str], mapping: dict[str, str] | None = None) -> list[str]:
    """The targets a header row provides (to tell a file with no known field from one with some)."""
    flat = {norm(f): "x" for f in fields}
    return [t for t in TARGETS if TABLE.value(flat, t, mapping)]


class JsonLinesReader(Reader):
    name = "jsonl"
    description = "generic JSON Lines (ECS names, vendor synonyms or --map)"

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        return bool(json_lines(lines))

    def parse(self, line: str) -> list[Observation]:
        return [record_to_obs(json_record(line), self.mapping)]


class CsvReader(Reader):
    name = "csv"
    description = "generic CSV with a header row (ECS names, vendor synonyms or --map)"

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        super().__init__(mapping)
        self.fields: list[str] = []
        self.delimiter = ","

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        first = lines[0] if lines else ""
        if first.lstrip().startswith("{"):
            return False
        if first.count(",") >= 2:
            return True
        # tab-separated only when its header names a known field (other tab-separated text stays unknown)
        return first.count("\t") >= 2 and bool(recognised(first.split("\t")))

    def parse(self, line: str) -> list[Observation]:
        if not self.fields and line.count("\t") > line.count(","):
            self.delimiter = "\t"  # tab-separated exports (Advanced Hunting, Excel "Unicode text")
        try:
            values = next(csv.reader([line], delimiter=self.delimiter))
        except (csv.Error, StopIteration) as exc:
            raise RecordError(f"bad CSV: {exc}") from exc
        if not self.fields:
            self.fields = [norm(v) for v in values]
            return []
        if len(values) != len(self.fields):
            raise RecordError(f"{len(values)} cells, header has {len(self.fields)}")
        return [observation(dict(zip(self.fields, values, strict=True)), TABLE, self.mapping)]
