"""A YARA rule set that does not load must never read as clean: summary, verdict text and exit status say so."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLES, need, run_cli

DATA = Path(__file__).parent / "data" / "yara"


def _tree(tmp_path: Path, marker: bool = False) -> Path:
    root = tmp_path / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("YARABOX\n")
    (root / "notes.txt").write_text("nothing to see\n")
    if marker:
        (root / "dropped.bin").write_bytes(b"MZ\x00 tracehound test payload \x00" * 4)
    return root


def _summary(out: Path) -> dict:
    last = json.loads(out.read_text().splitlines()[-1])
    assert last["tracehound"]["record"] == "host-summary"
    return last


def test_broken_rule_file_alone(tmp_path: Path, capsys) -> None:
    out = tmp_path / "o.jsonl"
    code, _, err = run_cli(["sweep", "--root", str(_tree(tmp_path)), "--yara", str(DATA / "broken.yar"),
                            "-o", str(out), "--no-nice", "-j", "1"], capsys)
    assert code == 3, err  # not 0: nothing found, but the rules asked for did not run
    assert "broken.yar:4" in err and "syntax error" in err and "incomplete" in err
    s = _summary(out)
    th = s["tracehound"]
    assert th["verdict"] == "clean" and th["complete"] is False and th["interrupted"] is False
    [item] = th["not_checked"]
    assert item["check"] == "yara" and item["file"].endswith("broken.yar") and item["line"] == 4
    assert "found `and`" in item["reason"]
    assert "incomplete" in s["message"] and "broken.yar:4" in s["message"]


def test_folder_with_one_good_and_one_broken_file(tmp_path: Path, capsys) -> None:
    rules = tmp_path / "badrules"
    rules.mkdir()
    shutil.copy(DATA / "broken.yar", rules / "broken.yar")
    shutil.copy(DATA / "test_marker.yar", rules / "good.yar")
    # a clean host: the good rule ran and found nothing, the broken file did not: exit 3, not 0
    out = tmp_path / "clean.jsonl"
    code, _, err = run_cli(["sweep", "--root", str(_tree(tmp_path / "a")), "--yara", str(rules), "-o", str(out),
                            "--no-nice", "-j", "1"], capsys)
    assert code == 3 and "YARA: 1 rules from 1 files, 1 not loaded" in err
    th = _summary(out)["tracehound"]
    assert th["yara"]["rules"] == 1 and th["complete"] is False
    assert [(i["file"].rsplit("/", 1)[-1], i["line"]) for i in th["not_checked"]] == [("broken.yar", 4)]
    # a host where the good rule fires: findings win the exit status (1), the summary still says incomplete
    out = tmp_path / "hit.jsonl"
    code, _, err = run_cli(["sweep", "--root", str(_tree(tmp_path / "b", marker=True)), "--yara", str(rules),
                            "-o", str(out), "--no-nice", "-j", "1"], capsys)
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 1
    assert [d["rule"]["name"] for d in docs if d["tracehound"].get("check") == "yara"] == ["TRACEHOUND_Test_Marker"]
    assert docs[-1]["tracehound"]["complete"] is False and "incomplete" in docs[-1]["message"]


def test_empty_rule_folder_is_not_a_silent_pass(tmp_path: Path, capsys) -> None:
    rules = tmp_path / "empty"
    rules.mkdir()
    (rules / "README.txt").write_text("not a rule\n")
    out = tmp_path / "o.jsonl"
    code, _, _ = run_cli(["sweep", "--root", str(_tree(tmp_path)), "--yara", str(rules), "-o", str(out),
                          "--no-nice", "-j", "1"], capsys)
    [item] = _summary(out)["tracehound"]["not_checked"]
    assert code == 3 and item["file"] == str(rules) and "no rule files" in item["reason"]


def test_all_good_rules_complete(tmp_path: Path, capsys) -> None:
    out = tmp_path / "o.jsonl"
    code, _, _ = run_cli(["sweep", "--root", str(_tree(tmp_path)), "--yara", str(DATA / "test_marker.yar"),
                          "-o", str(out), "--no-nice", "-j", "1"], capsys)
    th = _summary(out)["tracehound"]
    assert code == 0 and th["complete"] is True and th["not_checked"] == []


def test_signature_base_with_a_broken_file(tmp_path: Path) -> None:
    """The real signature-base 3CX rules load (35 rules) beside a broken file, which alone is reported."""
    from tracehound.sweep.yara_rules import compile_rules

    real = need(SAMPLES / "yara")
    rules = tmp_path / "rules"
    shutil.copytree(real, rules)
    shutil.copy(DATA / "broken.yar", rules / "zz_broken.yar")
    rs = compile_rules([str(rules)])
    assert rs.count == 35 and len(rs.files) == 4
    assert [(p["check"], Path(p["file"]).name, p["line"]) for p in rs.not_checked()] == [("yara", "zz_broken.yar", 4)]


@pytest.mark.parametrize("text,line", [("rule a { condition: true }\nrule a { condition: true }\n", 2),
                                       ("rule b { strings: $x = { 4D 5A ?? } condition: $x and nope }\n", 1)])
def test_other_compile_errors_name_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    from tracehound.sweep.yara_rules import compile_rules

    f = tmp_path / "r.yar"
    f.write_text(text)
    rs = compile_rules([str(f)])
    assert rs.rules is None and rs.not_loaded[0]["line"] == line and rs.errors[0].startswith(f"{f}:{line}: ")


def test_files_over_the_yara_size_limit_are_counted(tmp_path: Path) -> None:
    from tracehound.intel.builtin import load_intel
    from tracehound.sweep.engine import SweepOptions, run_sweep

    root = _tree(tmp_path, marker=True)
    (root / "big.bin").write_bytes(b"tracehound test payload" + b"\x00" * 3000)
    docs: list[dict] = []
    result = run_sweep(load_intel(None), SweepOptions(root=str(root), yara=[str(DATA / "test_marker.yar")], jobs=1,
                                                      yara_max_size=1024), docs.append)
    assert result.skipped == {"read, but larger than --yara-max-size (1024 bytes): no YARA scan": 1}
    assert result.files_read == 4 and [d["file"]["name"] for d in docs if d["tracehound"].get("check") == "yara"] \
        == ["dropped.bin"]
