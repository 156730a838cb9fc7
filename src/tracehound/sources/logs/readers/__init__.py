"""Log readers, one module per format family, all with the same small interface (base.Reader).

Readers register themselves (registry.register) with a detection priority; every module of this
package is imported here, so a new reader is one file plus its test. The readers that predate
the registry are given their priorities below, in their historical detection order.
"""

from __future__ import annotations

import importlib
import pkgutil

from tracehound.sources.logs.readers import registry
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

# Priorities: 100s specific layouts, 500s key=value families, 900s generic CSV/JSON (last).
for _cls, _prio in ((ZeekTsvReader, 100), (W3cReader, 120), (SuricataEveReader, 130), (ZeekJsonReader, 140),
                    (SquidReader, 150), (NcsaReader, 160), (PanosReader, 170), (ZscalerReader, 180),
                    (WindowsDnsReader, 190), (BindReader, 200), (DnsmasqReader, 210), (CefReader, 400),
                    (JsonLinesReader, 900), (CsvReader, 950)):
    registry.add(_cls, _prio)

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_mod}")

# Detection order: most specific first; generic readers last.
READERS: list[type[Reader]] = registry.ordered()
BY_NAME: dict[str, type[Reader]] = {r.name: r for r in READERS}
TEXT_FORMATS = sorted(BY_NAME) + ["evtx"]

__all__ = ["BY_NAME", "READERS", "TEXT_FORMATS", "Reader"]
