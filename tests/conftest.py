"""Shared fixtures. Real third-party samples live in ../shared (beside the repository);
tests that need them skip cleanly when it is absent."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = SHARED / "seed" / "000_aa0ebd22f827072c.txt"
SAMPLES = SHARED / "samples"

# Caches the code under test writes (compiled YARA rules) go to a private folder, never the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="tracehound-test-cache-")


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present (third-party samples live in ../shared)")
    return path


@pytest.fixture
def seed() -> Path:
    return need(SEED)


@pytest.fixture
def samples() -> Path:
    return need(SAMPLES)


@pytest.fixture(scope="session")
def pack3cx():
    from tracehound.intel.builtin import load_intel

    return load_intel(None)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the tracehound CLI in-process; returns (exit code, stdout, stderr)."""
    from tracehound.cli import main

    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


sys.path.insert(0, str(Path(__file__).parent))
