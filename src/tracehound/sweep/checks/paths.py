"""Check: file-path indicators (a file or folder at that path), from the walk alone (no read).

Runs in the sweep's own process (`walked`), so each folder is matched once, when the walk first
shows a file below it (an empty folder shows none: not seen). Patterns: sweep/paths.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tracehound.sources.hosts.walk import Entry
from tracehound.sweep.checks.base import Check, Context, file_fields, shown
from tracehound.sweep.paths import PathIndex, Pattern

if TYPE_CHECKING:
    from tracehound.sweep.summary import SweepResult

ALERT_CONFIDENCE = 70  # at or above: a specific path is compromise evidence; below, or a wildcard name: suspicious


def index(ctx: Context) -> PathIndex:
    idx = ctx.cache.get("paths")
    if idx is None:
        idx = ctx.cache["paths"] = PathIndex.build(ctx.pack, ctx.os_type)
        ctx.cache["paths.seen"] = set()
    return idx


def observed(p: Pattern, parts: list[str]) -> str:
    """The path as the indicator writes it: C:\\Users\\alice\\..., D:\\..., /etc/..."""
    v = p.ind.value
    if v[:1] == "/" or v[:2] == "~/":
        return "/" + "/".join(parts)
    drive = v[0].upper() if len(v) > 1 and v[1] == ":" else "C"
    rest = parts[1:] if drive != "C" else parts
    return f"{drive}:\\" + "\\".join(rest)


class PathsCheck(Check):
    name = "paths"
    order = 12

    def enabled(self, ctx: Context) -> bool:
        return bool(index(ctx)) or bool(index(ctx).refused)

    def walked(self, e: Entry, ctx: Context) -> list[dict[str, Any]]:
        idx = index(ctx)
        if not idx:
            return []
        parts = e.rel.split("/")
        out = [self._doc(ctx, p, parts, file_fields(e), "file") for p in idx.match(parts)]
        seen: set[str] = ctx.cache["paths.seen"]
        for n in range(len(parts) - 1, 0, -1):  # the folders above it, each once per sweep
            folder = "/".join(parts[:n])
            if folder in seen:
                break
            seen.add(folder)
            hits = idx.match(parts[:n])
            if hits:
                where = f"{e.base()}!{folder}" if getattr(e, "member", "") else os.path.join(e.base(), folder)
                fields = {"file.path": shown(where), "file.name": shown(parts[n - 1]), "file.type": "dir"}
                out.extend(self._doc(ctx, p, parts[:n], fields, "folder") for p in hits)
        return out

    def _doc(self, ctx: Context, p: Pattern, parts: list[str], fields: dict[str, Any], what: str) -> dict[str, Any]:
        seen = shown(observed(p, parts))
        verdict = "compromised" if p.ind.confidence >= ALERT_CONFIDENCE and p.specific else "suspicious"
        desc = ", ".join(p.ind.ctx("description") or p.ind.ctx("label"))
        return ctx.doc("paths", verdict, f"{what} {seen} matches the path indicator {p.ind.display()}"
                       + (f" ({desc})" if desc else ""), [(p.ind, "file.path", seen)], fields=fields)

    def host(self, ctx: Context, take: Callable[[dict[str, Any]], None], result: SweepResult) -> None:
        for reason, n in index(ctx).refused.items():
            result.skip(reason, n)


CHECK = PathsCheck()
