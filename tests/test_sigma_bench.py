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
