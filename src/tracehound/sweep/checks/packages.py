"""Check: a product's update packages on disk and in distribution points (see sweep/package_check.py)."""

from __future__ import annotations

import os

from tracehound.sources.hosts.walk import Entry
from tracehound.sources.targets.members import cached_bytes
from tracehound.sweep import files, package_check
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView, shown


class PackagesCheck(Check):
    name = "packages"
    order = 70

    def wants(self, e: Entry, ctx: Context) -> bool:
        return bool(ctx.products and ctx.defs.packages(os.path.basename(e.rel)))

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        hits = ctx.defs.packages(f.name) if ctx.products else []
        data = f.data if f.data is not None or not hits else cached_bytes(f.e)  # an archive member: from memory
        for hit in hits:
            res.out.extend(package_check.check_package(f.e.path, f.size, data, shown(f.e.path), shown(f.name), hit,
                                                       files.is_distribution_point(f.e.rel, ctx.defs), ctx.products,
                                                       ctx.files.hashes, f.fields, ctx.doc))


CHECK = PackagesCheck()
