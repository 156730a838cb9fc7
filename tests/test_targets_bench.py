"""bench/bench_targets.py runs end to end on a tiny tree (no timing asserted)."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))


def test_bench_targets_smoke(tmp_path: Path, capsys) -> None:
    import bench_targets

    assert bench_targets.main(["--size-mb", "2", "--files", "20", "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "zip (deflate)" in out and "tar.zst" in out
    assert out.count("1 payload hits") == out.count("\n") - 3  # every target finds the planted payload
