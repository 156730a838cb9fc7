"""`export -f loki`: Loki / THOR Lite IOC files, read back the way Loki reads them; what Loki cannot
carry (URLs, registry keys, mutexes...) is listed in the README and refusals, never dropped silently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import SAMPLES, need, run_cli
from test_hostile_exports import HOSTILE, VALID, by_type, bypass_pack, no_markers
from tracehound.intel.formats import loki as loki_reader
from tracehound.intel.formats import read_pack, write_pack
from tracehound.intel.model import Indicator, IType, Pack
from tracehound.outputs.exports import FORMATS
from tracehound.outputs.exports.loki import C2_FILE, FILENAME_FILE, HASH_FILE
from tracehound.outputs.exports.select import ExportOptions, select


def loki_rows(text: str) -> list[list[str]]:
    """Loki's reader: codecs readlines (str.splitlines: \\x1c-\\x1e, U+0085, U+2028 break lines too),
    '#' lines and blank lines skipped, fields split at every ';'."""
    rows = []
    for line in text.splitlines(keepends=True):
        if re.search(r"^#", line) or re.search(r"^[\s]*$", line):
            continue
        rows.append(line.rstrip(" ").rstrip("\n\r").split(";"))
    return rows


def loki_transform(regex: str, platform: str) -> str:
    """Loki's transformOS: on a non-Windows host '\\\\' becomes '/' and 'C:' is removed."""
    return regex if platform == "windows" else regex.replace(r"\\", "/").replace("C:", "")


def run(pack: Pack, **kw: object) -> tuple[dict[str, str], list[tuple[str, Indicator, str]]]:
    options = ExportOptions(**kw)  # type: ignore[arg-type]
    sel = select(pack, options)
    return FORMATS["loki"].exporter(sel, options), sel.refused


def test_real_signature_base_iocs_round_trip(tmp_path: Path) -> None:
    """signature-base's own c2 and hash IOCs, exported and read back by Loki's rules and by our reader: the same set."""
    base = need(SAMPLES / "loki-iocs")
    pack = Pack(name="sigbase")
    for name in ("c2-iocs.txt", "hash-iocs.txt"):
        pack.merge(read_pack(str(base / name)))
    files, refused = run(pack, min_confidence=0)
    assert refused == []
    want = {(i.type.value, i.value) for i in pack.indicators}
    c2 = loki_rows(files[C2_FILE])
    hashes = loki_rows(files[HASH_FILE])
    assert all(len(r) == 2 and r[1].isdigit() for r in c2)  # VALUE;SCORE: never a bare line (Loki keeps its '\n')
    assert all(len(r) == 2 and r[1] for r in hashes)  # HASH;COMMENT: Loki reads row[1]
    assert len(c2) + len(hashes) == len(want)
    back = Pack(name="back")
    back.merge(loki_reader.loads(files[C2_FILE], C2_FILE, "c2"))
    back.merge(loki_reader.loads(files[HASH_FILE], HASH_FILE, "hash"))
    assert {(i.type.value, i.value) for i in back.indicators} == want and not back.excluded


def artefact_pack() -> Pack:
    pack = Pack(name="artefacts", campaign="Evil; campaign")
    for t, v, ctx in [
        (IType.DOMAIN, "evil.example", {}),
        (IType.IPV4, "203.0.113.7", {}),
        (IType.CIDR, "198.51.100.0/24", {}),
        (IType.MD5, "0" * 31 + "1", {"file_name": ["a;b.dll"]}),
        (IType.URL, "http://evil.example/gate.php", {}),
        (IType.REGISTRY_KEY, "HKCU\\Software\\Evil", {}),
        (IType.MUTEX, "Global\\EvilMutex", {}),
        (IType.PDB_PATH, "C:\\build\\evil.pdb", {}),
        (IType.SHA512, "a" * 128, {}),
        (IType.FILENAME, "3cxdesktopapp-18.12.407.msi", {"standalone": ["yes"]}),
        (IType.FILE_PATH, "%APPDATA%\\Evil\\<GUID>\\up;d.exe", {"platform": ["windows"]}),
        (IType.FILE_PATH, "C:\\Windows\\system32\\catroot2\\edb.chk.log", {"platform": ["windows"]}),
        (IType.FILE_PATH, "/private/etc/apdl.cf", {"platform": ["macos"]}),
        (IType.FILE_PATH, "~/Library/Graphics/Quartz", {"platform": ["macos"]}),
    ]:
        pack.add(Indicator(t, v, ctx))
    return pack


def _matches(files: dict[str, str], path: str, platform: str) -> list[str]:
    return [r[0] for r in loki_rows(files[FILENAME_FILE]) if re.search(loki_transform(r[0], platform), path)]


def test_file_names_and_paths_become_loki_regexes() -> None:
    files, refused = run(artefact_pack())
    assert refused == []
    rows = loki_rows(files[FILENAME_FILE])
    assert len(rows) == 5 and all(len(r) == 2 and r[1] == "80" for r in rows)  # REGEX;SCORE, the ';' escaped
    guid = "{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}"
    hits = {
        ("C:\\Users\\bob\\AppData\\Roaming\\Evil\\" + guid + "\\UP;D.EXE", "windows"): 1,
        ("C:\\Users\\bob\\AppData\\Roaming\\Evil\\notaguid\\up;d.exe", "windows"): 0,
        ("C:\\Users\\bob\\AppData\\Roaming\\Evil\\" + guid + "\\up;d.exe.bak", "windows"): 0,
        ("C:\\Windows\\System32\\catroot2\\edb.chk.log", "windows"): 1,
        ("C:\\Windows\\System32\\catroot2\\edbXchk.log", "windows"): 0,  # '.' is a literal dot
        ("/mnt/image/Windows/System32/catroot2/edb.chk.log", "linux"): 1,  # a Windows image scanned from Linux
        ("D:\\Downloads\\3CXDesktopApp-18.12.407.msi", "windows"): 1,
        ("D:\\Downloads\\old-3CXDesktopApp-18.12.407.msi", "windows"): 0,
        ("/etc/apdl.cf", "macos"): 1,
        ("/private/etc/apdl.cf", "macos"): 1,
        ("/Users/alice/Library/Graphics/Quartz", "macos"): 1,
        ("/Library/Graphics/Quartz", "macos"): 0,  # '~/' is a home folder, not the root
    }
    for (path, platform), n in hits.items():
        assert len(_matches(files, path, platform)) == n, (path, platform)


def test_what_loki_cannot_carry_is_listed_not_dropped(tmp_path: Path, capsys) -> None:
    pack = artefact_pack()
    f = tmp_path / "p.json"
    write_pack(pack, "json", str(f))
    out = tmp_path / "out"
    code, _, err = run_cli(["export", "--all", "--intel", str(f), "-o", str(out)], capsys)
    assert code == 0, err
    readme = (out / "README.txt").read_text()
    assert "loki: Loki / THOR Lite" in readme and f"      {C2_FILE}" in readme
    for itype in (IType.URL, IType.REGISTRY_KEY, IType.MUTEX, IType.PDB_PATH, IType.SHA512):
        why = FORMATS["loki"].reason(itype)
        assert why and f"      not in loki: {why}" in readme.split(f"\n  {itype.value} (1): ", 1)[1], itype
    for itype in (IType.DOMAIN, IType.MD5, IType.FILE_PATH, IType.FILENAME):
        assert FORMATS["loki"].reason(itype) is None
    carried = {r[0] for name in (C2_FILE, HASH_FILE) for r in loki_rows((out / name).read_text())}
    assert carried == {"evil.example", "203.0.113.7", "198.51.100.0/24", "0" * 31 + "1"}
    assert len(loki_rows((out / FILENAME_FILE).read_text())) == 5


@pytest.fixture(params=["bypass", "read"])
def hostile_pack(request, tmp_path: Path) -> Pack:
    if request.param == "bypass":
        pack = bypass_pack()
    else:
        from test_hostile_exports import read_hostile

        pack = read_hostile(tmp_path)
    for v in ("C:\\inject\u2028evil\\x.exe", "C:\\inject\nevil\\x.exe", "C:\\ok;#semi\\x.exe",
              "%NOSUCHVAR%\\x.exe", "C:\\a\\*b*c*d*e*f\\x.exe"):
        pack.add(Indicator(IType.FILE_PATH, v))
    pack.add(Indicator(IType.FILENAME, "inject\x1eevil.exe", {"standalone": ["yes"]}))
    return pack


def test_hostile_values_never_add_a_line(hostile_pack: Pack) -> None:
    files, refused = run(hostile_pack)
    no_markers(files)
    c2 = loki_rows(files[C2_FILE])
    assert sorted(r[0] for r in c2) == sorted(by_type("domain", "ipv4", "ipv6", "cidr"))
    assert sorted(r[0] for r in loki_rows(files[HASH_FILE])) == by_type("md5", "sha256")
    rows = loki_rows(files[FILENAME_FILE])
    assert [len(r) for r in rows] == [2]  # only the path with ';#': the ';' written \x3b, one regex, one score
    assert re.search(rows[0][0], "C:\\ok;#semi\\x.exe")
    reasons = [(i.type.value, why) for fmt, i, why in refused if fmt == "loki"]
    assert sum(1 for t, _ in reasons if t == "file-path") == 4 and sum(1 for t, _ in reasons if t == "filename") == 1
    assert any("NOSUCHVAR" in why for _, why in reasons) and any("placeholders" in why for _, why in reasons)
    net_hostile = [v for t, v, _ in HOSTILE if t in ("domain", "ipv4", "ipv6", "cidr")]
    assert sum(1 for t, _ in reasons if t in ("domain", "ipv4", "ipv6", "cidr")) in (0, len(net_hostile))
    assert len(VALID) == len(by_type(*{t for t, _, _ in VALID}))


def test_stix_and_misp_carry_host_artefacts() -> None:
    """A pack with file paths, registry keys, mutexes and PDB paths (as advisories give them): `export --all`
    used to stop on a KeyError/ValueError; the STIX and MISP writers now map each of them, nothing refused."""
    import json

    pack = artefact_pack()
    options = ExportOptions()
    for fmt in ("stix", "misp"):
        sel = select(pack, options)
        files = FORMATS[fmt].exporter(sel, options)
        assert [i.type.value for f, i, _ in sel.refused if f == fmt] == []
        text = next(iter(files.values()))
        json.loads(text)
        assert "evil.example" in text and "EvilMutex" in text


def test_intel_convert_to_loki_says_what_it_does_not_write(tmp_path: Path, capsys) -> None:
    f = tmp_path / "p.json"
    write_pack(artefact_pack(), "json", str(f))
    code, _, err = run_cli(["intel", "convert", str(f), "-f", "loki", "-o", str(tmp_path / "loki")], capsys)
    flat = " ".join(err.split())
    assert code == 0 and "loki: 9 indicator(s) have no LOKI form and are not written" in flat, err
    assert "sha512 " in flat  # Loki reads MD5, SHA-1 and SHA-256 only: said, not written for Loki to ignore
    assert "url 'hxxp://evil[.]example/gate.php'" in flat and "registry-key 'HKCU\\Software\\Evil'" in flat
    assert "evil.example/gate" not in flat  # shown defanged


def test_intel_convert_to_stix_and_misp_round_trips_host_artefacts(tmp_path: Path, capsys) -> None:
    """`intel convert -f stix|misp` of a pack with file paths, registry keys, mutexes, PDB paths: written and
    read back (it used to stop with an internal error)."""
    import json

    f = tmp_path / "p.json"
    write_pack(artefact_pack(), "json", str(f))
    for fmt in ("stix", "misp"):
        out = tmp_path / f"p.{fmt}.json"
        code, _, err = run_cli(["intel", "convert", str(f), "-f", fmt, "-o", str(out)], capsys)
        assert code == 0 and "internal error" not in err, err
        back = read_pack(str(out))
        assert {i.type for i in back.indicators} >= {IType.DOMAIN, IType.IPV4, IType.MD5, IType.URL,
                                                      IType.FILE_PATH, IType.MUTEX, IType.REGISTRY_KEY}
        json.loads(out.read_text())
