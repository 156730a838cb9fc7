"""Records for Sigma from what tracehound reads.

EVTX: every System field (EventID, Channel, Computer, Provider_Name, Provider_Guid, Level, Task,
Opcode, Keywords, EventRecordID, Version, TimeCreated_SystemTime, Security_UserID,
Execution_ProcessID...) and every EventData/UserData field under its own Windows name, as the
SigmaHQ Windows rules expect; field aliases of the logsource table added for events whose names
differ (Security 4688 NewProcessName is also Image...).

Text readers: the Observation's attributes under the Sigma taxonomy names of the rule's category
(fields.json: proxy c-uri/cs-host..., dns query/answer...) and under their ECS names.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tracehound import safejson
from tracehound.matching.sigma.record import SigmaRecord
from tracehound.matching.sigma.tables import fields, logsources
from tracehound.sources.logs.observation import Observation


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """System elements: {'Provider': {'#attributes': {'Name': x}}} -> Provider_Name = x."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "#attributes":
                _flat(prefix, v, out)
            elif k == "#text":
                out[prefix] = v
            else:
                _flat(f"{prefix}_{k}" if prefix else k, v, out)
    else:
        out[prefix] = value


def _data_value(v: Any) -> Any:
    if isinstance(v, dict):
        return v.get("#text", None) if "#text" in v else str(v)
    return v


def _data_fields(data: Any, out: dict[str, Any]) -> None:
    """EventData/UserData: named fields as-is; nested UserData elements by their leaf names."""
    if not isinstance(data, dict):
        if data not in (None, ""):
            out.setdefault("Data", data)
        return
    for k, v in data.items():
        if k == "#attributes":
            continue
        if isinstance(v, dict) and "#text" not in v:
            _data_fields(v, out)
        elif isinstance(v, list):
            out[k] = [_data_value(x) for x in v]
        else:
            out[k] = _data_value(v)
        if " " in k:  # Defender's 'Source Name': Sigma rules (and SigmaHQ's JSON export) drop the spaces
            out.setdefault(k.replace(" ", ""), out[k])


def evtx_record(event: dict[str, Any]) -> SigmaRecord:
    ev = event.get("Event") if isinstance(event.get("Event"), dict) else {}
    assert isinstance(ev, dict)
    rec: dict[str, Any] = {}
    _data_fields(ev.get("EventData"), rec)
    _data_fields(ev.get("UserData"), rec)
    system: dict[str, Any] = {}
    _flat("", ev.get("System") if isinstance(ev.get("System"), dict) else {}, system)
    rec.update(system)  # System names win over an EventData field of the same name
    eid = rec.get("EventID")
    try:
        rec["EventID"] = int(str(eid))
    except (TypeError, ValueError):
        pass
    return _with_aliases(rec)


def _with_aliases(rec: dict[str, Any]) -> SigmaRecord:
    for alias, source in aliases_for(str(rec.get("Channel") or ""), rec.get("EventID")).items():
        if source in rec and alias not in rec:
            rec[alias] = rec[source]
    return SigmaRecord(rec)


def windows_json_record(text: str) -> SigmaRecord | None:
    """A JSON line holding a Windows event: the EVTX JSON shape ({"Event": {"System"...}}, as
    evtx_dump writes it) or Winlogbeat's ECS (winlog.event_data, winlog.channel...); else None."""
    if not text.startswith("{") or ('"Event"' not in text and '"winlog"' not in text):
        return None
    try:
        obj = safejson.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("Event"), dict) and isinstance(obj["Event"].get("System"), dict):
        return evtx_record(obj)
    win = obj.get("winlog")
    if not isinstance(win, dict) or "channel" not in win:
        return None
    rec: dict[str, Any] = {}
    _data_fields(win.get("event_data"), rec)
    _data_fields(win.get("user_data"), rec)
    host: dict[str, Any] = obj["host"] if isinstance(obj.get("host"), dict) else {}
    event: dict[str, Any] = obj["event"] if isinstance(obj.get("event"), dict) else {}
    eid = win.get("event_id", event.get("code"))
    try:
        eid = int(str(eid))
    except (TypeError, ValueError):
        pass
    rec.update({"Channel": win.get("channel"), "EventID": eid, "Provider_Name": win.get("provider_name"),
                "Computer": win.get("computer_name") or host.get("name"), "EventRecordID": win.get("record_id"),
                "TimeCreated_SystemTime": obj.get("@timestamp")})
    return _with_aliases({k: v for k, v in rec.items() if v is not None})


_ALIASES: dict[tuple[str, Any], dict[str, str]] = {}


def aliases_for(channel: str, eid: Any) -> dict[str, str]:
    key = (channel, eid)
    if key not in _ALIASES:
        out: dict[str, str] = {}
        for sels in logsources()["windows"]["categories"].values():
            for sel in sels:
                if sel.get("fields") and sel["channel"] == channel and eid in sel["event_ids"]:
                    out.update(sel["fields"])
        _ALIASES[key] = out
    return _ALIASES[key]


def _derived(obs: Observation, attr: str) -> Any:
    if attr.startswith("url_"):
        if not obs.url:
            return None
        try:
            parts = urlsplit(obs.url if "://" in obs.url or obs.url.startswith("/") else "//" + obs.url)
        except ValueError:
            return None
        if attr == "url_path":
            return parts.path or None
        if attr == "url_query":
            return parts.query or None
        if attr == "url_pathquery":
            return (parts.path + ("?" + parts.query if parts.query else "")) or None
        if attr == "url_extension":
            last = parts.path.rsplit("/", 1)[-1]
            return last.rsplit(".", 1)[1] if "." in last else None
        if attr == "url_host":
            return parts.hostname
        return None
    value = getattr(obs, attr, None)
    return None if value in ("", [], None) else value


def observation_record(obs: Observation, table_name: str) -> SigmaRecord:
    """A text reader's observation under the names of one Sigma logsource (proxy, dns, zeek...)."""
    tab = fields()
    rec: dict[str, Any] = {}
    for name, attr in tab["ecs"].items():
        v = _derived(obs, attr)
        if v is not None:
            rec[name] = v
    for name, attr in tab.get(table_name, {}).items():
        v = _derived(obs, attr)
        if v is not None:
            rec[name] = v
    return SigmaRecord(rec)
