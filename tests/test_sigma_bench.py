"""bench/bench_sigma.py runs (small inputs; no timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import REPO, SAMPLES, need


def test_bench_sigma_smoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    rules = need(SAMPLES / "sigma-rules" / "rules" / "windows" / "registry" / "registry_set")
    evtx_dir = need(SAMPLES / "sigma-regression" / "regression_data" / "rules" / "windows" / "registry")
    sys.path.insert(0, str(REPO / "bench"))
    import bench_sigma

    monkeypatch.setattr(sys, "argv", ["bench_sigma.py", "--rules", str(rules), "--evtx", str(evtx_dir)])
    bench_sigma.main()
    out = capsys.readouterr().out
    ours = next(line for line in out.splitlines() if line.startswith("tracehound:"))
    theirs = next(line for line in out.splitlines() if line.startswith("pySigma SQLite backend:"))
    n_ours = int(ours.split(" hits")[0].rsplit(" ", 1)[1])
    n_theirs = int(theirs.split(" hits")[0].rsplit(" ", 1)[1])
    assert n_ours == n_theirs > 0
    assert "peak RSS" in out and Path(rules).is_dir()


def test_bench_sigma_evtx_set_memory(capsys: pytest.CaptureFixture[str]) -> None:
    """--evtx-set: hard links hunted by `tracehound hunt --sigma`, its tree's PSS sampled; the set is removed."""
    import glob
    import re

    rules = need(SAMPLES / "sigma-rules" / "rules" / "windows" / "registry" / "registry_set")
    evtx_dir = need(SAMPLES / "sigma-regression" / "regression_data" / "rules" / "windows" / "registry")
    sys.path.insert(0, str(REPO / "bench"))
    import bench_sigma

    before = set(glob.glob("/tmp/tracehound-evtxset-*"))
    bench_sigma.main(["--rules", str(rules), "--evtx", str(evtx_dir), "--no-sqlite", "--evtx-set", "0.002",
                      "--jobs", "2"])
    out = capsys.readouterr().out
    m = re.search(r"EVTX set: ([\d,]+) files", out)
    assert m and int(m.group(1).replace(",", "")) >= len(list(Path(evtx_dir).rglob("*.evtx")))
    run = next(line for line in out.splitlines() if line.startswith("tracehound hunt --sigma"))
    hits = int(re.search(r"([\d,]+) rule hits", run).group(1).replace(",", ""))  # type: ignore[union-attr]
    lines = int(re.search(r"([\d,]+) finding lines", run).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert "(exit 1)" in run and hits > 0 and lines >= hits  # findings: exit code 1
    mem = re.search(r"peak PSS sum ([\d,]+) MB over (\d+) processes, largest process USS ([\d,]+) MB", out)
    assert mem and int(mem.group(1).replace(",", "")) > 0 and int(mem.group(2)) >= 1
    assert set(glob.glob("/tmp/tracehound-evtxset-*")) == before
