"""Check: name resolution pinned in hosts files (see sweep/resolution.py)."""

from __future__ import annotations

import os

from tracehound.defang import defang
from tracehound.sources.hosts.walk import Entry
from tracehound.sweep import resolution, software
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView


class ResolutionCheck(Check):
    name = "resolution"
    order = 60

    def wants(self, e: Entry, ctx: Context) -> bool:
        return resolution.is_hosts_file(e.rel)

    def keep(self, e: Entry, head: bytes, ctx: Context) -> int:
        # Any file named 'hosts' is kept (small), as before the checks were plugins.
        return software.MAX_META if os.path.basename(e.rel).lower() == "hosts" or resolution.is_hosts_file(e.rel) else 0

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        if not resolution.is_hosts_file(f.e.rel) or f.data is None:
            return
        for line, ip, host, verdict in resolution.hosts_entries(f.data.decode("utf-8", errors="replace"), ctx.matcher):
            ind = ctx.matcher.domain(host) or ctx.matcher.ip(ip)
            res.out.append(ctx.doc("resolution", verdict, f"hosts file line {line} pins {defang(host)} to {defang(ip)}",
                                   [(ind, "dns.question.name", host)] if ind else [], category="network",
                                   fields={**f.file_fields, "dns.question.name": host, "dns.resolved_ip": [ip]}))


CHECK = ResolutionCheck()
