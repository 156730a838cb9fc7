"""YARA only on files a rule can match: rules grouped by the file type and size their conditions
require (yara_groups), and the findings identical to scanning every file with all rules."""

import os
import random
import re
import shutil
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES, need

yara_x = pytest.importorskip("yara_x")

from tracehound.sweep import yara_groups as yg  # noqa: E402
from tracehound.sweep import yara_rules  # noqa: E402
from tracehound.sweep.yara_rules import EXTERNALS, YaraScanner, compile_rules  # noqa: E402

HEADS = {"pe": b"MZ\x90\x00", "elf": b"\x7fELF\x02\x01\x01\x00", "macho": b"\xcf\xfa\xed\xfe\x07\x00\x00\x01",
         "fat": b"\xca\xfe\xba\xbe", "script": b"#!/bin/sh\n", "php": b"<?php\n", "asp": b"<%@ Page ",
         "zip": b"PK\x03\x04", "pdf": b"%PDF-1.7\n", "ole": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "rtf": b"{\\rtf1",
         "lnk": b"L\x00\x00\x00", "text": b"Dear user,\n", "gzip": b"\x1f\x8b\x08\x00", "png": b"\x89PNG\r\n\x1a\n",
         "gif": b"GIF89a", "jpg": b"\xff\xd8\xff\xe0", "rar": b"Rar!\x1a\x07\x00"}


def real_file(kind: str) -> bytes:
    """A real PE (pip's launcher t64.exe) or ELF (/usr/bin/true) file, for rules using the pe and elf modules."""
    if kind == "pe":
        import pip

        exe = Path(pip.__file__).parent / "_vendor" / "distlib" / "t64.exe"
        if not exe.exists():
            pytest.skip(f"{exe} not present (a real PE file for the pe module)")
        return exe.read_bytes()
    return Path(shutil.which("true") or sys.executable).read_bytes()


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yara_rules, "_MEMO", {})


def _reference(files: list[Path]):  # noqa: ANN202
    """All rule files in one compiler, as before grouping: the outcome to reproduce."""
    c = yara_x.Compiler()
    for k, v in EXTERNALS.items():
        c.define_global(k, v)
    for i, f in enumerate(files):
        c.new_namespace(f"f{i}")
        c.add_source(f.read_text(errors="replace"), origin=str(f))
    return yara_x.Scanner(c.build())


def _ref_scan(sc, data: bytes, path: str) -> set[tuple[str, str]]:  # noqa: ANN001
    name = Path(path).name
    for k, v in (("filename", name), ("filepath", path), ("extension", Path(name).suffix.lower()),
                 ("filetype", yara_rules._filetype(data[:4]))):
        sc.set_global(k, v)
    return {(path, r.identifier) for r in sc.scan(data).matching_rules}


def _grouped_scan(scanner: YaraScanner, data: bytes, path: str) -> set[tuple[str, str]]:
    found, err = scanner.scan(data, path)
    assert err == ""
    return {(path, name) for name, _, _ in found}


def _corpus(rule_texts: list[str], n: int, seed: int = 17) -> list[tuple[str, bytes]]:
    """Files of every type (PE, ELF, Mach-O, scripts, documents, text) and sizes on both sides of the
    groups' size steps, filled with the rules' own text literals so that many rules fire."""
    lits = sorted({m.group(1) for t in rule_texts for m in re.finditer(r'=\s*"((?:[^"\\\n]|\\.){6,80})"', t)
                   if "\\" not in m.group(1)})
    rng = random.Random(seed)
    out = []
    kinds = sorted(HEADS) + ["realpe", "realelf"]
    real = {"realpe": real_file("pe"), "realelf": real_file("elf")}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        size = rng.choice((600, 5000, 40_000, 70_000, 1_100_000)) if i % 7 else 4_300_000
        parts, total = [real[kind] if kind in real else HEADS[kind]], 0
        while total < min(size, 60_000):  # literals in the first 60 KB, then filler
            p = rng.choice(lits).encode() if rng.random() < 0.6 else rng.randbytes(rng.randint(1, 200))
            if rng.random() < 0.3:
                p += rng.choice(lits).encode("utf-16-le")
            parts.append(p)
            total += len(p)
        if size > total:
            parts.append(rng.randbytes(size - total))
        ext = {"pe": ".exe", "realpe": ".exe", "elf": "", "script": ".sh", "php": ".php", "asp": ".aspx", "text": ".txt"}.get(kind, ".bin")
        out.append((f"/evidence/{kind}/file{i}{ext}", b"".join(parts)))
    return out


def test_signature_base_grouped_matches_all_rules() -> None:
    """The whole signature-base: the same (file, rule) set as one scan with all rules, over PE, ELF,
    Mach-O, script, document and text files, with matches from the restricted groups too."""
    folder = need(SAMPLES / "yara-full" / "yara")
    files = sorted(f for f in folder.rglob("*") if f.suffix.lower() in (".yar", ".yara"))
    rs = compile_rules([str(folder)])
    assert rs.files == [str(f) for f in files] and rs.errors == []
    assert len(rs.groups) > 4 and any(g.magic == ((0, b"MZ"),) for g in rs.groups)
    ref = _reference(files)
    scanner = YaraScanner(rs)
    got: set[tuple[str, str]] = set()
    want: set[tuple[str, str]] = set()
    scanned = 0
    for path, data in _corpus([f.read_text(errors="replace") for f in files], 100):
        want |= _ref_scan(ref, data, path)
        got |= _grouped_scan(scanner, data, path)
        scanned += sum(g.admits(data, len(data)) for g in rs.groups)
    assert got == want
    assert len(want) > 50 and any("/pe/" in p for p, _ in want) and any("/text/" in p for p, _ in want)
    assert any("/realpe/" in p for p, _ in want)  # pe-module rules fired on a real PE
    assert scanned < 100 * len(rs.groups)  # files were not all scanned with every group


HOSTILE = {
    "a_or.yar": 'rule Or_Top { strings: $a = "hostile" condition: uint16(0) == 0x5a4d or $a }\n',
    "b_not.yar": 'rule Not_PE { strings: $a = "hostile" condition: not uint16(0) == 0x5a4d and $a }\n'
                 'rule Not_Group { strings: $a = "hostile" condition: not (uint16(0) == 0x5a4d) and $a }\n',
    "c_private.yar": 'private rule Helper { strings: $a = "hostile" condition: $a }\n'
                     'rule Uses_Helper { condition: uint16(0) == 0x5a4d and Helper }\n'
                     'rule Text_Helper { condition: Helper and filesize < 100 }\n',
    "d_global.yar": 'global rule Small { condition: filesize < 2000 }\n'
                    'rule Any_Small { strings: $a = "hostile" condition: $a }\n',
    "e_refs.yar": 'rule Base { strings: $a = "hostile" condition: uint16(0) == 0x5a4d and $a }\n'
                  'rule Ref { condition: Base or uint32(0) == 0x464c457f }\n'
                  'rule Set { condition: 1 of (Base, Ref) }\n',
    "f_tricky.yar": '/* rule Fake { condition: true } */\n'
                    'rule Brace_Strings : tag1 tag2 {\n  meta:\n    d = "} rule X { condition: true }"\n'
                    '  strings:\n    $a = "ho/*stile"\n    $r = /hos{1,2}tile"?\\/x?/\n    $h = { 68 6F [0-2] 73 }\n'
                    '  condition: uint32(0) == 0x464c457f and ($a or $r or $h) }\n'
                    'rule Macho { strings: $a = "hostile" condition: (uint32(0) == 0xfeedfacf or uint32be(0) == '
                    '0xcafebabe) and $a and filesize < 70KB }\n'
                    'rule PE_At { strings: $a = "hostile" condition: $a and 0x5a4d == uint16(0) }\n'
                    'rule Far { strings: $a = "hostile" condition: uint8(3000) == 0x41 and $a }\n'
                    'rule Mid { strings: $a = "hostile" condition: uint8(600) == 0x41 and $a }\n',
    "g_ext.yar": 'rule Ext { strings: $a = "hostile" condition: $a and extension == ".txt" and filename != "" }\n',
}


def test_hostile_rules_fall_back_to_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yg, "MIN_GROUP", 1)  # every requirement its own group
    d = tmp_path / "rules"
    d.mkdir()
    for name, text in HOSTILE.items():
        (d / name).write_text(text)
    units = {name: yg.read_file(0, text) for name, text in HOSTILE.items()}
    assert [n for n, u in units.items() if u.whole] == ["c_private.yar", "d_global.yar", "e_refs.yar",
                                                        "g_ext.yar"]  # the last: no uint/filesize at all
    needs = {r.name: m for u in units.values() for r, m, _ in u.rules}
    assert needs["Or_Top"] == needs["Not_PE"] == needs["Not_Group"] == yg.ANY
    assert needs["Brace_Strings"] == ((0, b"\x7fELF"),) and needs["PE_At"] == ((0, b"MZ"),)
    assert needs["Macho"] == ((0, b"\xcf\xfa\xed\xfe"), (0, b"\xca\xfe\xba\xbe"))
    assert needs["Far"] == yg.ANY and needs["Mid"] == ((600, b"A"),)  # beyond MAX_OFFSET: not used
    assert [r.name for r in yg.split_rules(HOSTILE["f_tricky.yar"]) or []] == ["Brace_Strings", "Macho", "PE_At", "Far", "Mid"]
    assert yg.split_rules('include "other.yar"\nrule A { condition: true }\n') is None

    rs = compile_rules([str(d)])
    assert rs.errors == [] and rs.count == 17
    assert {g.describe() for g in rs.groups} >= {"any file", "4d5a@0", "7f454c46@0", "41@600"}
    files = sorted(d.iterdir())
    ref, scanner = _reference(files), YaraScanner(rs)
    want: set[tuple[str, str]] = set()
    got: set[tuple[str, str]] = set()
    for kind, head in HEADS.items():
        for size in (50, 1500, 2100, 80_000):
            for body in (b"hostile", b"hoxstile", b"nothing"):
                data = (head + body + b"A" * 3000)[:max(size, len(head) + len(body))]
                data = data.ljust(size, b"\x00")
                for path in (f"/e/{kind}{size}.txt", f"/e/{kind}{size}.bin"):
                    want |= _ref_scan(ref, data, path)
                    got |= _grouped_scan(scanner, data, path)
    assert got == want
    assert {r for _, r in want} >= {"Or_Top", "Not_PE", "Uses_Helper", "Text_Helper", "Any_Small", "Base", "Ref",
                                    "Set", "Brace_Strings", "Macho", "PE_At", "Far", "Mid", "Ext"}


def test_split_file_keeps_names_lines_and_errors(tmp_path: Path) -> None:
    """A file split over groups still reports its error by file:line; the rules of a file that does not
    compile are all left out."""
    f = tmp_path / "mixed.yar"
    f.write_text('rule PE { strings: $a = "x1" condition: uint16(0) == 0x5a4d and $a }\n'
                 'rule Any { strings: $a = "x2" condition: $a }\n\n'
                 'rule Broken { condition: uint16(0) == 0x5a4d and nope }\n')
    rs = compile_rules([str(f)])
    assert rs.rules is None and [(p["line"], p["reason"].split(":")[0]) for p in rs.not_loaded] == [(4, "error[E009]")]
    f.write_text(f.read_text().replace("and nope", "and true"))
    rs = compile_rules([str(f)])
    assert rs.errors == [] and rs.count == 3 and len(rs.groups) == 1  # too few rules for a group of their own
    sc = YaraScanner(rs)
    assert [r for r, _, _ in sc.scan(b"MZ x1 x2", "/a.exe")[0]] == ["PE", "Any", "Broken"]
    assert [r for r, _, _ in sc.scan(b"ZM x1 x2", "/a.txt")[0]] == ["Any"]


def test_groups_compiled_and_cached_separately(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yg, "MIN_GROUP", 1)
    monkeypatch.setattr(yg, "SIZE_STEPS", (64 << 10, 1 << 20))  # size groups (off by default: measured slower)
    d = tmp_path / "rules"
    d.mkdir()
    (d / "r.yar").write_text('rule PE { strings: $a = "x1" condition: uint16(0) == 0x5a4d and $a }\n'
                             'rule Small { strings: $a = "x2" condition: $a and filesize < 10KB }\n'
                             'rule Any { strings: $a = "x3" condition: $a }\n')
    first = compile_rules([str(d)], str(tmp_path / "cache"))
    yara_rules._MEMO.clear()
    again = compile_rules([str(d)], str(tmp_path / "cache"))
    assert again.cache == "loaded from cache"
    assert [g.rules is not None for g in again.groups] == [False, True, False]  # only "any file" loaded now
    assert [g.describe() for g in again.groups] == [g.describe() for g in first.groups] == [
        "any file, filesize < 10240", "any file", "4d5a@0"]
    sc = YaraScanner(again)
    assert [r for r, _, _ in sc.scan(b"x3 x2 x1" + b"\x00" * 20000, "/big.txt")[0]] == ["Any"]
    assert [g.rules is not None for g in again.groups] == [False, True, False]  # the others when first needed
    assert [r for r, _, _ in sc.scan(b"MZ x3 x2 x1", "/small.exe")[0]] == ["PE", "Small", "Any"]
    assert again.max_filesize is None and first.groups[0].admits(b"", 10239) and not first.groups[0].admits(b"", 10240)


def test_cached_group_yara_x_refuses_is_rebuilt(tmp_path: Path) -> None:
    from tracehound.sweep import yara_cache

    d = tmp_path / "rules"
    d.mkdir()
    (d / "r.yar").write_text('rule Any { strings: $a = "x3" condition: $a }\n')
    cache = tmp_path / "cache"
    compile_rules([str(d)], str(cache))
    [entry] = cache.iterdir()
    blob = b"YARA-X\x00 but not rules"
    entry.write_bytes(yara_cache.encode(blob, {"files": [str(d / "r.yar")], "count": 1, "not_loaded": [], "order": {},
                                               "groups": [{"magic": [], "bound": None, "count": 1, "size": len(blob)}]}))
    yara_rules._MEMO.clear()
    rs = compile_rules([str(d)], str(cache))
    assert rs.cache == "compiled, cached" and [r for r, _, _ in YaraScanner(rs).scan(b"x3", "/a")[0]] == ["Any"]


def test_groups_compiled_in_parallel_with_a_broken_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups shared out over processes: a broken file is still reported by file:line, the others load,
    and the rules (serialized in the compile processes) match as compiled here."""
    from tracehound.sweep import yara_build

    monkeypatch.setattr(yg, "MIN_GROUP", 1)
    monkeypatch.setattr(yara_build, "PARALLEL_RULES", 1)
    monkeypatch.setattr(yara_build, "free_cores", lambda: 2)  # parallel even on a busy machine
    d = tmp_path / "rules"
    d.mkdir()
    (d / "a.yar").write_text('rule PE { strings: $a = "x1" condition: uint16(0) == 0x5a4d and $a }\n'
                             'rule ELF { strings: $a = "x1" condition: uint32(0) == 0x464c457f and $a }\n'
                             'rule Any { strings: $a = "x3" condition: $a }\n')
    (d / "b.yar").write_text('rule Fine { condition: uint16(0) == 0x5a4d }\n\n'
                             'rule Broken { condition: uint16(0) == 0x5a4d and nope }\n')
    rs = compile_rules([str(d)])
    assert [(Path(p["file"]).name, p["line"]) for p in rs.not_loaded] == [("b.yar", 3)]
    assert rs.files == [str(d / "a.yar")] and len(rs.groups) == 3 and all(g.blob for g in rs.groups)
    sc = YaraScanner(rs)
    assert [r for r, _, _ in sc.scan(b"MZ x1 x3", "/a.exe")[0]] == ["PE", "Any"]
    assert [r for r, _, _ in sc.scan(b"\x7fELF x1 x3", "/a")[0]] == ["ELF", "Any"]


def test_reader_does_not_choke_on_hostile_text() -> None:
    deep = "rule a { condition: " + "(" * 5000 + "uint16(0) == 1 and filesize < 3" + ")" * 5000 + " }"
    assert yg.read_file(0, deep).whole  # too deep to read: kept whole, no requirement
    assert yg.magic_of("uint16(0) == 012 and $a") == ((0, b"\x0c\x00"),)  # YARA's 012 is decimal twelve
    assert yg.magic_of("uint16(0) == 0x15a4d and $a") == yg.ANY  # never true, but not what this reads
    for text in ('rule a { condition: true', 'rule { condition: true }', 'rule a { strings: $a = "x condition: $a }',
                 'rule a { condition: /* } */ true }', 'import "pe"\nfoo\nrule a { condition: true }'):
        u = yg.read_file(0, text)
        assert u.whole or [r.name for r, _, _ in u.rules] == ["a"], text


def test_free_cores_from_the_idle_share_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parallel compilation is chosen from the cores idle now (/proc/stat), not the lagging load average."""
    from tracehound.sweep import yara_build

    cores = len(os.sched_getaffinity(0))
    idle = yara_build._idle_now(cores)
    assert idle is None or 0 <= idle <= cores + 1e-9
    for now, want in ((1.7, 2), (1.4, 1), (0.2, 1), (9.0, cores)):
        monkeypatch.setattr(yara_build, "_idle_now", lambda c, now=now: now)
        assert yara_build.free_cores() == min(want, cores)
    monkeypatch.setattr(yara_build, "_idle_now", lambda c: None)  # no /proc/stat: the load average
    monkeypatch.setattr(os, "getloadavg", lambda: (cores - 1.0, 0.0, 0.0))
    assert yara_build.free_cores() == 1
