"""The reader registry: each reader module registers its readers with a detection priority.

A new format is one module in this package plus its test: decorate the Reader class with
`@register(priority)`. Detection tries readers in ascending priority (most specific first,
generic CSV/JSON last); equal priorities keep import order. The package imports every module
in this folder, so nothing else needs editing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tracehound.sources.logs.readers.base import Reader

R = TypeVar("R", bound=type[Reader])
_ENTRIES: list[tuple[int, int, type[Reader]]] = []


def register(priority: int) -> Callable[[R], R]:
    """Class decorator: add a reader at this detection priority (lower is tried first)."""
    def deco(cls: R) -> R:
        add(cls, priority)
        return cls
    return deco


def add(cls: type[Reader], priority: int) -> None:
    if any(c.name == cls.name for _, _, c in _ENTRIES):
        if any(c is cls for _, _, c in _ENTRIES):
            return
        raise ValueError(f"two log readers are named {cls.name!r}")
    _ENTRIES.append((priority, len(_ENTRIES), cls))


def ordered() -> list[type[Reader]]:
    return [c for _, _, c in sorted(_ENTRIES, key=lambda e: (e[0], e[1]))]


def priorities() -> dict[str, int]:
    return {c.name: p for p, _, c in _ENTRIES}
