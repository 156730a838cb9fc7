"""Windows EVTX via the Rust-backed `evtx` parser: Sysmon 3 (NetworkConnect), 22 (DNSEvent),
and the Hashes field of any Sysmon event (1 process creation, 6/7 driver/image load, 15, 23...).

Record numbers: tracehound reports the parser's record number (1..N in the file) as its line,
and keeps the channel's EventRecordID in `tracehound.winlog.record_id` (they differ in exported files).
Time: EventData/UtcTime when present (when the connection happened), else System/TimeCreated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracehound import safejson
from tracehound.errors import InputError
from tracehound.sources.logs.observation import Observation, RecordError, iso
from tracehound.sources.logs.stream import ReadStats

EVTX_MAGIC = b"ElfFile\x00"
SYSMON = "Microsoft-Windows-Sysmon"
_ANSWER_IP = re.compile(r"(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]{3,})")


@dataclass
class EvtxRecord:
    number: int
    raw: str  # the record as JSON text (event.original)
    observations: list[Observation]
    computer: str
    event_id: int
    record_id: int | None
    process: str


def _utc(value: str) -> datetime:
    return datetime.strptime(value[:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)


def _obj(value: Any) -> dict[str, Any]:
    """A nested EVTX element as a dict: crafted records can put text where elements belong."""
    return value if isinstance(value, dict) else {}


def record_observations(event: dict[str, Any]) -> tuple[list[Observation], str, int, int | None, str]:
    ev = _obj(event.get("Event"))
    system = _obj(ev.get("System"))
    data = _obj(ev.get("EventData"))
    provider = str(_obj(_obj(system.get("Provider")).get("#attributes")).get("Name", ""))
    eid = system.get("EventID")
    if isinstance(eid, dict):
        eid = eid.get("#text")
    try:
        eid = int(str(eid))
    except (TypeError, ValueError):
        eid = -1
    computer = str(system.get("Computer") or "")
    record_id = system.get("EventRecordID") if isinstance(system.get("EventRecordID"), int) else None
    ts = None
    if data.get("UtcTime"):
        try:
            ts = _utc(str(data["UtcTime"]))
        except ValueError:
            ts = None
    if ts is None:
        created = _obj(_obj(system.get("TimeCreated")).get("#attributes")).get("SystemTime")
        if created:
            try:
                ts = iso(str(created))
            except RecordError:
                ts = None
    image = str(data.get("Image") or "")
    user = str(data.get("User") or "")
    obs: list[Observation] = []
    if provider == SYSMON and eid == 3:
        initiated = data.get("Initiated")
        o = Observation(ts=ts, kind="flow", src_ip=str(data.get("SourceIp") or ""), src_host=computer, user=user,
                        domain=str(data.get("DestinationHostname") or "").lower(),
                        dst_ip=str(data.get("DestinationIp") or ""), process=image)
        port = data.get("DestinationPort")
        o.dst_port = int(str(port)) if str(port).isdigit() else None
        if initiated is False or str(initiated).lower() == "false":
            o.action = "inbound"
        obs.append(o)
    elif provider == SYSMON and eid == 22:
        answers = [m.group(1) for m in _ANSWER_IP.finditer(str(data.get("QueryResults") or "")) if "." in m.group(1)
                   or m.group(1).count(":") >= 2]
        obs.append(Observation(ts=ts, kind="dns", src_host=computer, user=user,
                               domain=str(data.get("QueryName") or "").lower().rstrip("."), answers=answers,
                               process=image))
    hashes_field = data.get("Hashes") or data.get("Hash")
    if provider == SYSMON and isinstance(hashes_field, str) and "=" in hashes_field:
        hashes = {}
        for part in hashes_field.split(","):
            k, _, v = part.partition("=")
            k = k.strip().lower().replace("-", "")
            if k in ("md5", "sha1", "sha256") and v.strip():
                hashes[k] = v.strip().lower()
        if hashes:
            obs.append(Observation(ts=ts, kind="file", src_host=computer, user=user, hashes=hashes,
                                   process=str(data.get("ImageLoaded") or data.get("TargetFilename") or image)))
    return obs, computer, eid, record_id, image


def iter_evtx_events(path: str, stats: ReadStats, prefilter_any: Any = None, max_record: int = 16 * 1024 * 1024
                     ) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """Every readable record as (record number, JSON text, the decoded event with all its System,
    EventData and UserData fields); unreadable or oversized records are counted in stats."""
    try:
        import evtx
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise InputError("EVTX support needs the 'evtx' package", path=path) from exc
    try:
        parser = evtx.PyEvtxParser(path)
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"not a readable EVTX file: {exc}", path=path) from exc
    it: Any = parser.records_json()
    errors = 0
    while True:
        try:
            rec = next(it)
        except StopIteration:
            break
        except Exception as exc:  # noqa: BLE001 - the Rust parser raises RuntimeError-likes on bad chunks
            errors += 1
            stats.skip(f"EVTX record unreadable ({str(exc).splitlines()[0][:80]})")
            if errors > 10000:
                stats.truncated = "too many unreadable EVTX records"
                break
            continue
        stats.lines += 1
        raw = str(rec.get("data") or "")
        stats.bytes_read += len(raw)
        if len(raw) > max_record:
            stats.skip(f"EVTX record larger than {max_record} bytes")
            continue
        if prefilter_any is not None and not prefilter_any(raw.lower()):
            continue
        try:
            event = safejson.loads(raw)
        except json.JSONDecodeError:
            stats.skip("EVTX record is not valid JSON")
            continue
        if not isinstance(event, dict):
            stats.skip("EVTX record is not a JSON object")
            continue
        yield int(str(rec.get("event_record_id") or 0)), raw, event


def iter_evtx(path: str, stats: ReadStats, prefilter_any: Any = None, max_record: int = 16 * 1024 * 1024
              ) -> Iterator[EvtxRecord]:
    """Records that pass the prefilter (a callable on lowercase JSON text), parsed into observations."""
    for number, raw, event in iter_evtx_events(path, stats, prefilter_any, max_record):
        obs, computer, eid, record_id, image = record_observations(event)
        yield EvtxRecord(number, raw, obs, computer, eid, record_id, image)
