"""Sweep check: a product's update packages (see packages.py), judged against the pack's affected versions.

An affected version is `exposed`, as an affected installer on disk is: in a distribution point
(a phone system's update folder, a web root) it is served to every client that updates; elsewhere
(e.g. Squirrel's package cache of a client) it was downloaded there. Fixed or unaffected versions
are not findings; a package whose metadata could not be read says why (info), and its file name
still decides when it carries a version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracehound.intel.model import Indicator
from tracehound.sweep import packages
from tracehound.sweep.products import PackageSpec, Product
from tracehound.sweep.software import Installed, ProductIndex

MakeDoc = Callable[..., dict[str, Any]]


def check_package(path: str, size: int, data: bytes | None, shown_path: str, file_name: str,
                  hit: tuple[Product, PackageSpec, str], server: str, products: ProductIndex,
                  hashes: dict[str, Indicator], fields: dict[str, Any], make_doc: MakeDoc) -> list[dict[str, Any]]:
    product, spec, name_version = hit
    out = []
    for pv in packages.read_package(path, size, data, product, spec, name_version):
        if pv.problem and not pv.version:
            out.append(make_doc("packages", "info", f"{file_name}: package of {product.product} not read: {pv.problem}",
                                [], fields={**fields, "tracehound.distribution_point": server or None}))
            continue
        status, ind = products.assess(Installed(pv.product, pv.version, pv.platform, shown_path, pv.source))
        sha_ind = hashes.get(pv.sha1) if pv.sha1 else None
        if status != "affected" and sha_ind is None:
            if pv.problem:
                out.append(make_doc("packages", "info", f"{file_name}: metadata not read ({pv.problem}); version "
                                    f"{pv.version} from its {pv.source} is not affected", [], fields=fields))
            continue
        what = f"{pv.title or pv.product} {pv.version} ({pv.platform or 'unknown platform'}), an affected version"
        if pv.source == "RELEASES":
            line, listed = pv.member.split(": ", 1)
            msg = (f"distribution point ({server}): {file_name} offers {listed} to clients: {what} ({line})" if server
                   else f"affected package listed on disk: {file_name} lists {listed}: {what} ({line})")
        else:
            how = f"version from its {pv.source}" + (f" {pv.member}" if pv.member else "")
            if pv.problem:
                how += f"; package metadata not read: {pv.problem}"
            msg = (f"distribution point ({server}): {file_name} serves {what}, to clients ({how})" if server
                   else f"affected package on disk: {file_name} holds {what} ({how})")
        matches = [(ind, "package.version", pv.version)] if status == "affected" and ind is not None else []
        if sha_ind is not None:
            matches.append((sha_ind, "file.hash.sha1", pv.sha1))
        out.append(make_doc("packages", "exposed", msg, matches, category="package", fields={
            **fields, "package.name": pv.product, "package.version": pv.version, "package.path": shown_path,
            "package.type": spec.kind, "tracehound.platform": pv.platform, "tracehound.version_source": pv.source,
            "tracehound.package_member": pv.member or None, "tracehound.distribution_point": server or None}))
    return out
