"""File hashes and file names against the pack.

Hash types computed are only those the pack holds. File names match exactly and
case-insensitively; a name alerts on its own only when the pack says it is specific enough
(confidence >= 50 or context standalone=yes: '3cxdesktopapp-18.12.407.msi' yes, 'ffmpeg.dll' no).
Loki-style path regexes are matched against the path with '/' and with '\\' separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracehound.intel.model import FILE_HASH_TYPES, Indicator, IType, Pack
from tracehound.sweep.products import ProductDefs

INSTALLER_EXT = (".msi", ".dmg", ".pkg", ".zip", ".nupkg", ".appimage", ".deb", ".rpm")
NAME_ALERT_CONFIDENCE = 50
REGEX_ALERT_CONFIDENCE = 70


@dataclass
class FileIndex:
    hashes: dict[str, Indicator]
    algos: tuple[str, ...]
    names: dict[str, Indicator]
    regexes: list[tuple[re.Pattern[str], re.Pattern[str] | None, Indicator]]

    @classmethod
    def build(cls, pack: Pack) -> FileIndex:
        hashes = {i.value: i for i in pack.indicators if i.type in FILE_HASH_TYPES}
        algos = tuple(sorted({i.type.value for i in pack.indicators if i.type in FILE_HASH_TYPES}))
        names = {i.value.lower(): i for i in pack.of_type(IType.FILENAME)}
        regexes = []
        for i in pack.of_type(IType.FILENAME_REGEX):
            fp = i.ctx("false_positive_regex")
            try:
                regexes.append((re.compile(i.value), re.compile(fp[0]) if fp else None, i))
            except re.error:
                continue
        return cls(hashes, algos, names, regexes)

    def name_hit(self, name: str) -> Indicator | None:
        return self.names.get(name.lower())

    def regex_hits(self, rel_path: str) -> list[Indicator]:
        if not self.regexes:
            return []
        forms = ("/" + rel_path, "\\" + rel_path.replace("/", "\\"))
        out = []
        for rx, fp, ind in self.regexes:
            if any(rx.search(f) for f in forms) and not (fp and any(fp.search(f) for f in forms)):
                out.append(ind)
        return out


def is_installer(name: str, ind: Indicator | None = None) -> bool:
    names = [name.lower()] + [n.lower() for n in (ind.ctx("file_name") if ind else [])]
    return any(n.endswith(INSTALLER_EXT) for n in names)


def name_alerts(ind: Indicator) -> bool:
    return ind.confidence >= NAME_ALERT_CONFIDENCE or ind.ctx("standalone") == ["yes"]


def is_distribution_point(rel_path: str, defs: ProductDefs) -> str:
    """The server that serves this path to clients ('' if none): a product's update folder as its product
    definition names it (e.g. the 3CX Phone System's Data/Http/electron/), or a web root."""
    return defs.distribution_point(rel_path)
