"""File-type tests read from YARA conditions (yara_terms): literal strings at an offset, signed reads,
pe/elf module terms; each read only where it cannot drop a match (checked against one scan with all
rules over real PE and ELF files, file heads and text)."""

from pathlib import Path

import pytest

yara_x = pytest.importorskip("yara_x")

from test_yara_groups import HEADS, _grouped_scan, _ref_scan, _reference, real_file  # noqa: E402
from tracehound.sweep import yara_groups as yg  # noqa: E402
from tracehound.sweep import yara_rules  # noqa: E402
from tracehound.sweep.yara_rules import YaraScanner, compile_rules  # noqa: E402
from tracehound.sweep.yara_terms import requirement  # noqa: E402

MZ, ELF = ((0, b"MZ"),), ((0, b"\x7fELF"),)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yara_rules, "_MEMO", {})


def test_terms_read_as_requirements() -> None:
    lits = {"mz": b"MZ", "gz": b"\x1f\x8b\x08"}
    cases = {
        "uint16(0) == 0x5a4d": MZ, "0x5a4d == uint16(0)": MZ, "uint32be(0) == 0x7f454c46": ELF,
        "int16(0) == 0x5a4d": MZ, "int32(0) == 0x21726152": ((0, b"Rar!"),),
        "int8(0) == 0x80": None, "int16(0) == -1": None, "uint16(0) != 0x5a4d": None, "uint8(2000) == 1": None,
        "$mz at 0": MZ, "$gz  at 0x10": ((16, b"\x1f\x8b\x08"),), "$mz at 2000": None, "$other at 0": None,
        "$mz in (0..10)": None, "not $mz at 0": None,
        "pe.is_pe": MZ, "dotnet.is_dotnet": MZ, "not pe.is_pe": None, "pe.is_pe == 0": None,
        'pe.exports(" ")': MZ, 'pe.imports(" ", " ")': MZ, 'not pe.exports(" ")': None,
        'pe.exports(" ") == false': None, "pe.is_dll()": None, "defined pe.machine": None,
        "pe.number_of_signatures == 0": MZ, 'pe.imphash() == "  "': MZ, "pe.characteristics & pe.DLL": MZ,
        "pe.machine == pe.MACHINE_AMD64": MZ, "pe.MACHINE_AMD64 == pe.machine": MZ, "0x14c == pe.machine": MZ,
        'pe.sections[0].name == "  "': MZ, "pe.MACHINE_AMD64 == 0x8664": None, "elf.ET_EXEC == pe.machine": MZ,
        "elf.number_of_sections > 0": ELF, "elf.type == elf.ET_EXEC": ELF, "math.entropy(0, filesize) > 7": None,
        "pe.number_of_sections == 1 or $a": None, "for any s in pe.sections: (s.name == \"  \")": None,
    }
    got = {t: requirement(t, lits) for t in cases}
    assert got == cases


def test_plain_literals_of_a_rule() -> None:
    text = ('rule L {\n strings:\n  $a = "MZ" ascii\n  $b = "gif" nocase\n  $c = { 4D 5A [0-1] 90 }\n'
            '  $d = { 4D 5A 90 /* c */ 00 } private\n  $e = "a\\x00b\\"c\\t" fullword\n  $f = "\u00e9t\u00e9"\n'
            '  $g = /MZ/\n  $h = "MZ" wide\n  $i = { 4D ?? }\n  $j = "a\\qb"\n'
            ' condition:\n  $a at 0 or $b at 0 or $c at 0 or $d at 0 or $e at 0 or $f at 0 or $g at 0 or $h at 0\n}\n')
    rules = yg.split_rules(text)
    assert rules is not None and len(rules) == 1
    assert rules[0].literals == {"a": b"MZ", "d": b"MZ\x90\x00", "e": b'a\x00b"c\t'}
    assert yg.magic_of(rules[0].condition, rules[0].literals) == yg.ANY  # some branches are not read
    assert yg.magic_of("($a at 0 or $d at 4)", rules[0].literals) == ((0, b"MZ"), (4, b"MZ\x90\x00"))


RULES = {
    "at.yar": 'rule At_Gzip { strings: $g = { 1F 8B 08 } $a = "hostile" condition: $g at 0 and $a }\n'
              'rule At_Gif { strings: $h = "GIF8" $a = "hostile" condition: ($h at 0 or $h at 3) and $a }\n'
              'rule At_Nocase { strings: $h = "gif8" nocase $a = "hostile" condition: $h at 0 and $a }\n'
              'rule At_Wild { strings: $h = { 47 ?? 46 } $a = "hostile" condition: $h at 0 and $a }\n'
              'rule At_Wide { strings: $h = "Rar!" wide $a = "hostile" condition: $h at 0 and $a }\n'
              'rule Int_Rar { strings: $a = "hostile" condition: int32(0) == 0x21726152 and $a }\n',
    "pe.yar": 'import "pe"\n'
              'rule PE_Unsigned { strings: $a = "hostile" condition: pe.number_of_signatures == 0 and $a }\n'
              'rule PE_Not_Exports { strings: $a = "hostile" condition: not pe.exports("x") and $a }\n'
              'rule PE_Exports_Or { strings: $a = "hostile" condition: (pe.exports("x") or $a) and filesize > 0 }\n'
              'rule PE_Machine { strings: $a = "hostile" condition: $a and (pe.machine == pe.MACHINE_AMD64 or '
              'pe.machine == pe.MACHINE_I386) }\n'
              'rule PE_Is { strings: $a = "hostile" condition: pe.is_pe and $a }\n'
              'rule PE_Not_Is { strings: $a = "hostile" condition: not pe.is_pe and $a }\n'
              'rule PE_Const { strings: $a = "hostile" condition: pe.MACHINE_AMD64 == 0x8664 and $a }\n'
              'rule PE_Undefined { strings: $a = "hostile" condition: not defined pe.machine and $a }\n',
    "elf.yar": 'import "elf"\n'
               'rule ELF_Sections { strings: $a = "hostile" condition: elf.number_of_sections > 0 and $a }\n'
               'rule ELF_Or { strings: $a = "hostile" condition: elf.number_of_sections > 0 or $a }\n',
}
READ = {"At_Gzip": ((0, b"\x1f\x8b\x08"),), "At_Gif": ((0, b"GIF8"), (3, b"GIF8")), "Int_Rar": ((0, b"Rar!"),),
        "PE_Unsigned": MZ, "PE_Machine": MZ, "PE_Is": MZ, "ELF_Sections": ELF}


@pytest.mark.parametrize("min_group", [1, 2, 16])
def test_module_and_literal_terms_never_lose_a_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     min_group: int) -> None:
    """Each rule alone in its group (MIN_GROUP 1) or pooled: the same (file, rule) set as one scan with all
    rules, over real PE and ELF files, Mach-O, gzip, GIF, RAR heads, scripts and text."""
    monkeypatch.setattr(yg, "MIN_GROUP", min_group)
    d = tmp_path / "rules"
    d.mkdir()
    for name, text in RULES.items():
        (d / name).write_text(text)
    needs = {r.name: m for t in RULES.values() for r, m, _ in yg.read_file(0, t).rules}
    assert {n: m for n, m in needs.items() if m} == READ
    rs = compile_rules([str(d)])
    assert rs.errors == [] and rs.count == sum(t.count("rule ") for t in RULES.values())
    if min_group == 1:
        assert {g.describe() for g in rs.groups} >= {"any file", "4d5a@0", "7f454c46@0", "1f8b08@0"}
    elif min_group == 2:  # PE has 3 rules, the others 1 each: pooled, one group admitting any of their heads
        assert [g.describe() for g in rs.groups] == ["any file", "1f8b08@0 or 47494638@0 or 47494638@3 or "
                                                     "52617221@0 or 7f454c46@0", "4d5a@0"]
    else:  # 7 rules with requirements: too few for a group or a pool, all "any file"
        assert len(rs.groups) == 1 and rs.groups[0].magic == ()
    ref, scanner = _reference(sorted(d.iterdir())), YaraScanner(rs)
    heads = dict(HEADS, gzip=b"\x1f\x8b\x08\x00", gif=b"GIF89a", gif3=b"xyzGIF89a", rar=b"Rar!\x1a\x07\x00")
    bodies = {k: v for k, v in heads.items()} | {"realpe": real_file("pe"), "realelf": real_file("elf")}
    want: set[tuple[str, str]] = set()
    got: set[tuple[str, str]] = set()
    for kind, head in bodies.items():
        for tail in (b"hostile", b"nothing"):
            data = head + b"\x00" * 64 + tail
            path = f"/e/{kind}.{tail.decode()}"
            want |= _ref_scan(ref, data, path)
            got |= _grouped_scan(scanner, data, path)
    assert got == want
    fired = {(p.split("/")[-1], r) for p, r in want}
    assert {("realpe.hostile", r) for r in ("PE_Unsigned", "PE_Machine", "PE_Is", "PE_Const")} <= fired
    assert {("text.hostile", r) for r in ("PE_Not_Exports", "PE_Exports_Or", "PE_Not_Is", "PE_Undefined",
                                          "PE_Const", "ELF_Or")} <= fired  # true on files that are no PE
    assert {("realelf.hostile", "ELF_Sections"), ("gzip.hostile", "At_Gzip"), ("gif3.hostile", "At_Gif"),
            ("rar.hostile", "Int_Rar"), ("gif.hostile", "At_Nocase")} <= fired
