"""The record a Sigma rule sees: a flat mapping of Sigma field names to values.

Built from an EVTX event (System and EventData/UserData fields, as Windows names them) or from a
text reader's Observation (Sigma taxonomy names through the documented table in
packs/sigma/fields.json). Lowercased values are computed once per field and record, shared by all rules.
"""

from __future__ import annotations

from typing import Any


class SigmaRecord(dict[str, Any]):
    __slots__ = ("_low", "_text", "_text_low")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._low: dict[str, Any] = {}
        self._text: list[str] | None = None
        self._text_low: list[str] | None = None

    def lowered(self, field: str) -> str | list[str] | None:
        """The field's value as lowercase text (a list for multi-valued fields); None when absent."""
        try:
            return self._low[field]
        except KeyError:
            pass
        raw = self.get(field)
        out: str | list[str] | None
        if raw is None:
            out = None
        elif isinstance(raw, list):
            out = [_text(x).lower() for x in raw if x is not None]
        else:
            out = _text(raw).lower()
        self._low[field] = out
        return out

    def all_text(self, lower: bool) -> list[str]:
        """Every value as text (keywords search them all)."""
        if self._text is None:
            vals: list[str] = []
            for v in self.values():
                if isinstance(v, list):
                    vals += [_text(x) for x in v if x is not None]
                elif v is not None:
                    vals.append(_text(v))
            self._text = vals
        if not lower:
            return self._text
        if self._text_low is None:
            self._text_low = [v.lower() for v in self._text]
        return self._text_low


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
