"""Check: Windows Uninstall keys of offline hives (each user's NTUSER.DAT and the SOFTWARE hive)."""

from __future__ import annotations

import os

from tracehound.sources.hosts.walk import Entry
from tracehound.sweep import software
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView, shown

HIVE_NAMES = ("ntuser.dat", "software")


class RegistryUninstallCheck(Check):
    name = "software"
    order = 45

    def wants(self, e: Entry, ctx: Context) -> bool:
        return os.path.basename(e.rel).lower() in HIVE_NAMES

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        if f.lname not in HIVE_NAMES or not ctx.products:
            return
        found, err = software.from_registry_hive(f.e)
        res.installed.extend(i.__dict__ for i in found)
        if err:  # a hive swapped for a FIFO or a symlink, or malformed: counted and said, not silent
            res.notes.append(err)
            res.out.append(ctx.doc("software", "info", f"{shown(f.name)}: {err}", [], fields=f.fields))


CHECK = RegistryUninstallCheck()
