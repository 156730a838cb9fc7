"""Helpers to run the local hunt engine in tests."""

from __future__ import annotations

import json
from pathlib import Path

from tracehound.engines.hunt_summary import HuntSummary, hunt_to_writer
from tracehound.engines.local_hunt import HuntOptions
from tracehound.findings.ecs import matched_indicators
from tracehound.intel.builtin import load_intel
from tracehound.intel.model import Pack


def make_pack(tmp_path: Path) -> Pack:
    from logfixtures import EXTRA_PACK_CSV

    extra = tmp_path / "extra.csv"
    extra.write_text(EXTRA_PACK_CSV)
    return load_intel(["3cx", str(extra)])


def hunt(pack: Pack, paths: list[str], **kw) -> tuple[list[dict], HuntSummary]:
    lines: list[str] = []
    summary = hunt_to_writer(pack, paths, HuntOptions(**kw), lines.append)
    return [json.loads(line) for line in lines], summary


def hits(docs: list[dict]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for d in docs:
        for m in matched_indicators(d):
            out.setdefault(d["tracehound"]["line"], set()).add(m["value"])
    return out
