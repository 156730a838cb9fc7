"""One error style for every usage and input error, and no terminal escape from input in any message."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli

OSC = "\x1b]0;owned\x07"  # sets the terminal title
CSI = "\x1b[2J\x1b[31m"  # clears the screen, red
HOSTILE = ["\x1b", "\x07", "\x9b", "\u202e"]


def assert_one_clean_error(err: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("tracehound: error: "), err
    assert not any(c in err for c in HOSTILE), repr(err)


def test_inventory_header_escapes_do_not_reach_the_terminal(tmp_path: Path, capsys) -> None:
    inv = tmp_path / "inv.csv"
    inv.write_text(f"{OSC}asset{CSI},\u202eprogram,rev\nPC-1,3CX Desktop App,18.12.416\n")
    code, _, err = run_cli(["scope", str(inv), "-o", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2
    assert_one_clean_error(err)
    assert "no column for host" in err and "asset" in err  # the header is still quoted, made harmless


def test_newline_in_quoted_input_cannot_fake_a_line(tmp_path: Path, capsys) -> None:
    inv = tmp_path / "inv.csv"
    inv.write_text('"a\ntracehound: scope: 0 hosts affected",b\n1,2\n')
    code, _, err = run_cli(["scope", str(inv), "-o", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2
    assert_one_clean_error(err)


def test_path_argument_with_escapes(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(["sweep", "--root", str(tmp_path / f"no{CSI}such"), "-o", str(tmp_path / "o")], capsys)
    assert code == 2
    assert_one_clean_error(err)


@pytest.mark.parametrize("args, words", [
    (["sweep", "--root", "/nonexistent-th"], "Invalid value for --root"),  # click's BadParameter
    (["hunt", "--bogus", "x"], "No such option"),  # click's NoSuchOption
    (["sweep", "--jobs", "x", "--root", "."], "'x' is not a valid integer"),
    (["hunt"], "Missing argument"),
    (["hunt", "--since", "yesterday", "x"], "not a date"),  # tracehound's own UsageError
    (["hunt", str(Path(__file__).parent / "no-such-file.log")], "no such file or folder"),
])
def test_one_error_style(args: list[str], words: str, capsys) -> None:
    code, _, err = run_cli(args, capsys)
    assert code == 2, err
    assert_one_clean_error(err)
    assert words in err
    assert "Error:" not in err and "Usage:" not in err
