"""Compiled YARA rules: compiled once, kept on disk keyed by content, reused by later runs and workers;
a broken file is still reported by file:line; a corrupt or untrusted cache is never used."""

import os
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLES, need

yara_x = pytest.importorskip("yara_x")

from tracehound.sweep import yara_bounds, yara_cache, yara_rules  # noqa: E402
from tracehound.sweep.yara_rules import YaraScanner, compile_rules  # noqa: E402

DATA = Path(__file__).parent / "data" / "yara"
PAYLOAD = b"MZ\x00 tracehound test payload \x00" * 4


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yara_rules, "_MEMO", {})  # each compile_rules below goes to the disk cache or compiles


def _rules(tmp_path: Path, broken: bool = True) -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    shutil.copy(DATA / "test_marker.yar", d / "good.yar")
    if broken:
        shutil.copy(DATA / "broken.yar", d / "broken.yar")
    return d


def _matches(rs: yara_rules.RuleSet) -> list[str]:
    return [r for r, _, _ in YaraScanner(rs).scan(PAYLOAD, "/x/dropped.bin")[0]]


def test_second_run_loads_from_cache_with_the_same_report(tmp_path: Path) -> None:
    rules, cache = _rules(tmp_path), str(tmp_path / "cache")
    first = compile_rules([str(rules)], cache)
    yara_rules._MEMO.clear()
    second = compile_rules([str(rules)], cache)
    assert first.cache == "compiled, cached" and second.cache == "loaded from cache"
    assert (second.count, second.files, second.errors) == (first.count, first.files, first.errors)
    assert [(Path(p["file"]).name, p["line"]) for p in second.not_loaded] == [("broken.yar", 4)]
    assert _matches(second) == _matches(first) == ["TRACEHOUND_Test_Marker"]
    assert len(os.listdir(cache)) == 1 and (os.stat(cache).st_mode & 0o777) == 0o700


def test_compiled_once_even_with_a_broken_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[int] = []

    real = yara_x.Compiler

    class Counting:  # yara_x.Compiler cannot be subclassed: a wrapper counting builds
        def __init__(self) -> None:
            self.c = real()

        def __getattr__(self, name: str):  # noqa: ANN204
            return getattr(self.c, name)

        def build(self):  # noqa: ANN202
            builds.append(1)
            return self.c.build()

    monkeypatch.setattr(yara_x, "Compiler", Counting)
    rs = compile_rules([str(_rules(tmp_path))], None)
    assert builds == [1] and rs.count == 1 and rs.cache == "compiled"
    compile_rules([str(tmp_path / "rules")], None)  # the same rules again in this process: not recompiled
    assert builds == [1]


def test_signature_base_cached_beside_a_broken_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(need(SAMPLES / "yara"), rules)
    shutil.copy(DATA / "broken.yar", rules / "zz_broken.yar")
    cache = str(tmp_path / "cache")
    compile_rules([str(rules)], cache)
    yara_rules._MEMO.clear()
    rs = compile_rules([str(rules)], cache)
    assert rs.cache == "loaded from cache" and rs.count == 35 and len(rs.files) == 4
    assert [(Path(p["file"]).name, p["line"]) for p in rs.not_checked()] == [("zz_broken.yar", 4)]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_corrupt_entry_is_ignored_and_rebuilt(tmp_path: Path, damage: str) -> None:
    rules, cache = _rules(tmp_path, broken=False), str(tmp_path / "cache")
    compile_rules([str(rules)], cache)
    [entry] = Path(cache).iterdir()
    raw = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        entry.write_bytes(raw[:-10] + bytes([raw[-10] ^ 0xFF]) + raw[-9:])
    else:  # a well-formed entry whose rules part is not yara-x's: digest right, yara-x refuses it
        entry.write_bytes(yara_cache.encode(b"not rules at all", {"files": [], "count": 0, "not_loaded": [],
                                                                  "max_filesize": None}))
    yara_rules._MEMO.clear()
    rs = compile_rules([str(rules)], cache)
    assert rs.cache == "compiled, cached" and _matches(rs) == ["TRACEHOUND_Test_Marker"]
    assert yara_cache.load(cache, entry.stem) is not None  # rewritten whole


def test_a_cache_others_can_write_is_not_trusted(tmp_path: Path) -> None:
    rules, cache = _rules(tmp_path, broken=False), tmp_path / "cache"
    compile_rules([str(rules)], str(cache))
    cache.chmod(0o777)
    yara_rules._MEMO.clear()
    rs = compile_rules([str(rules)], str(cache))
    assert rs.cache.startswith("compiled (not cached: cache folder") and "writable by others" in rs.cache
    assert _matches(rs) == ["TRACEHOUND_Test_Marker"]


def test_changed_rules_get_a_new_entry(tmp_path: Path) -> None:
    rules, cache = _rules(tmp_path, broken=False), str(tmp_path / "cache")
    compile_rules([str(rules)], cache)
    (rules / "good.yar").write_text((DATA / "test_marker.yar").read_text().replace("Test_Marker", "Other_Marker"))
    yara_rules._MEMO.clear()
    rs = compile_rules([str(rules)], cache)
    assert rs.cache == "compiled, cached" and _matches(rs) == ["TRACEHOUND_Other_Marker"]
    assert len(os.listdir(cache)) == 2


def test_workers_use_the_parents_rules(tmp_path: Path) -> None:
    from tracehound.intel.builtin import load_intel
    from tracehound.sweep.engine import SweepOptions, run_sweep

    root = tmp_path / "host"
    root.mkdir()
    for i in range(70):  # more than one batch: both workers get files
        (root / f"f{i}.bin").write_bytes(PAYLOAD if i % 10 == 0 else b"nothing %d" % i)
    docs: list[dict] = []
    result = run_sweep(load_intel(None), SweepOptions(root=str(root), yara=[str(DATA / "test_marker.yar")], jobs=2,
                                                      rule_cache=False), docs.append)
    hits = sorted(d["file"]["name"] for d in docs if d["tracehound"].get("check") == "yara")
    assert result.yara_rules == 1 and hits == [f"f{i}.bin" for i in range(0, 70, 10)]


def test_filesize_bound_is_sound_against_yara_x(tmp_path: Path) -> None:
    src = ('rule a { strings: $x = "payload" condition: uint16(0) == 0x5A4D and filesize < 100 and $x }\n'
           'rule b { strings: $x = "payload" condition: $x and (filesize <= 0x40) }\n'
           'private rule p { condition: true }\n')
    assert yara_bounds.max_filesize([src]) == 100
    c = yara_x.Compiler()
    c.add_source(src)
    rules = c.build()
    for size in (99, 100, 101):
        data = b"MZ payload".ljust(size, b"\x00")
        assert bool(rules.scan(data).matching_rules) == (size < 100)
    for unbounded in ('rule c { condition: filesize < 10 or true }',  # `or` at the top level
                      'rule d { condition: (filesize < 10 or true) and true }',
                      'rule e { condition: not filesize < 10 }',
                      'rule f { strings: $a = "x" condition: $a }'):
        assert yara_bounds.max_filesize([src, unbounded]) is None, unbounded
    assert yara_bounds.max_filesize(['rule g { condition: filesize < 2MB and true }']) == 2 * 1048576
