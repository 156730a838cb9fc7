"""Intel exchange: STIX 2.1 and MISP, the same writers as the pack formats, on the selection.

Both are JSON (the writer escapes every character), but an importer turns values back into
rules: each value must still be canonical for its type (the pack allow-lists) or it is refused. A type
the writer has no STIX pattern or MISP attribute type for is refused with that reason, never a crash of the
whole export."""

from __future__ import annotations

from tracehound.intel.formats import misp, stix
from tracehound.intel.model import Indicator, Pack, canonical_value
from tracehound.outputs.exports.safety import Refused, keep
from tracehound.outputs.exports.select import ExportOptions, Selection


def _pack(sel: Selection, fmt: str) -> Pack:
    p = Pack(name=sel.pack.name, title=sel.pack.title, campaign=sel.pack.campaign, published=sel.pack.published)
    for ind, _ in keep(sel, fmt, sel.indicators, _stix if fmt == "stix" else _misp):
        p.add(ind)
    return p


def _stix(ind: Indicator) -> str:
    value = _canonical(ind)
    try:
        stix.pattern_for(ind)
    except ValueError as exc:
        raise Refused(f"the STIX writer has no pattern for {ind.type.value}") from exc
    return value


def _misp(ind: Indicator) -> str:
    value = _canonical(ind)
    if ind.type not in misp._TO_MISP:  # the writer's own table (intel/formats/misp.py)
        raise Refused(f"the MISP writer has no attribute type for {ind.type.value}")
    return value


def _canonical(ind: Indicator) -> str:
    try:
        value = canonical_value(ind.type, ind.value)
    except ValueError as exc:
        raise Refused(f"not a canonical {ind.type.value}: {exc}") from exc
    if value != ind.value:
        raise Refused(f"not a canonical {ind.type.value} (canonical form differs)")
    return value


def export_stix(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    return {f"{sel.slug}.stix.json": stix.dumps(_pack(sel, "stix"))}


def export_misp(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    return {f"{sel.slug}.misp.json": misp.dumps(_pack(sel, "misp"))}
