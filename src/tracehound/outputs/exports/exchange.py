"""Intel exchange: STIX 2.1 and MISP, the same writers as the pack formats, on the selection.

Both are JSON (the writer escapes every character), but an importer turns values back into
rules: each value must still be canonical for its type (the pack allow-lists) or it is refused."""

from __future__ import annotations

from tracehound.intel.formats import misp, stix
from tracehound.intel.model import Indicator, Pack, canonical_value
from tracehound.outputs.exports.safety import Refused, keep
from tracehound.outputs.exports.select import ExportOptions, Selection


def _pack(sel: Selection, fmt: str) -> Pack:
    p = Pack(name=sel.pack.name, title=sel.pack.title, campaign=sel.pack.campaign, published=sel.pack.published)
    for ind, _ in keep(sel, fmt, sel.indicators, lambda i: _writable(fmt, i)):
        p.add(ind)
    return p


def _writable(fmt: str, ind: Indicator) -> str:
    """The canonical value, when the format's writer has a place for the type (a host artefact the writer cannot
    map yet is refused and counted, instead of failing the whole export)."""
    value = _canonical(ind)
    why = unwritable(fmt, ind)
    if why:
        raise Refused(why)
    return value


def unwritable(fmt: str, ind: Indicator) -> str:
    """Why the STIX or MISP writer has no place for this indicator's type ('' when it has one)."""
    if fmt == "stix":
        try:
            stix.pattern_for(ind)
        except ValueError as exc:
            return f"{exc} in the STIX writer yet"
    elif fmt == "misp" and ind.type not in misp._TO_MISP:
        return f"no MISP attribute type for {ind.type.value} in the MISP writer yet"
    return ""


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
