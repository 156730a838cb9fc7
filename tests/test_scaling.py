"""The linearity check the timing-free tests use (tests/scaling.py) passes linear work and fails quadratic
work, such as the backtracking regexes those tests were written against."""

from __future__ import annotations

import re

import pytest

from scaling import assert_linear

SPACES_THEN_KEY = re.compile(r"\s+src=")  # retried at every start position: quadratic on spaces without a key


def test_linear_work_passes() -> None:
    assert_linear(lambda s: s.count("a"), lambda n: "ab" * n, 2048)
    assert_linear(re.compile(r"src=").search, lambda n: " " * n, 2048)


def test_quadratic_regex_fails() -> None:
    assert SPACES_THEN_KEY.search(" " * 64 + "src=")
    with pytest.raises(AssertionError, match="linear is about x4"):
        assert_linear(SPACES_THEN_KEY.search, lambda n: " " * n, 2048)


def test_quadratic_python_fails() -> None:
    def pairs(s: str) -> int:
        return sum(s[:i].count("a") for i in range(0, len(s), 8))
    with pytest.raises(AssertionError):
        assert_linear(pairs, lambda n: "a" * n, 2048)
