"""Reader interface. A reader is created per file; header lines may update its state."""

from __future__ import annotations

import json
import re
from typing import Any

from tracehound import safejson
from tracehound.sources.logs.observation import Observation, RecordError


def mostly_match(lines: list[str], pattern: re.Pattern[str], sample: int = 20, share: float = 0.8) -> bool:
    """True when most of the first non-empty lines match (tolerates a stray header or junk line)."""
    data = [ln for ln in lines if ln.strip()][:sample]
    return bool(data) and sum(1 for ln in data if pattern.search(ln)) >= max(1, len(data) * share)


def json_lines(lines: list[str], sample: int = 10) -> list[str]:
    """The first non-empty lines if they all look like JSON objects, else []."""
    data = [ln for ln in lines if ln.strip()][:sample]
    return data if data and all(ln.lstrip().startswith("{") for ln in data) else []


def json_object(line: str) -> dict[str, Any]:
    try:
        r = safejson.loads(line)
    except json.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc.msg}") from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise RecordError(f"invalid JSON: {exc}") from exc
    if not isinstance(r, dict):
        raise RecordError("JSON record is not an object")
    return r


class Reader:
    name = "base"
    description = ""
    has_headers = False  # lines starting with '#' carry state (Zeek TSV, W3C)

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        self.mapping = mapping or {}

    @classmethod
    def sniff(cls, lines: list[str]) -> bool:
        """True when these first lines look like this format."""
        raise NotImplementedError

    def header(self, line: str) -> None:
        """Handle a '#' line (only called when has_headers)."""

    def parse(self, line: str) -> list[Observation]:
        """Observations in one record; raise RecordError when it does not parse."""
        raise NotImplementedError


_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 13, 27))


def looks_binary(line: bytes) -> bool:
    """A NUL, or more than 1 in 10 bytes a control character: not a text record."""
    if b"\x00" in line:
        return True
    n = len(line)
    return n > 0 and n - len(line.translate(None, _CONTROL)) > n // 10
