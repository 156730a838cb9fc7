"""One error style for every usage and input error, and no terminal escape from input in any message."""

from __future__ import annotations

import os
import threading
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


# ---- outputs that are not regular files: -o /dev/null, -o -, a FIFO ---------------------------------------

def _inputs(tmp_path: Path) -> dict[str, list[str]]:
    from logfixtures import squid

    log = tmp_path / "access.log"
    log.write_text(squid()[0])
    root = tmp_path / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("h1\n")
    inv = tmp_path / "inv.csv"
    inv.write_text("hostname,product,version\nPC-1,3CX Desktop App,18.12.416\n")
    return {"hunt": ["hunt", str(log), "-j", "1", "--no-first-seen", "-q"],
            "sweep": ["sweep", "--root", str(root), "-j", "1", "-q"],
            "scope": ["scope", str(inv)],
            "export": ["export", "-f", "suricata"]}


COMMANDS = ("hunt", "sweep", "scope", "export")


@pytest.mark.parametrize("command", COMMANDS)
def test_output_dev_null(command: str, tmp_path: Path, capsys) -> None:
    code, out, err = run_cli([*_inputs(tmp_path)[command], "-o", os.devnull], capsys)
    assert code in (0, 1), err
    assert "internal error" not in err and out == ""
    assert Path(os.devnull).is_char_device()  # never replaced by a renamed temporary file


@pytest.mark.parametrize("command", COMMANDS)
def test_output_stdout(command: str, tmp_path: Path, capsys) -> None:
    code, out, err = run_cli([*_inputs(tmp_path)[command], "-o", "-"], capsys)
    assert code in (0, 1), err
    assert out.strip() and not (tmp_path / "-").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_output_fifo(command: str, tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = run_cli([*_inputs(tmp_path)[command], "-o", str(fifo)], capsys)
    reader.join(10)
    assert code in (0, 1), err
    assert got and got[0].strip() and fifo.is_fifo() and sorted(os.listdir(tmp_path)).count("pipe") == 1
    assert not list(tmp_path.glob(".pipe*")) and not list(tmp_path.glob("pipe.*"))  # no temp or state file beside it


def test_outputs_refused_clearly(tmp_path: Path, capsys) -> None:
    inputs = _inputs(tmp_path)
    for args, words in ((["export", "--all", "-o", os.devnull], "--all needs -o DIR"),
                        ([*inputs["hunt"], "-o", os.devnull, "--resume"], "--resume needs -o FILE"),
                        ([*inputs["scope"], "-o", str(tmp_path)], "is a folder")):
        code, _, err = run_cli(args, capsys)
        assert code == 2 and words in err, err
        assert_one_clean_error(err)


def test_folder_outputs_on_a_device(capsys) -> None:
    code, _, err = run_cli(["intel", "convert", "3cx", "-f", "loki", "-o", os.devnull], capsys)
    assert code == 2 and "give -o DIR" in err
    assert_one_clean_error(err)
    code, _, err = run_cli(["demo", "--out", os.devnull], capsys)  # an OSError from the system: its reason, exit 74
    assert code == 74 and "Not a directory" in err and "internal error" not in err
    assert_one_clean_error(err)
