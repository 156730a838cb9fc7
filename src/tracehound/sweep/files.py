"""File hashes and file names against the pack.

Hash types computed are only those the pack holds. File names match exactly and
case-insensitively; a name alerts on its own only when the pack says it is specific enough
(confidence >= 50 or context standalone=yes: '3cxdesktopapp-18.12.407.msi' yes, 'ffmpeg.dll' no).
Loki-style path regexes are matched against the path with '/' and with '\\' separators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracehound.intel.model import FILE_HASH_TYPES, Indicator, IType, Pack
from tracehound.matching.safe_regex import RegexSet
from tracehound.sweep.products import ProductDefs

INSTALLER_EXT = (".msi", ".dmg", ".pkg", ".zip", ".nupkg", ".appimage", ".deb", ".rpm")
NAME_ALERT_CONFIDENCE = 50
REGEX_ALERT_CONFIDENCE = 70


@dataclass
class FileIndex:
    hashes: dict[str, Indicator]
    algos: tuple[str, ...]
    names: dict[str, Indicator]
    regexes: list[tuple[int, Indicator, int | None]]  # (pattern id, indicator, id of its false-positive regex)
    regex_set: RegexSet | None = None
    refused: list[tuple[Indicator, str]] = field(default_factory=list)  # regexes not run, with the reason

    @classmethod
    def build(cls, pack: Pack) -> FileIndex:
        hashes = {i.value: i for i in pack.indicators if i.type in FILE_HASH_TYPES}
        algos = tuple(sorted({i.type.value for i in pack.indicators if i.type in FILE_HASH_TYPES}))
        names = {i.value.lower(): i for i in pack.of_type(IType.FILENAME)}
        # Feed regexes run on a linear-time engine (safe_regex): `(.+)+X` cannot stall the sweep.
        inds = pack.of_type(IType.FILENAME_REGEX)
        patterns: list[tuple[int, str]] = []
        fp_ids: list[int | None] = []
        for n, i in enumerate(inds):
            patterns.append((2 * n, i.value))
            fp = i.ctx("false_positive_regex")
            fp_ids.append(2 * n + 1 if fp else None)
            if fp:
                patterns.append((2 * n + 1, fp[0]))
        rset = RegexSet.compile(patterns) if patterns else None
        regexes: list[tuple[int, Indicator, int | None]] = []
        refused: list[tuple[Indicator, str]] = []
        for n, i in enumerate(inds):
            if rset is not None and 2 * n in rset.refused:
                refused.append((i, rset.refused[2 * n]))
                continue
            fid = fp_ids[n]
            if rset is not None and fid is not None and fid in rset.refused:
                refused.append((i, f"false-positive regex: {rset.refused[fid]}"))
                continue
            regexes.append((2 * n, i, fid))
        return cls(hashes, algos, names, regexes, rset, refused)

    def name_hit(self, name: str) -> Indicator | None:
        return self.names.get(name.lower())

    def regex_hits(self, rel_path: str) -> list[Indicator]:
        if not self.regexes or self.regex_set is None:
            return []
        forms = ("/" + rel_path, "\\" + rel_path.replace("/", "\\"))
        found = self.regex_set.matches(forms)
        return [ind for pid, ind, fid in self.regexes if pid in found and not (fid is not None and fid in found)]

    def refused_summary(self) -> dict[str, int]:
        """Skip reasons for the sweep summary: each refused regex named, with Hyperscan's reason."""
        return {f"file-name regex not run ({reason}): {ind.value[:120]}": 1 for ind, reason in self.refused}


def is_installer(name: str, ind: Indicator | None = None) -> bool:
    names = [name.lower()] + [n.lower() for n in (ind.ctx("file_name") if ind else [])]
    return any(n.endswith(INSTALLER_EXT) for n in names)


def name_alerts(ind: Indicator) -> bool:
    return ind.confidence >= NAME_ALERT_CONFIDENCE or ind.ctx("standalone") == ["yes"]


def is_distribution_point(rel_path: str, defs: ProductDefs) -> str:
    """The server that serves this path to clients ('' if none): a product's update folder as its product
    definition names it (e.g. the 3CX Phone System's Data/Http/electron/), or a web root."""
    return defs.distribution_point(rel_path)
