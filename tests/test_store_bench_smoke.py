"""bench/bench_store.py runs end to end on a tiny corpus (no timing asserted) and finds the raw hunt's set."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))


def test_bench_store_smoke(tmp_path: Path, capsys) -> None:
    import bench_store

    assert bench_store.main(["--size-mb", "1", "--days", "4", "--hosts", "500", "--big-pack", "300",
                             "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3cx pack: same" in out and "300-indicator pack: same" in out and "store:" in out
    assert " 0 pairs" not in out  # C2 contacts were injected and found by both
