"""Sightings back to the intel's source, one per (indicator, host) hit of a store hunt.

MISP: sighting type 0 ("seen"), `date_sighting` the host's last contact (not the hunt time),
`source` the host; a JSON list each entry of which PyMISP loads as a MISPSighting.
STIX 2.1: a `sighting` of the indicator (same id as `tracehound export` gives it, so it links to
the exported bundle) with first_seen, last_seen, count and where_sighted_refs to an identity
object per host (identity_class 'system'); the indicators and identities are in the bundle."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from tracehound.findings.ecs import iso_ts
from tracehound.fsutil import atomic_write_text
from tracehound.intel.formats.stix import _oid, pattern_for
from tracehound.intel.model import Indicator
from tracehound.stores.query import StoreHit

_EPOCH = "1970-01-01T00:00:00.000Z"


def per_indicator_host(hits: list[StoreHit]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for h in hits:
        for m in h.matches:
            e = out.setdefault((m.indicator.value, h.host), {"indicator": m.indicator, "first": None, "last": None, "count": 0})
            e["count"] += h.count
            if h.first and (e["first"] is None or h.first < e["first"]):
                e["first"] = h.first
            if h.last and (e["last"] is None or h.last > e["last"]):
                e["last"] = h.last
    return out


def misp_sightings(hits: list[StoreHit], pack_name: str) -> list[dict[str, Any]]:
    out = []
    for (value, host), e in sorted(per_indicator_host(hits).items()):
        last: datetime | None = e["last"]
        out.append({"type": "0", "value": value, "source": f"tracehound:{host}",
                    "date_sighting": str(int(last.timestamp())) if last else None})
    return [{k: v for k, v in s.items() if v is not None} for s in out]


def _stix_ts(ts: datetime | None) -> str:
    iso = iso_ts(ts)
    if not iso:
        return _EPOCH
    return iso.replace("Z", "") + ("Z" if "." in iso else ".000Z") if iso.endswith("Z") else iso


def stix_sightings(hits: list[StoreHit], pack_name: str) -> dict[str, Any]:
    import stix2

    groups = per_indicator_host(hits)
    identities: dict[str, Any] = {}
    indicators: dict[str, Any] = {}
    sightings = []
    for (_value, host), e in sorted(groups.items()):
        ind: Indicator = e["indicator"]
        iid = _oid("indicator", pack_name, *ind.key)
        if iid not in indicators:
            indicators[iid] = stix2.Indicator(id=iid, name=f"{ind.type.value} {ind.display()}", pattern=pattern_for(ind),
                                              pattern_type="stix", valid_from=_EPOCH, created=_EPOCH, modified=_EPOCH)
        if host not in identities:
            identities[host] = stix2.Identity(id=_oid("identity", "tracehound-host", host), name=host,
                                              identity_class="system", created=_EPOCH, modified=_EPOCH)
        first, last = _stix_ts(e["first"]), _stix_ts(e["last"])
        sightings.append(stix2.Sighting(
            id=_oid("sighting", pack_name, *ind.key, host), sighting_of_ref=iid, count=e["count"],
            first_seen=first, last_seen=last, where_sighted_refs=[identities[host].id],
            created=last, modified=last, description=f"tracehound hunt --store: {host}"))
    objects = [*indicators.values(), *identities.values(), *sightings]
    bundle = stix2.Bundle(objects=objects, id=_oid("bundle", pack_name, "sightings", str(len(sightings))))
    result: dict[str, Any] = json.loads(bundle.serialize())
    return result


def write_json(path: str, data: Any) -> None:
    atomic_write_text(Path(path), json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
