"""Helpers to run the local hunt engine in tests."""

from __future__ import annotations

import json
from pathlib import Path

from tracehound.engines.hunt_summary import HuntSummary, find_first_sightings
from tracehound.engines.local_hunt import HuntOptions, run_hunt
from tracehound.intel.builtin import load_intel
from tracehound.intel.model import Pack


def make_pack(tmp_path: Path) -> Pack:
    from logfixtures import EXTRA_PACK_CSV

    extra = tmp_path / "extra.csv"
    extra.write_text(EXTRA_PACK_CSV)
    return load_intel(["3cx", str(extra)])


def hunt(pack: Pack, paths: list[str], **kw) -> tuple[list[dict], HuntSummary]:
    summary = HuntSummary()
    docs: list[dict] = []
    for rep, tmp in run_hunt(pack, paths, HuntOptions(**kw)):
        summary.files.append(rep)
        if tmp:
            for line in Path(tmp).read_text(encoding="utf-8").splitlines():
                d = json.loads(line)
                docs.append(d)
                summary.add_finding(d)
            Path(tmp).unlink()
    if summary.hosts:
        find_first_sightings(summary, kw.get("mapping", {}))
    return docs, summary


def hits(docs: list[dict]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for d in docs:
        for e in d["threat"]["enrichments"]:
            out.setdefault(d["tracehound"]["line"], set()).add(e["matched"]["indicator"])
    return out
