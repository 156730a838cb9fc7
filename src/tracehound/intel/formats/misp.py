"""MISP event JSON (what MISP exports and PyMISP loads)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tracehound import safejson
from tracehound.errors import PackError
from tracehound.intel.formats.misp_attrs import OWN_TAG, SOFTWARE_MARK, Reader
from tracehound.intel.model import Indicator, IType, Pack
from tracehound.intel.values import one_line

_NS = uuid.UUID("a4f3c8e2-1b7d-4e0a-9c35-6f2d8b1e0c47")
_TO_MISP: dict[IType, tuple[str, str]] = {
    IType.DOMAIN: ("domain", "Network activity"),
    IType.IPV4: ("ip-dst", "Network activity"),
    IType.IPV6: ("ip-dst", "Network activity"),
    IType.CIDR: ("ip-dst", "Network activity"),
    IType.URL: ("url", "Network activity"),
    IType.EMAIL: ("email-src", "Payload delivery"),
    IType.MD5: ("md5", "Payload delivery"),
    IType.SHA1: ("sha1", "Payload delivery"),
    IType.SHA256: ("sha256", "Payload delivery"),
    IType.SHA512: ("sha512", "Payload delivery"),
    IType.CERT_SHA1: ("x509-fingerprint-sha1", "Payload delivery"),
    IType.CERT_SHA256: ("x509-fingerprint-sha256", "Payload delivery"),
    IType.FILENAME: ("filename", "Payload delivery"),
    IType.FILENAME_REGEX: ("pattern-filename", "Payload installation"),
    IType.ASN: ("AS", "Network activity"),
    IType.SOFTWARE: ("text", "Other"),
}
_SOFTWARE_MARK = SOFTWARE_MARK
# Host artefacts: MISP has no path type outside objects; full paths go in 'filename' as MISP users write them.
_TO_MISP.update({
    IType.FILE_PATH: ("filename", "Artifacts dropped"), IType.REGISTRY_KEY: ("regkey", "Persistence mechanism"),
    IType.MUTEX: ("mutex", "Artifacts dropped"), IType.PDB_PATH: ("pdb", "Artifacts dropped"),
})


def _comment(ind: Indicator) -> str:
    parts = [f"{k}={','.join(ind.ctx(k))}" for k in sorted(ind.context)]
    return "; ".join(one_line(p) for p in parts)


def to_event(pack: Pack) -> dict[str, Any]:
    attrs = []
    for ind in pack.indicators:
        mtype, category = _TO_MISP[ind.type]
        attrs.append({
            "uuid": str(uuid.uuid5(_NS, "|".join((pack.name, *ind.key)))),
            "type": mtype, "category": category, "value": ind.value,
            "to_ids": ind.confidence >= 50 and ind.type not in (IType.SOFTWARE, IType.ASN),
            "comment": (_SOFTWARE_MARK + "; " if ind.type is IType.SOFTWARE else "") + _comment(ind),
            "distribution": "5",
        })
    return {"Event": {
        "uuid": str(uuid.uuid5(_NS, pack.name)), "info": pack.title or pack.campaign or pack.name,
        "date": pack.published or "1970-01-01", "threat_level_id": "1", "analysis": "2", "distribution": "0",
        "published": False, "Attribute": attrs, "Tag": [{"name": "tlp:clear"}, {"name": OWN_TAG}],
    }}


def dumps(pack: Pack) -> str:
    return json.dumps(to_event(pack), indent=1, ensure_ascii=False) + "\n"


def loads(text: str, path: str = "<misp>", include_context: bool = False) -> Pack:
    """A pack from a MISP event (or a list of events, or a REST search `response`); see misp_attrs for
    what is an indicator, what is context (`to_ids: false`, unless include_context) and what is a rule."""
    return read(text, path, include_context).pack


def read(text: str, path: str = "<misp>", include_context: bool = False) -> Reader:
    """The reader after reading: the pack and the per-MISP-type counts (indicators, context, rules, unread)."""
    try:
        data = safejson.loads(text)
    except json.JSONDecodeError as exc:
        raise PackError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from exc
    events: list[Any] = []
    if isinstance(data, list):
        events = [e.get("Event", e) for e in data if isinstance(e, dict)]
    elif isinstance(data, dict):
        if "response" in data and isinstance(data["response"], list):
            events = [e.get("Event", e) for e in data["response"] if isinstance(e, dict)]
        else:
            events = [data.get("Event", data)]
    reader = Reader(Pack(name="misp"), path, include_context)
    pack = reader.pack
    for ev in events:
        if not isinstance(ev, dict):
            raise PackError("MISP event is not an object", path=path)
        pack.title = pack.title or str(ev.get("info", ""))
        pack.published = pack.published or str(ev.get("date", ""))
        reader.event(ev)
    reader.finish()
    return reader
