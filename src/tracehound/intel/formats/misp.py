"""MISP event JSON (what MISP exports and PyMISP loads)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tracehound import safejson
from tracehound.errors import PackError
from tracehound.intel.model import Exclusion, Indicator, IType, Pack
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
_FROM_MISP: dict[str, IType] = {
    "domain": IType.DOMAIN, "hostname": IType.DOMAIN, "url": IType.URL, "uri": IType.URL, "link": IType.URL,
    "md5": IType.MD5, "sha1": IType.SHA1, "sha256": IType.SHA256, "sha512": IType.SHA512,
    "filename": IType.FILENAME,
    "x509-fingerprint-sha1": IType.CERT_SHA1, "x509-fingerprint-sha256": IType.CERT_SHA256,
    "email-src": IType.EMAIL, "email-dst": IType.EMAIL, "AS": IType.ASN, "pattern-filename": IType.FILENAME_REGEX,
}
_SOFTWARE_MARK = "tracehound-software"


def _comment(ind: Indicator) -> str:
    parts = [f"{k}={','.join(ind.ctx(k))}" for k in sorted(ind.context)]
    return "; ".join(one_line(p) for p in parts)


def _parse_comment(comment: str) -> dict[str, str | list[str]]:
    ctx: dict[str, str | list[str]] = {}
    for part in comment.split("; "):
        k, sep, v = part.partition("=")
        if sep and k and " " not in k:
            ctx[k] = v.split(",") if "," in v else v
    return ctx


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
        "published": False, "Attribute": attrs, "Tag": [{"name": "tlp:clear"}],
    }}


def dumps(pack: Pack) -> str:
    return json.dumps(to_event(pack), indent=1, ensure_ascii=False) + "\n"


def loads(text: str, path: str = "<misp>") -> Pack:
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
    pack = Pack(name="misp")
    unread: dict[str, int] = {}
    for ev in events:
        if not isinstance(ev, dict):
            raise PackError("MISP event is not an object", path=path)
        pack.title = pack.title or str(ev.get("info", ""))
        pack.published = pack.published or str(ev.get("date", ""))
        attrs = list(ev.get("Attribute") or [])
        for obj in ev.get("Object") or []:
            attrs += list(obj.get("Attribute") or []) if isinstance(obj, dict) else []
        for a in attrs:
            kind = _add_attribute(pack, a, path)
            if kind:
                unread[kind] = unread.get(kind, 0) + 1
    for kind, n in sorted(unread.items()):  # counted, never silent (regkey, mutex, yara, text...)
        pack.excluded.append(Exclusion(f"{n} attribute(s)", "misp", f"MISP type {kind!r} is not an indicator tracehound "
                                       "matches", path, 0))
    return pack


def _ip(v: str) -> IType:
    return IType.CIDR if "/" in v else IType.IPV6 if ":" in v else IType.IPV4


def _add_attribute(pack: Pack, a: Any, path: str) -> str:
    """Add the attribute's indicator(s); returns its MISP type when it holds none tracehound reads."""
    if not isinstance(a, dict):
        return "(not an object)"
    mtype, value, comment = str(a.get("type", "")), str(a.get("value", "")), str(a.get("comment", "") or "")
    values: list[tuple[IType, str]] = []
    if mtype in ("ip-dst", "ip-src"):
        values = [(_ip(value), value)]
    elif mtype == "text" and comment.startswith(_SOFTWARE_MARK):
        values = [(IType.SOFTWARE, value)]
        comment = comment[len(_SOFTWARE_MARK):].lstrip("; ")
    elif "|" in mtype:  # composite, e.g. filename|sha256, domain|ip
        for t, v in zip(mtype.split("|"), value.split("|"), strict=False):
            if t in _FROM_MISP:
                values.append((_FROM_MISP[t], v))
            elif t in ("ip", "ip-dst", "ip-src"):  # domain|ip, ip-dst|port, ip-src|port
                values.append((_ip(v), v))
    elif mtype in _FROM_MISP:
        values = [(_FROM_MISP[mtype], value)]
    for itype, v in values:
        pack.add_value(itype, v, _parse_comment(comment), 80 if a.get("to_ids", True) else 40, document=path,
                       where=f"MISP {mtype} attribute {str(a.get('uuid', ''))[:36]}".rstrip())
    return "" if values else mtype
