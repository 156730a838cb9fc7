"""Reader interface. A reader is created per file; header lines may update its state."""

from __future__ import annotations

from tracehound.sources.logs.observation import Observation


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
