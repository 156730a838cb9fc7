"""The intel commands through the CLI: output, errors as one line, exit codes."""

import json
from pathlib import Path

from conftest import run_cli


def test_list_and_show(capsys) -> None:
    code, out, _ = run_cli(["intel", "list"], capsys)
    assert code == 0 and "3cx" in out
    code, out, _ = run_cli(["intel", "show", "--type", "domain"], capsys)
    assert code == 0 and "akamaicontainer[.]com" in out and "akamaicontainer.com" not in out


def test_extract_to_stix_and_show_back(seed, tmp_path: Path, capsys) -> None:
    out = tmp_path / "p.stix.json"
    code, _, err = run_cli(["intel", "extract", str(seed), "--product", "3CX Desktop App", "-f", "stix", "-o", str(out)], capsys)
    assert code == 0, err
    assert "left out domain github[.]com" in err
    assert json.loads(out.read_text())["type"] == "bundle"
    code, text, _ = run_cli(["intel", "show", "--intel", str(out), "--json"], capsys)
    assert code == 0
    assert sum(1 for i in json.loads(text)["indicators"] if i["type"] == "domain") == 23


def test_merge_and_diff(tmp_path: Path, capsys) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("type,value\ndomain,new-c2.example\n")
    merged = tmp_path / "m.json"
    code, _, _ = run_cli(["intel", "merge", "3cx", str(extra), "-o", str(merged)], capsys)
    assert code == 0
    code, out, _ = run_cli(["intel", "diff", "3cx", str(merged)], capsys)
    assert code == 1 and "+ domain       new-c2[.]example" in out and "1 added, 0 removed" in out
    code, out, _ = run_cli(["intel", "diff", "3cx", "3cx"], capsys)
    assert code == 0


def test_bad_input_is_one_line_no_traceback(tmp_path: Path, capsys) -> None:
    f = tmp_path / "bin.txt"
    f.write_bytes(b"\x00" * 100)
    code, out, err = run_cli(["intel", "extract", str(f)], capsys)
    assert code == 2 and "Traceback" not in err and err.strip().count("\n") == 0
    assert f"{f}: binary file" in err
    code, _, err = run_cli(["intel", "show", "--intel", str(tmp_path / "missing.json")], capsys)
    assert code == 2 and "no such file" in err and "Traceback" not in err


def test_show_defangs_network_context_not_json(tmp_path: Path, capsys) -> None:
    """Context values that are addresses, hosts or URLs are defanged in the table; --json keeps them."""
    f = tmp_path / "ctx.csv"
    ctx = {"resolves_to": "162.0.229.159", "from_url": "https://akamaicontainer.com/x", "file_name": "ffmpeg.dll",
           "contact": "ops@evil.example"}
    f.write_text("type,value,confidence,context\n"
                 f"domain,akamaicontainer.com,90,\"{json.dumps(ctx).replace(chr(34), chr(34) * 2)}\"\n")
    code, out, _ = run_cli(["intel", "show", "--intel", str(f)], capsys)
    flat = "".join(out.split())  # the table may wrap a cell
    assert code == 0 and "162.0.229[.]159" in flat and "162.0.229.159" not in flat
    assert "hxxps://akamaicontainer[.]com/x" in flat and "ops[@]evil[.]example" in flat
    assert "ffmpeg.dll" in flat  # a file name is not a host
    code, text, _ = run_cli(["intel", "show", "--intel", str(f), "--json"], capsys)
    assert json.loads(text)["indicators"][0]["context"]["resolves_to"] == "162.0.229.159"
