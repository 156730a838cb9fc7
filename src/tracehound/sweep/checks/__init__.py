"""The registry of endpoint checks: every module of this package (but `base`) holding `CHECK`.

Adding a check is one module here (a `Check` subclass instance named CHECK; see base.py) and its
test; the engine needs no change. Checks run in `order` on each file.
"""

from __future__ import annotations

import importlib
import pkgutil

from tracehound.sweep.checks.base import Check, Context, FileResult, FileView

_REGISTRY: list[Check] = []


def all_checks() -> list[Check]:
    """Every registered check, in run order."""
    if not _REGISTRY:
        found = []
        for mod in pkgutil.iter_modules(__path__):
            if mod.name == "base" or mod.name.startswith("_"):
                continue
            check = getattr(importlib.import_module(f"{__name__}.{mod.name}"), "CHECK", None)
            if not isinstance(check, Check):
                raise TypeError(f"{__name__}.{mod.name} has no CHECK (a Check instance)")
            found.append((check.order, mod.name, check))
        _REGISTRY.extend(c for _o, _n, c in sorted(found, key=lambda t: (t[0], t[1])))
    return list(_REGISTRY)


def enabled_checks(ctx: Context, live: bool) -> list[Check]:
    return [c for c in all_checks() if c.enabled(ctx) and (live or not c.live_only)]


__all__ = ["Check", "Context", "FileResult", "FileView", "all_checks", "enabled_checks"]
