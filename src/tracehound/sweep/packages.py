"""Update packages of a product (as its product definition describes them), read from their own metadata.

A package is judged by what it holds, not by its hash, so an affected version is found even when
the advisory published no hash for that exact file: the Squirrel `.nuspec` `<version>` (or the
`app.asar`/`package.json` inside), a macOS zip's `*.app/Contents/Info.plist` (or its app.asar),
and last the version in the file name (a `.dmg` cannot be opened here). A Squirrel `RELEASES`
file lists the packages offered (`SHA1 filename size`): each listed package of the product is
read from its name, and its SHA-1 is checked against the pack.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from tracehound.sources.hosts.reading import open_evidence
from tracehound.sweep import software, zipread
from tracehound.sweep.products import PackageSpec, Product

MAX_RELEASES = 4 * 1024 * 1024
_RELEASE_LINE = re.compile(r"^\s*([0-9a-fA-F]{40})\s+(\S+)\s+(\d+)\s*$")


@dataclass
class PackageVersion:
    product: str
    version: str
    platform: str
    source: str  # nuspec, info.plist, asar, package.json, file name, RELEASES
    member: str = ""  # the file inside the package (or the RELEASES line) the version comes from
    sha1: str = ""  # RELEASES: the SHA-1 it announces
    problem: str = ""  # why the package's own metadata could not be read (the version then comes from its name)
    title: str = ""  # the name people know it by, when the package says (nuspec <title>)


def read_package(path: str, size: int, data: bytes | None, product: Product, spec: PackageSpec,
                 name_version: str) -> list[PackageVersion]:
    """Versions the package file declares; never raises on hostile content."""
    if spec.kind == "squirrel-releases":
        return _releases(path, size, data, product)
    if spec.kind == "name-only":
        return [PackageVersion(product.product, name_version, spec.platform, "file name")] if name_version else []
    problem = ""
    try:
        found = _from_zip(path, size, data, product, spec)
    except zipread.ZipProblem as exc:
        found, problem = None, str(exc)
    except OSError as exc:
        found, problem = None, f"read error ({exc.strerror or exc})"
    except zipread.READ_ERRORS as exc:  # a damaged archive that zipfile trips on in a way not caught above
        found, problem = None, f"unreadable zip ({type(exc).__name__}: {exc})"
    if found is not None:
        return [found]
    if name_version:
        return [PackageVersion(product.product, name_version, spec.platform, "file name",
                               problem=problem or "no readable version inside the package")]
    return [PackageVersion(product.product, "", spec.platform, "", problem=problem or "no version found")]


def _open(path: str, data: bytes | None) -> IO[bytes]:
    if data is not None:
        return BytesIO(data)
    return os.fdopen(open_evidence(path), "rb")


def _from_zip(path: str, size: int, data: bytes | None, product: Product,
              spec: PackageSpec) -> PackageVersion | None:
    with _open(path, data) as fh:
        zf = zipread.open_zip(fh, size)
        members = sorted(((zipread.member_name(i), i) for i in zf.infolist() if not i.is_dir()),
                         key=lambda m: (m[0].count("/"), m[0]))
        if spec.kind == "squirrel-nupkg":
            for name, info in members:
                if name.lower().endswith(".nuspec") and "/" not in name:
                    got = _nuspec(zipread.read_member(zf, info))
                    if got:
                        return PackageVersion(got[0] or product.product, got[2], spec.platform, "nuspec", name,
                                              title=got[1])
                    break
        else:
            for name, info in members:
                low = "/" + name.lower()
                if low.endswith(".app/contents/info.plist") and low.count(".app/") == 1:
                    inst = software.from_info_plist(zipread.read_member(zf, info), name)
                    if inst:
                        return PackageVersion(inst.product, inst.version, spec.platform, "info.plist", name)
        for name, info in members:  # the app inside: Electron's own package.json, plain or in app.asar
            low = "/" + name.lower()
            source = "package.json"
            if low.endswith("/resources/app/package.json"):
                inst = software.from_package_json(zipread.read_member(zf, info), name, spec.platform)
            elif low.endswith("/resources/app.asar"):
                source = "asar"
                stream = zipread.StreamedMember(zf, info)
                try:
                    inst = software.from_asar(stream.read_at, stream.size, name, spec.platform)
                finally:
                    stream.close()
            else:
                continue
            if inst:
                return PackageVersion(inst.product, inst.version, spec.platform, source, name)
    return None


def _nuspec(data: bytes) -> tuple[str, str, str] | None:
    """(id, title, version) of a NuGet .nuspec; documents with a DTD are refused (entity expansion)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise zipread.ZipProblem("nuspec declares a DTD: not parsed")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise zipread.ZipProblem(f"nuspec is not well-formed XML ({exc})") from None
    meta = next((e for e in root.iter() if _local(e.tag) == "metadata"), None)
    if meta is None:
        return None
    values = {_local(c.tag): (c.text or "").strip() for c in meta}
    version = values.get("version", "")
    if not version:
        return None
    return values.get("id") or values.get("title") or "", values.get("title", ""), version


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def _releases(path: str, size: int, data: bytes | None, product: Product) -> list[PackageVersion]:
    if data is None:
        if size > MAX_RELEASES:
            return [PackageVersion(product.product, "", "", "RELEASES",
                                   problem=f"RELEASES larger than {MAX_RELEASES} bytes: not read")]
        with _open(path, None) as fh:
            data = fh.read(MAX_RELEASES + 1)
    out = []
    for n, line in enumerate(data.decode("utf-8-sig", errors="replace").splitlines(), 1):
        m = _RELEASE_LINE.match(line)
        if not m:
            continue
        hit = product.package_of(m.group(2))
        if hit is None or hit[0].kind != "squirrel-nupkg" or not hit[1]:
            continue
        out.append(PackageVersion(product.product, hit[1], hit[0].platform, "RELEASES", f"line {n}: {m.group(2)}",
                                  sha1=m.group(1).lower()))
    return out
