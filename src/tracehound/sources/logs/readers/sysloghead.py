"""Syslog envelopes (RFC 3164, RFC 5424, device timestamps) in front of a vendor's message body."""

from __future__ import annotations

import re
from datetime import datetime

from tracehound.sources.logs.observation import RecordError
from tracehound.sources.logs.readers.fieldmap import parse_time
from tracehound.sources.logs.readers.timeparse import syslog_time

_PRI = re.compile(r"^\s*(?:<\d{1,3}>)?")
_5424 = re.compile(r"1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]{1,2}\d{1,2}:?\d\d)?) (\S+)")
_ISO = re.compile(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (\S+)")
_3164 = re.compile(r"([A-Z][a-z]{2}\s+\d{1,2} (?:\d{4} )?\d\d:\d\d:\d\d)(?: (\S+))?")


def header_time(line: str, ref: datetime | None) -> tuple[datetime | None, str]:
    """(time, reporting host) from the syslog envelope at the start of line; (None, '') when there is none."""
    pos = _PRI.match(line)
    rest = line[pos.end() if pos else 0:][:120]
    for rx in (_5424, _ISO):
        m = rx.match(rest)
        if m:
            return parse_time(m.group(1)), m.group(2)
    m = _3164.match(rest)
    if m:
        text = m.group(1)
        if re.search(r" \d{4} ", text):
            return parse_time(" ".join(text.split())), m.group(2) or ""
        try:
            return syslog_time(text, ref), m.group(2) or ""
        except RecordError:
            return None, ""
    return None, ""
