"""MISP event JSON (what MISP exports and PyMISP loads)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tracehound import safejson
from tracehound.errors import PackError
from tracehound.intel.model import Indicator, IType, Pack, canonical_value

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
    return "; ".join(p.replace("\n", " ") for p in parts)


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
    for ev in events:
        if not isinstance(ev, dict):
            raise PackError("MISP event is not an object", path=path)
        pack.title = pack.title or str(ev.get("info", ""))
        pack.published = pack.published or str(ev.get("date", ""))
        attrs = list(ev.get("Attribute") or [])
        for obj in ev.get("Object") or []:
            attrs += list(obj.get("Attribute") or []) if isinstance(obj, dict) else []
        for a in attrs:
            _add_attribute(pack, a, path)
    return pack


def _add_attribute(pack: Pack, a: Any, path: str) -> None:
    if not isinstance(a, dict):
        return
    mtype, value, comment = str(a.get("type", "")), str(a.get("value", "")), str(a.get("comment", "") or "")
    values: list[tuple[IType, str]] = []
    if mtype in ("ip-dst", "ip-src"):
        values = [(IType.CIDR if "/" in value else IType.IPV6 if ":" in value else IType.IPV4, value)]
    elif mtype == "text" and comment.startswith(_SOFTWARE_MARK):
        values = [(IType.SOFTWARE, value)]
        comment = comment[len(_SOFTWARE_MARK):].lstrip("; ")
    elif "|" in mtype:  # composite, e.g. filename|sha256, domain|ip
        for t, v in zip(mtype.split("|"), value.split("|"), strict=False):
            if t in _FROM_MISP:
                values.append((_FROM_MISP[t], v))
            elif t == "ip":
                values.append((IType.IPV6 if ":" in v else IType.IPV4, v))
    elif mtype in _FROM_MISP:
        values = [(_FROM_MISP[mtype], value)]
    for itype, v in values:
        try:
            pack.add(Indicator(itype, canonical_value(itype, v), _parse_comment(comment),
                               80 if a.get("to_ids", True) else 40))
        except ValueError:
            from tracehound.intel.model import Exclusion

            pack.excluded.append(Exclusion(v, mtype, "invalid value for its MISP type", path, 0))
