"""Log readers, one module per format family, all with the same small interface (base.Reader)."""

from __future__ import annotations

from tracehound.sources.logs.readers.base import Reader
from tracehound.sources.logs.readers.dns_text import BindReader, DnsmasqReader, WindowsDnsReader
from tracehound.sources.logs.readers.generic import CsvReader, JsonLinesReader
from tracehound.sources.logs.readers.panos import PanosReader
from tracehound.sources.logs.readers.squid import NcsaReader, SquidReader
from tracehound.sources.logs.readers.suricata import SuricataEveReader
from tracehound.sources.logs.readers.syslog import CefReader
from tracehound.sources.logs.readers.w3c import W3cReader
from tracehound.sources.logs.readers.zeek import ZeekJsonReader, ZeekTsvReader
from tracehound.sources.logs.readers.zscaler import ZscalerReader

# Detection order: most specific first; generic readers last.
READERS: list[type[Reader]] = [
    ZeekTsvReader, W3cReader, SuricataEveReader, ZeekJsonReader, SquidReader, NcsaReader, PanosReader,
    ZscalerReader, WindowsDnsReader, BindReader, DnsmasqReader, CefReader, JsonLinesReader, CsvReader,
]
BY_NAME: dict[str, type[Reader]] = {r.name: r for r in READERS}
TEXT_FORMATS = sorted(BY_NAME) + ["evtx"]

__all__ = ["BY_NAME", "READERS", "TEXT_FORMATS", "Reader"]
