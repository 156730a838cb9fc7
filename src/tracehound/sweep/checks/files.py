"""Check: file names, path regexes (no read) and file hashes against the pack."""

from __future__ import annotations

import os
from typing import Any

from tracehound.sources.hosts.walk import Entry
from tracehound.sweep import files
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView, file_fields, shown


class FilesCheck(Check):
    name = "files"
    order = 10

    def names(self, e: Entry, ctx: Context) -> list[dict[str, Any]]:
        """File-name and path-regex indicators: metadata only, no read."""
        index = ctx.files
        out: list[dict[str, Any]] = []
        name = os.path.basename(e.rel)
        fields = file_fields(e)
        name_ind = index.name_hit(name)
        if name_ind is not None and files.name_alerts(name_ind):
            verdict = "exposed" if files.is_installer(name, name_ind) else "suspicious"
            dist = files.is_distribution_point(e.rel, ctx.defs)
            out.append(ctx.doc("files", verdict,
                               f"file name {name} is an indicator" + (f" (served to clients: distribution point, {dist})"
                                                                      if dist else ""),
                               [(name_ind, "file.name", name)],
                               fields={**fields, "tracehound.distribution_point": dist or None}))
        for rind in index.regex_hits(e.rel):
            if rind.confidence >= files.REGEX_ALERT_CONFIDENCE:
                out.append(ctx.doc("files", "suspicious", f"path matches {rind.ctx('description') or ['a path indicator']}",
                                   [(rind, "file.path", e.rel)], fields=fields))
        return out

    def wants(self, e: Entry, ctx: Context) -> bool:
        return bool(ctx.files.hashes)

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        # Hashes: one finding per file, one enrichment per matching hash type.
        index = ctx.files
        hash_hits = [(ind, f"file.hash.{algo}", h) for algo, h in f.hashes.items() if (ind := index.hashes.get(h))]
        if hash_hits:
            ind = hash_hits[0][0]
            dist = files.is_distribution_point(f.e.rel, ctx.defs)
            installer = files.is_installer(f.name, ind)
            verdict = "exposed" if dist or installer else "compromised"  # served to clients, not run here
            what = ", ".join(ind.ctx("file_name") + ind.ctx("label")) or ("a listed installer" if installer else "a payload")
            kinds = "/".join(fl.removeprefix("file.hash.") for _, fl, _ in hash_hits)
            msg = (f"{f'distribution point ({dist}): served to clients: ' if dist else ''}"
                   f"{'affected installer' if installer else 'payload'} on disk ({kinds} of {what})")
            res.out.append(ctx.doc("files", verdict, msg, hash_hits,
                                   fields={**f.fields, "tracehound.distribution_point": dist or None}))


CHECK = FilesCheck()
__all__ = ["CHECK", "shown"]
