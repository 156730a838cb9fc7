"""Product definitions: where a vendor's product is served from and what its update packages look like.

Vendor knowledge is data (`tracehound/packs/products/*.json`, or a file given with
`sweep --product-def`), not code. A pack refers to a definition by product name: every software
indicator of the pack (e.g. `3CX Desktop App`) picks the definitions whose `names` fold to the
same name, so a pack extracted from any advisory about that product uses it. Adding the next
vendor's product is one JSON file:

    {"format": "tracehound-product", "version": 1, "product": "...", "names": ["..."],
     "distribution_points": [{"server": "...", "path": "var/lib/x/*/updates/"}],
     "packages": [{"kind": "squirrel-nupkg|squirrel-releases|zip|name-only", "platform": "windows",
                   "name": "App-(?P<version>[0-9.]+)-full\\.nupkg"}]}

`path` is matched case-insensitively on '/' boundaries anywhere in the path below the sweep
root (`*` is one folder name), so a triage copy rooted one level higher still matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tracehound.errors import InputError
from tracehound.intel.model import IType, Pack, normalize_product

FORMAT = "tracehound-product"
PACKAGE_KINDS = ("squirrel-nupkg", "squirrel-releases", "zip", "name-only")
# Generic web roots: whatever an installer there is, it is served to clients (not vendor knowledge).
WEB_ROOTS = ("var/www/", "srv/www/", "inetpub/wwwroot/", "usr/share/nginx/html/")
MAX_DEFINITION = 1 << 20


@dataclass
class PackageSpec:
    kind: str
    platform: str
    name: re.Pattern[str]


@dataclass
class DistributionPoint:
    server: str
    path: re.Pattern[str]


@dataclass
class Product:
    product: str
    names: list[str]
    source: str
    packages: list[PackageSpec] = field(default_factory=list)
    distribution_points: list[DistributionPoint] = field(default_factory=list)

    def package_of(self, file_name: str) -> tuple[PackageSpec, str] | None:
        """(spec, version from the name or '') when the file name is one of this product's packages."""
        for spec in self.packages:
            m = spec.name.fullmatch(file_name)
            if m:
                return spec, (m.groupdict().get("version") or "")
        return None


def _path_rx(glob: str) -> re.Pattern[str]:
    parts = [re.escape(p) if p != "*" else "[^/]+" for p in glob.strip("/").split("/")]
    return re.compile(r"(?:^|/)" + "/".join(parts) + "/", re.I)


def parse_definition(text: str, source: str) -> Product:
    """One definition file; a bad one raises InputError naming the file and the field."""
    def bad(what: str) -> InputError:
        return InputError(f"product definition: {what}", path=source)

    try:
        d = json.loads(text)
    except ValueError as exc:
        raise InputError(f"product definition is not JSON ({exc})", path=source) from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise bad(f'"format" must be "{FORMAT}"')
    product = d.get("product")
    if not isinstance(product, str) or not product.strip():
        raise bad('"product" must be a non-empty string')
    names = d.get("names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad('"names" must be a list of strings')
    out = Product(product, [product, *names], source)
    for n, p in enumerate(_list(d, "packages", bad)):
        kind, platform, name = p.get("kind"), p.get("platform", ""), p.get("name")
        if kind not in PACKAGE_KINDS:
            raise bad(f"packages[{n}].kind must be one of {', '.join(PACKAGE_KINDS)}")
        if not isinstance(name, str) or not isinstance(platform, str):
            raise bad(f"packages[{n}].name and .platform must be strings")
        try:
            out.packages.append(PackageSpec(kind, platform, re.compile(name, re.I)))
        except re.error as exc:
            raise bad(f"packages[{n}].name is not a valid regular expression ({exc})") from None
    for n, p in enumerate(_list(d, "distribution_points", bad)):
        if not isinstance(p.get("path"), str) or not p["path"].strip("/"):
            raise bad(f"distribution_points[{n}].path must be a folder path")
        out.distribution_points.append(DistributionPoint(str(p.get("server") or product), _path_rx(p["path"])))
    return out


def _list(d: dict[str, Any], key: str, bad: Any) -> list[dict[str, Any]]:
    items = d.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad(f'"{key}" must be a list of objects')
    return items


def builtin_definitions() -> list[Product]:
    folder = resources.files("tracehound.packs").joinpath("products")
    out = []
    for f in sorted(folder.iterdir(), key=lambda p: p.name):
        if f.name.endswith(".json"):
            out.append(parse_definition(f.read_text(encoding="utf-8"), f"builtin:products/{f.name}"))
    return out


def load_definition_file(path: str) -> Product:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_DEFINITION:
            raise InputError(f"product definition larger than {MAX_DEFINITION} bytes", path=path)
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read product definition ({exc.strerror})", path=path) from None
    return parse_definition(text, path)


def definitions_for(pack: Pack, extra: list[Product] | None = None) -> list[Product]:
    """The definitions of the products the pack names (software indicators), plus any given explicitly."""
    wanted = {normalize_product(i.value) for i in pack.of_type(IType.SOFTWARE)}
    chosen = [d for d in builtin_definitions() if wanted & {normalize_product(n) for n in d.names}]
    return chosen + list(extra or [])


@dataclass
class ProductDefs:
    products: list[Product]

    def __bool__(self) -> bool:
        return bool(self.products)

    def distribution_point(self, rel_path: str) -> str:
        """The server that serves this path to clients ('' when none): a product's update folder or a web root."""
        p = "/" + rel_path
        for prod in self.products:
            for dp in prod.distribution_points:
                if dp.path.search(p):
                    return dp.server
        low = p.lower()
        return "web server" if any("/" + w in low for w in WEB_ROOTS) else ""

    def packages(self, file_name: str) -> list[tuple[Product, PackageSpec, str]]:
        """Every product whose packages this file name is one of (a generic name like RELEASES may be several)."""
        return [(prod, *hit) for prod in self.products if (hit := prod.package_of(file_name))]
