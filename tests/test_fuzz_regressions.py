"""Inputs that crashed a parser under fuzzing (atheris), kept as regression tests."""

from pathlib import Path

import pytest

from tracehound.fuzzing import check

DATA = Path(__file__).parent / "data" / "fuzz"


@pytest.mark.parametrize("target,name", [
    ("browser_history", "browser_history-corrupt-schema.sqlite"),  # column names not UTF-8 -> UnicodeDecodeError
    ("evtx_record", "evtx_record-text-element.json"),  # text where the EVTX schema has objects -> AttributeError
    ("advisory_html", "advisory_html-marked-section.html"),  # '<!<![' -> AssertionError in html.parser
    ("asar", "asar-directory-not-an-object.bin"),  # asar header JSON not an object -> AttributeError
])
def test_crash_input_is_handled(target: str, name: str) -> None:
    check(target, (DATA / name).read_bytes())  # raised before the fix
