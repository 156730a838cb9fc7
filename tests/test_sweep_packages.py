"""Update packages served by a phone system, read from their own metadata (Squirrel nupkg, RELEASES, macOS zip),
product knowledge from data files, hostile zips, and hash types named in full in file messages."""

import ast
import hashlib
import json
import plistlib
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from hosttree import snapshot
from tracehound.intel.builtin import load_intel
from tracehound.samples import make_asar
from tracehound.sweep.engine import SweepOptions, run_sweep

NUSPEC_NS = "http://schemas.microsoft.com/packages/2010/07/nuspec.xsd"
ELECTRON = Path("var/lib/3cxpbx/Instance1/Data/Http/electron")
SRC = Path(__file__).resolve().parents[1] / "src" / "tracehound"


def nuspec(version: str, pkg_id: str = "3CXDesktopApp", title: str = "3CX Desktop App") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<package xmlns="{NUSPEC_NS}">\n  <metadata>\n'
            f"    <id>{pkg_id}</id>\n    <version>{version}</version>\n    <title>{title}</title>\n"
            "    <authors>3CX</authors>\n    <owners>3CX</owners>\n"
            "    <requireLicenseAcceptance>false</requireLicenseAcceptance>\n"
            "    <description>3CX Desktop App</description>\n  </metadata>\n</package>\n").encode()


def write_nupkg(path: Path, version: str, nuspec_bytes: bytes | None = None, asar_version: str | None = None) -> None:
    """The layout Squirrel.Windows (electron-winstaller) produces: an OPC zip with the .nuspec at the top,
    the app under lib/net45/ (resources/app.asar inside), content types, rels and core properties."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Type="http://schemas.microsoft.com/'
                   'packaging/2010/07/manifest" Target="/3CXDesktopApp.nuspec" Id="R1" /></Relationships>')
        if nuspec_bytes is not False:
            z.writestr("3CXDesktopApp.nuspec", nuspec_bytes if nuspec_bytes is not None else nuspec(version))
        z.writestr("lib/net45/3CXDesktopApp.exe", b"MZ stand-in for the app executable\x00" * 8)
        z.writestr("lib/net45/ffmpeg.dll", b"MZ stand-in library\x00" * 8)
        z.writestr("lib/net45/resources/app.asar",
                   make_asar({"productName": "3CX Desktop App", "version": asar_version or version}))
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
                   'vnd.openxmlformats-package.relationships+xml" /><Default Extension="nuspec" ContentType="'
                   'application/octet" /></Types>')
        z.writestr("package/services/metadata/core-properties/7f1e3a0c9d2b4c1e8a6f5b3d2e1c0a9b.psmdcp",
                   '<?xml version="1.0" encoding="utf-8"?><coreProperties xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>'
                   f"3CX</dc:creator><dc:identifier>3CXDesktopApp</dc:identifier><version>{version}</version>"
                   "</coreProperties>")


def write_mac_zip(path: Path, version: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    app = "3CX Desktop App.app/Contents/"
    plist = plistlib.dumps({"CFBundleName": "3CX Desktop App", "CFBundleDisplayName": "3CX Desktop App",
                            "CFBundleIdentifier": "com.electron.3cx-desktop-app", "CFBundleShortVersionString": version,
                            "CFBundleVersion": version, "CFBundleExecutable": "3CX Desktop App"})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(app + "Info.plist", plist)
        z.writestr(app + "MacOS/3CX Desktop App", b"\xcf\xfa\xed\xfe stand-in")
        z.writestr(app + "Resources/app.asar", make_asar({"productName": "3CX Desktop App", "version": version}))
        z.writestr(app + "Frameworks/Electron Framework.framework/Versions/A/Resources/Info.plist",
                   plistlib.dumps({"CFBundleName": "Electron Framework", "CFBundleShortVersionString": "19.1.9"}))


def phone_system(base: Path) -> Path:
    """A 3CX Phone System (Linux) serving one affected and two fixed versions of the desktop app."""
    root = base / "pbx"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("PBX01\n")
    win, osx = root / ELECTRON / "windows", root / ELECTRON / "osx"
    write_nupkg(win / "3CXDesktopApp-18.12.416-full.nupkg", "18.12.416")
    write_nupkg(win / "3CXDesktopApp-18.12.422-full.nupkg", "18.12.422")
    releases = []
    for v in ("18.12.416", "18.12.422"):
        f = win / f"3CXDesktopApp-{v}-full.nupkg"
        releases.append(f"{hashlib.sha1(f.read_bytes()).hexdigest().upper()} {f.name} {f.stat().st_size}")
    (win / "RELEASES").write_bytes(("\ufeff" + "\n".join(releases)).encode())  # Squirrel writes a BOM
    write_mac_zip(osx / "3CXDesktopApp-18.12.416.zip", "18.12.416")
    write_mac_zip(osx / "3CXDesktopApp-18.12.425.zip", "18.12.425")
    (osx / "3CXDesktopApp-18.12.416.dmg").write_bytes(b"koly stand-in disk image\x00" * 20)
    return root


def sweep(root: Path, pack=None, **kw) -> tuple[list[dict], object]:
    docs: list[dict] = []
    result = run_sweep(pack or load_intel(None), SweepOptions(root=str(root), jobs=1, **kw), docs.append)
    return docs, result


def pkg_docs(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["tracehound"].get("check") == "packages"]


def test_phone_system_serving_an_affected_version(tmp_path: Path) -> None:
    root = phone_system(tmp_path)
    pack = load_intel(None)
    served = (root / ELECTRON / "windows" / "3CXDesktopApp-18.12.416-full.nupkg").read_bytes()
    assert not {hashlib.sha256(served).hexdigest(), hashlib.sha1(served).hexdigest()} & {i.value for i in pack.indicators}
    before = snapshot(root)
    docs, result = sweep(root, pack)
    assert snapshot(root) == before  # read-only: nothing extracted, nothing touched
    found = {(Path(d["file"]["path"]).name, d["package"]["version"], d["tracehound"]["version_source"]):
             d for d in pkg_docs(docs)}
    assert set(found) == {("3CXDesktopApp-18.12.416-full.nupkg", "18.12.416", "nuspec"),
                          ("RELEASES", "18.12.416", "RELEASES"),
                          ("3CXDesktopApp-18.12.416.zip", "18.12.416", "info.plist"),
                          ("3CXDesktopApp-18.12.416.dmg", "18.12.416", "file name")}
    for d in found.values():
        assert d["tracehound"]["verdict"] == "exposed"
        assert d["tracehound"]["distribution_point"] == "3CX Phone System (Linux)"
        assert " to clients" in d["message"]
        enr = d["threat"]["enrichments"][0]
        assert enr["matched"]["field"] == "package.version" and enr["matched"]["atomic"] == "18.12.416"
    nupkg = found[("3CXDesktopApp-18.12.416-full.nupkg", "18.12.416", "nuspec")]
    assert nupkg["package"]["type"] == "squirrel-nupkg" and nupkg["tracehound"]["platform"] == "windows"
    assert nupkg["tracehound"]["package_member"] == "3CXDesktopApp.nuspec"
    assert found[("3CXDesktopApp-18.12.416.zip", "18.12.416", "info.plist")]["tracehound"]["platform"] == "macos"
    assert "RELEASES offers 3CXDesktopApp-18.12.416-full.nupkg to clients" in found[("RELEASES", "18.12.416",
                                                                                   "RELEASES")]["message"]
    assert result.verdict == "exposed" and docs[-1]["tracehound"]["verdict"] == "exposed"
    # fixed packages (18.12.422, 18.12.425) are not findings of any check
    assert not [d for d in docs if "422" in json.dumps(d.get("package", {})) or "425" in json.dumps(d.get("package", {}))]


def test_metadata_wins_over_the_name_and_asar_is_the_fallback(tmp_path: Path) -> None:
    root = tmp_path / "r"
    win = root / ELECTRON / "windows"
    write_nupkg(win / "3CXDesktopApp-18.12.422-full.nupkg", "18.12.416")  # renamed: the nuspec says 416
    write_nupkg(win / "3CXDesktopApp-18.12.425-full.nupkg", "18.12.425", nuspec_bytes=False, asar_version="18.12.407")
    docs, _ = sweep(root)
    got = sorted((Path(d["file"]["path"]).name, d["package"]["version"], d["tracehound"]["version_source"])
                 for d in pkg_docs(docs))
    assert got == [("3CXDesktopApp-18.12.422-full.nupkg", "18.12.416", "nuspec"),
                   ("3CXDesktopApp-18.12.425-full.nupkg", "18.12.407", "asar")]


def test_only_fixed_versions_is_clean(tmp_path: Path, capsys) -> None:
    root = tmp_path / "r"
    write_nupkg(root / ELECTRON / "windows" / "3CXDesktopApp-18.12.422-full.nupkg", "18.12.422")
    write_mac_zip(root / ELECTRON / "osx" / "3CXDesktopApp-18.12.425.zip", "18.12.425")
    code, _, err = run_cli(["sweep", "--root", str(root), "-o", str(tmp_path / "o.jsonl"), "--no-nice", "-j", "1"],
                           capsys)
    assert code == 0, err
    assert not pkg_docs([json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()])


def test_affected_package_in_a_client_cache_is_on_disk_not_served(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_nupkg(root / "Users/alice/AppData/Local/3CXDesktopApp/packages/3CXDesktopApp-18.12.407-full.nupkg",
                "18.12.407")
    [d] = pkg_docs(sweep(root)[0])
    assert d["tracehound"]["verdict"] == "exposed" and "distribution_point" not in d["tracehound"]
    assert d["message"].startswith("affected package on disk: 3CXDesktopApp-18.12.407-full.nupkg")


def _bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("3CXDesktopApp.nuspec", b"<" + b" " * (9 * 1024 * 1024))  # 9 MiB (cap 8) that compress to ~9 KiB


def _many(path: Path, n: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(n):
            z.writestr(f"lib/net45/f{i}", b"")
        z.writestr("3CXDesktopApp.nuspec", nuspec("18.12.422"))


def _traversal(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../../../../../tmp/tracehound-evil.nuspec", nuspec("18.12.416"))
        z.writestr("/etc/tracehound-evil", b"x")
        z.writestr("..\\..\\3CXDesktopApp.nuspec", nuspec("18.12.416"))


def _dtd(path: Path) -> None:
    lol = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
           b"<package><metadata><id>3CXDesktopApp</id><version>&b;</version></metadata></package>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("3CXDesktopApp.nuspec", lol)


@pytest.mark.parametrize("make,reason", [
    (_bomb, "bytes declared (more than"),
    (lambda p: _many(p, 1001), "1002 entries (more than 1000)"),
    (_traversal, "no readable version inside the package"),
    (_dtd, "nuspec declares a DTD"),
    (lambda p: p.write_bytes(b"PK\x03\x04 truncated garbage, not a zip"), "not a zip file"),
])
def test_hostile_packages(tmp_path: Path, monkeypatch, make, reason: str) -> None:
    from tracehound.sweep import zipread

    monkeypatch.setattr(zipread, "MAX_ENTRIES", 1000)
    root = tmp_path / "r"
    (root / ELECTRON / "windows").mkdir(parents=True)
    # the name says a fixed version: whatever the hostile content, nothing is affected and the reason is said
    make(root / ELECTRON / "windows" / "3CXDesktopApp-18.12.422-full.nupkg")
    outside = sorted(p.name for p in tmp_path.iterdir())
    docs, result = sweep(root)
    [d] = pkg_docs(docs)
    assert d["tracehound"]["verdict"] == "info" and reason in d["message"], d["message"]
    assert result.verdict == "clean"
    assert sorted(p.name for p in tmp_path.iterdir()) == outside and not Path("/tmp/tracehound-evil.nuspec").exists()


def test_unreadable_affected_package_still_reported_by_name(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / ELECTRON / "windows").mkdir(parents=True)
    (root / ELECTRON / "windows" / "3CXDesktopApp-18.12.416-full.nupkg").write_bytes(b"not a zip at all")
    [d] = pkg_docs(sweep(root)[0])
    assert d["tracehound"]["verdict"] == "exposed" and d["tracehound"]["version_source"] == "file name"
    assert "package metadata not read: not a zip file" in d["message"]


def _code_strings(source: str) -> list[str]:
    """String literals of a module, docstrings left out (they may cite an example)."""
    tree = ast.parse(source)
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs]


def test_next_vendor_is_data_only(tmp_path: Path, capsys) -> None:
    """No vendor path in the sweep code; a new product works with a definition file and a pack naming it."""
    literals = [s.lower() for p in (SRC / "sweep").glob("*.py") for s in _code_strings(p.read_text())]
    assert literals and not [s for s in literals if "3cx" in s or "electron/" in s]
    definition = tmp_path / "acme.json"
    definition.write_text(json.dumps({
        "format": "tracehound-product", "version": 1, "product": "Acme Softphone", "names": ["AcmeSoftphone"],
        "distribution_points": [{"server": "Acme PBX", "path": "opt/acme-pbx/*/updates/"}],
        "packages": [{"kind": "squirrel-nupkg", "platform": "windows",
                      "name": "AcmeSoftphone-(?P<version>[0-9.]+)-full\\.nupkg"}]}))
    pack = tmp_path / "acme.csv"
    pack.write_text('type,value,confidence,context\nsoftware,Acme Softphone,90,'
                    '"{""platform"": ""windows"", ""versions"": [""2.0.1""]}"\n')
    root = tmp_path / "r"
    write_nupkg(root / "opt/acme-pbx/site1/updates/AcmeSoftphone-2.0.1-full.nupkg", "2.0.1",
                nuspec_bytes=nuspec("2.0.1", "AcmeSoftphone", "Acme Softphone"))
    out = tmp_path / "o.jsonl"
    code, _, err = run_cli(["sweep", "--root", str(root), "--intel", str(pack), "--product-def", str(definition),
                            "-o", str(out), "--no-nice", "-j", "1"], capsys)
    [d] = pkg_docs([json.loads(x) for x in out.read_text().splitlines()])
    assert code == 1, err
    assert d["tracehound"]["distribution_point"] == "Acme PBX" and d["package"]["version"] == "2.0.1"
    definition.write_text(json.dumps({"format": "tracehound-product", "product": "X",
                                      "packages": [{"kind": "squirrel-nupkg", "name": "(unclosed"}]}))
    code, _, err = run_cli(["sweep", "--root", str(root), "--product-def", str(definition), "-o", str(out)], capsys)
    assert code == 2 and str(definition) in err and "packages[0].name" in err and "Traceback" not in err


def test_hash_types_named_in_full(tmp_path: Path) -> None:
    """Every file-hash finding names the hash types it matched (sha256, sha1, md5), not a cut of the field name."""
    root = tmp_path / "r"
    (root / "Users/a/Downloads").mkdir(parents=True)
    payload = b"MZ tracehound message test payload\x00" * 7
    (root / "Users/a/Downloads/update.bin").write_bytes(payload)
    (root / "Users/a/Downloads/3cxdesktopapp-18.12.416.msi").write_bytes(b"installer stand-in")
    csv = tmp_path / "h.csv"
    inst = (root / "Users/a/Downloads/3cxdesktopapp-18.12.416.msi").read_bytes()
    csv.write_text("type,value\n" + "".join(f"{a},{hashlib.new(a, payload).hexdigest()}\n" for a in ("sha256", "sha1",
                                                                                                       "md5"))
                   + f"md5,{hashlib.md5(inst).hexdigest()}\n")
    docs, _ = sweep(root, load_intel(["3cx", str(csv)]))
    hashed = [d for d in docs if any(e["matched"]["field"].startswith("file.hash.")
                                     for e in d.get("threat", {}).get("enrichments", []))]
    assert len(hashed) == 2
    for d in hashed:
        fields = [e["matched"]["field"].removeprefix("file.hash.") for e in d["threat"]["enrichments"]]
        assert f"({'/'.join(fields)} of " in d["message"], d["message"]
        words = set(d["message"].replace("(", " ").replace("/", " ").split())
        assert not words & {"ha256", "ha1", "d5"}
    assert sorted(len(d["threat"]["enrichments"]) for d in hashed) == [1, 3]


def test_hash_and_name_hits_in_a_distribution_point_are_exposed(tmp_path: Path) -> None:
    """Served to clients, not run on the server: exposed (not info, not compromised), with the server named."""
    root = phone_system(tmp_path)
    served = root / ELECTRON / "windows" / "3CXDesktopApp-18.12.422-full.nupkg"
    www = root / "var/www/html/downloads"
    www.mkdir(parents=True)
    (www / "3cxdesktopapp-18.12.416.msi").write_bytes(b"installer stand-in")
    csv = tmp_path / "h.csv"
    csv.write_text(f"type,value\nsha256,{hashlib.sha256(served.read_bytes()).hexdigest()}\n")
    docs, _ = sweep(root, load_intel(["3cx", str(csv)]))
    files = {d["file"]["name"]: d for d in docs if d["tracehound"].get("check") == "files"}
    assert set(files) == {served.name, "3cxdesktopapp-18.12.416.msi"}
    assert files[served.name]["tracehound"]["verdict"] == "exposed"
    assert files[served.name]["message"].startswith("distribution point (3CX Phone System (Linux)): served to clients: "
                                                    "affected installer on disk (sha256 of a listed installer)")
    msi = files["3cxdesktopapp-18.12.416.msi"]
    assert msi["tracehound"]["verdict"] == "exposed" and msi["tracehound"]["distribution_point"] == "web server"


def test_damaged_member_header_falls_back_to_the_name(tmp_path: Path) -> None:
    """Found by mutating the fixtures: a member whose local header is damaged (central directory intact)."""
    pkg = tmp_path / "r" / ELECTRON / "windows" / "3CXDesktopApp-18.12.416-full.nupkg"
    write_nupkg(pkg, "18.12.416", nuspec_bytes=False)
    with zipfile.ZipFile(pkg) as z:
        offset = z.getinfo("lib/net45/resources/app.asar").header_offset
    data = bytearray(pkg.read_bytes())
    data[offset : offset + 4] = b"XXXX"
    pkg.write_bytes(bytes(data))
    [d] = pkg_docs(sweep(tmp_path / "r")[0])
    assert d["tracehound"]["verdict"] == "exposed" and d["tracehound"]["version_source"] == "file name"
    assert "Bad magic number for file header" in d["message"]
