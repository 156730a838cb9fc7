"""The benchmark scripts run end to end on tiny inputs (no timing asserted here)."""

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))


def test_bench_hunt_smoke(tmp_path: Path, capsys) -> None:
    import bench_hunt

    assert bench_hunt.main(["--size-mb", "2", "--big-pack", "500", "--mixed-mb", "4", "--repeat", "1",
                            "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tracehound" in out and "timeline correct" in out and "500-indicator pack" in out


def test_bench_sweep_smoke(tmp_path: Path, capsys) -> None:
    import bench_sweep

    assert bench_sweep.main(["--size-mb", "4", "--files", "50", "--repeat", "1", "--workdir", str(tmp_path),
                             "--yara", "none"]) == 0
    out = capsys.readouterr().out
    assert "parallel sha256sum" in out and "1 payload hits" in out


def test_bench_sweep_yara_smoke(tmp_path: Path, capsys) -> None:
    import shutil

    import bench_sweep

    from conftest import SAMPLES, need

    if not shutil.which("yara"):
        pytest.skip("Debian's yara is not installed (scripts/install-system-deps.sh)")
    rules = need(SAMPLES / "yara")
    assert bench_sweep.main(["--size-mb", "2", "--files", "20", "--repeat", "1", "--workdir", str(tmp_path),
                             "--yara", f"3cx={rules}"]) == 0
    out = capsys.readouterr().out
    assert "YARA 3cx (4 files)" in out and "tracehound cached" in out and "yara -r -p" in out
    assert "(file, rule) as yara" in out  # the planted files match, and both tools report the same pairs
    assert bench_sweep.main(["--size-mb", "2", "--files", "20", "--repeat", "1", "--workdir", str(tmp_path),
                             "--yara", f"3cx={rules}", "--yara-only"]) == 0
    out = capsys.readouterr().out
    assert "YARA 3cx (4 files)" in out and "parallel sha256sum" not in out


def test_yara_rule_cost_smoke(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("yara_x")
    import yara_rule_cost

    monkeypatch.setattr(yara_rule_cost.yg, "MIN_GROUP", 1)  # the PE rule in a group of its own
    (tmp_path / "r.yar").write_text('rule Cheap { strings: $a = "abcdefgh" condition: $a }\n'
                                    'rule Costly { strings: $a = "ab" xor $b = /a.b/ condition: any of them }\n'
                                    'rule PE { strings: $a = "x" condition: uint16(0) == 0x5a4d and $a }\n')
    assert yara_rule_cost.main(["--rules", str(tmp_path), "--mb", "1", "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 items, 1 MB random" in out  # the PE rule is in no "any file" group
    rows = [line for line in out.splitlines() if line.startswith("| ") and "r.yar:" in line]
    assert len(rows) == 2 and "r.yar:Costly" in rows[0] and "2 strings: 1 xor, 1 regex" in rows[0]


def test_corpus_is_deterministic(tmp_path: Path) -> None:
    from corpus import squid_log

    a, b = tmp_path / "a.log", tmp_path / "b.log"
    ta, tb = squid_log(a, 200_000, 7), squid_log(b, 200_000, 7)
    assert a.read_bytes() == b.read_bytes() and ta.contacts == tb.contacts and ta.hits == 7


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_bench_paths_smoke(tmp_path: Path, capsys) -> None:
    import bench_paths

    assert bench_paths.main(["--files", "200", "--indicators", "40", "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "planted paths found: yes" in out and "40 path indicators" in out


def test_bench_extract_smoke(tmp_path: Path, capsys) -> None:
    import bench_extract

    assert bench_extract.main(["--size-mb", "0.05", "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "vendor-shaped advisory" in out and "one-line document" in out and out.count("correct") == 2


def test_hunt_phases_smoke(tmp_path: Path) -> None:
    """Run as a subprocess: the script wraps the engine's functions for the rest of its process."""
    import os
    import subprocess

    from corpus import squid_log

    log = tmp_path / "access.log"
    truth = squid_log(log, 2 * 1048576, hits=20)
    out = tmp_path / "f.jsonl"
    env = dict(os.environ, PYTHONPATH=str(BENCH.parent / "src"))
    got = subprocess.run([sys.executable, str(BENCH / "hunt_phases.py"), "--", "--intel", "3cx", "-j", "2", "-o", str(out),
                          str(log)], capture_output=True, text=True, env=env, check=True).stdout
    phases = {line[8:33].strip() for line in got.splitlines()[1:]}
    assert {"import cli", "load_intel", "hunt range (worker)", "first sightings", "whole run (parent)"} <= phases
    assert sum(1 for _ in out.open()) == truth.hits
