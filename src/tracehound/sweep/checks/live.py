"""Check (live system only): running processes and network connections (see sweep/live_checks.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracehound.sweep import live_checks
from tracehound.sweep.checks.base import Check, Context
from tracehound.sweep.summary import SweepResult


class LiveCheck(Check):
    name = "process"
    order = 900
    live_only = True

    def host(self, ctx: Context, take: Callable[[dict[str, Any]], None], result: SweepResult) -> None:
        live_checks.run(take, result, ctx.matcher, ctx.files, ctx.doc)


CHECK = LiveCheck()
