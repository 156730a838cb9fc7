"""URLs written encoded in an advisory: base64 (PowerShell droppers, `aHR0cDovL…`), hex
(`687474703a2f2f…`) and percent-encoding (`http%3A%2F%2F…`).

Each candidate run is decoded once; only text that decodes to printable characters holding a
`scheme://` is searched again for URLs. The caller records the encoding in the indicator's
context, so a responder sees the value was not written in clear.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from urllib.parse import unquote

_B64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){10,}(?![0-9A-Fa-f])")
_PCT = re.compile(r"[\w.~-]{0,16}%3[aA]%2[fF]%2[fF](?:[\w.~:/?#@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+")
_SCHEME_HINT = re.compile(rb"(?i)(?:https?|s?ftps?|tcp)://")
_MAX_RUN = 65536


_GLUED_SCHEME = re.compile(r"(?i)(?<=\w)(?=(?:https?|s?ftps?|tcp)://)")


def _printable(data: bytes) -> str | None:
    """The decoded text when it is mostly printable; other characters become spaces, and a scheme
    glued to a preceding word (`…asdhttp://`) is set apart, so the URL reader sees the URL alone."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    good = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    if not text or good / len(text) < 0.9:
        return None
    text = "".join(c if c.isprintable() else " " for c in text)
    return _GLUED_SCHEME.sub(" ", text)


def decoded_texts(line: str) -> Iterator[tuple[str, str]]:
    """(encoding, decoded text) for every encoded run of line that decodes to something with a URL scheme."""
    if len(line) < 16:
        return
    for m in _HEX.finditer(line):
        run = m.group(0)
        if "3a2f2f" not in run.lower() or len(run) > _MAX_RUN:
            continue
        data = binascii.unhexlify(run)
        text = _printable(data) if _SCHEME_HINT.search(data) else None
        if text:
            yield "hex", text
    for m in _B64.finditer(line):
        run = m.group(0).rstrip("=")
        if len(run) > _MAX_RUN or re.fullmatch(r"[0-9A-Fa-f]+", run):
            continue
        extra = len(run) % 4
        run = run[:-1] if extra == 1 else run + "=" * ((4 - extra) % 4)
        try:
            data = base64.b64decode(run, validate=False)
        except (binascii.Error, ValueError):
            continue
        if _SCHEME_HINT.search(data):
            text = _printable(data)
            if text:
                yield "base64", text
    if "%" in line:
        for m in _PCT.finditer(line):
            yield "percent", unquote(m.group(0))
