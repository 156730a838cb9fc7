"""The two data tables (packs/sigma/*.json): logsource selection and text-reader field names."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def table(name: str) -> dict[str, Any]:
    text = resources.files("tracehound.packs").joinpath("sigma", f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def logsources() -> dict[str, Any]:
    return table("logsources")


def fields() -> dict[str, Any]:
    return table("fields")
