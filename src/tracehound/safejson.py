"""json.loads for untrusted text: deep nesting (a RecursionError in the decoder) becomes an
ordinary JSONDecodeError, so every caller's error path (file and line) applies to it too."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        doc = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
        raise json.JSONDecodeError("too deeply nested", doc, 0) from None
