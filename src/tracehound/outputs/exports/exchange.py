"""Intel exchange: STIX 2.1 and MISP, the same writers as the pack formats, on the selection."""

from __future__ import annotations

from tracehound.intel.formats import misp, stix
from tracehound.intel.model import Pack
from tracehound.outputs.exports.select import ExportOptions, Selection


def _pack(sel: Selection) -> Pack:
    p = Pack(name=sel.pack.name, title=sel.pack.title, campaign=sel.pack.campaign, published=sel.pack.published)
    for ind in sel.indicators:
        p.add(ind)
    return p


def export_stix(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    return {f"{sel.slug}.stix.json": stix.dumps(_pack(sel))}


def export_misp(sel: Selection, opt: ExportOptions) -> dict[str, str]:
    return {f"{sel.slug}.misp.json": misp.dumps(_pack(sel))}
