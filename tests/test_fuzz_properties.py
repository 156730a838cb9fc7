"""Property-based tests (hypothesis) of every parser on hostile bytes: only tracehound's own
error types may escape, and each call stays fast. The same entry points are the atheris
targets under fuzz/ (coverage-guided, run for minutes)."""

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from seeds import seeds_for  # noqa: E402

from tracehound.fuzzing import TARGETS, check  # noqa: E402

SEED_CAP = 8192  # real seeds are up to 128 KiB (fuzz/seeds.py); the property test mutates their heads


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Load what the first call of a target loads (MISP warninglists: seconds) outside hypothesis's deadline."""
    for target in TARGETS:
        for seed in seeds_for(target)[:1]:
            check(target, seed[:SEED_CAP])


@st.composite
def mutated(draw: st.DrawFn, target: str) -> bytes:
    base = draw(st.sampled_from([s[:SEED_CAP] for s in seeds_for(target)] or [b""]))
    ops = draw(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1 << 16), st.binary(max_size=16)), max_size=6))
    buf = bytearray(base)
    for op, pos, blob in ops:
        p = pos % (len(buf) + 1)
        if op == 0:
            buf[p:p] = blob  # insert
        elif op == 1:
            del buf[p : p + len(blob) + 1]  # delete
        elif op == 2 and buf:
            buf[p % len(buf)] ^= 0xFF  # flip
        elif op == 3:
            buf = buf[:p]  # truncate
        else:
            buf[p:p] = buf[p : p + 64] * 3  # repeat a slice
    return bytes(buf)


@pytest.mark.parametrize("target", sorted(TARGETS))
@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_parser_survives_hostile_input(target: str, data: st.DataObject) -> None:
    blob = data.draw(st.one_of(st.binary(max_size=4096), mutated(target)))
    check(target, blob)
