"""Check: AmCache (Amcache.hve): SHA-1s of files that were present or ran (kept after deletion),
and the program inventory, against the pack's SHA-1, file-name and software indicators."""

from __future__ import annotations

import ntpath
import os

from tracehound.sources.hosts.walk import Entry
from tracehound.sweep import amcache, files
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView, shown


class AmcacheCheck(Check):
    name = "amcache"
    order = 47

    def enabled(self, ctx: Context) -> bool:
        return bool(ctx.files.hashes or ctx.files.names or ctx.products)

    def wants(self, e: Entry, ctx: Context) -> bool:
        return os.path.basename(e.rel).lower() == "amcache.hve"

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        if f.lname != "amcache.hve":
            return
        am = amcache.read_amcache(f.e, shown(f.e.path))
        if am.problem:
            res.notes.append(am.problem)
            res.out.append(ctx.doc("amcache", "info", f"{shown(f.name)}: {am.problem}", [], fields=f.fields))
        hive = shown(f.e.path)
        # A hive upgraded from the legacy layout records the same file in both: one finding, every key named.
        keys: dict[tuple[str, str], list[str]] = {}
        for rec in am.files:
            keys.setdefault((rec.sha1, rec.path.lower()), []).append(rec.key)
        for rec in am.files:
            if (where := keys.get((rec.sha1, rec.path.lower()))) is None or where[0] != rec.key:
                continue
            name = ntpath.basename(rec.path)
            fields = {"file.path": rec.path or None, "file.name": name or None, "file.hash.sha1": rec.sha1,
                      "tracehound.evidence_path": hive, "tracehound.amcache_key": where,
                      "tracehound.amcache_time": rec.time or None}
            ind = ctx.files.hashes.get(rec.sha1)
            if ind is not None:
                what = ", ".join(ind.ctx("file_name") + ind.ctx("label")) or "a payload"
                res.out.append(ctx.doc("amcache", "compromised",
                                       f"AmCache records {rec.path or 'a file'} with the SHA-1 of {what} (present or "
                                       f"run on this host, possibly deleted since)", [(ind, "file.hash.sha1", rec.sha1)],
                                       fields=fields))
                continue
            name_ind = ctx.files.name_hit(name) if name else None
            if name_ind is not None and files.name_alerts(name_ind):
                res.out.append(ctx.doc("amcache", "suspicious", f"AmCache records a file named {name}, an indicator "
                                       f"({rec.path})", [(name_ind, "file.name", name)], fields=fields))
        if ctx.products:
            res.installed.extend(p.__dict__ for p in am.programs)


CHECK = AmcacheCheck()
