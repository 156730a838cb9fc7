"""Every fuzz target starts from real seeds: ../shared/samples when present, generated files otherwise;
each seed runs through its target without an unexpected exception."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import REPO, SAMPLES

sys.path.insert(0, str(REPO / "fuzz"))

from seeds import generated_seeds, real_seeds, seeds_for  # noqa: E402

from tracehound.fuzzing import TARGETS, check  # noqa: E402


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_target_has_seeds_that_run(target: str) -> None:
    seeds = seeds_for(target)
    assert seeds, target
    for s in seeds:
        check(target, s)  # only tracehound's own errors may escape (how fast: bench/, not a wall clock here)


def test_real_seeds_used_when_samples_present(samples: Path) -> None:
    from tracehound.sources.logs.evtx_source import EVTX_MAGIC, iter_evtx
    from tracehound.sources.logs.stream import ReadStats

    evtx_seeds = real_seeds("evtx_file")
    assert len(evtx_seeds) >= 3 and all(len(s) > 60000 for s in evtx_seeds)
    assert seeds_for("evtx_file")[: len(evtx_seeds)] == evtx_seeds  # real seeds first
    # the seed as the target sees it (magic prepended) is a real EVTX file with records
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".evtx") as fh:
        fh.write(EVTX_MAGIC + evtx_seeds[0])
        fh.flush()
        stats = ReadStats()
        assert sum(1 for _ in iter_evtx(fh.name, stats)) + stats.lines > 0
    for target in ("readers", "log_stream", "packs", "evtx_record", "yara_rules", "advisory"):
        assert real_seeds(target), target
    assert len(real_seeds("readers")) > len(generated_seeds("readers"))


def test_generated_seeds_without_samples(monkeypatch, tmp_path: Path) -> None:
    import seeds

    monkeypatch.setattr(seeds, "SAMPLES", tmp_path / "absent")
    assert seeds.real_seeds("evtx_file") == [] and seeds.real_seeds("readers") == []
    assert all(generated_seeds(t) for t in TARGETS)


def test_samples_path_is_the_shared_one() -> None:
    import seeds

    assert seeds.SAMPLES == SAMPLES
