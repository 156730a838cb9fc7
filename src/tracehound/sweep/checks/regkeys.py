"""Check: registry-key indicators (a key, or one of its values with given data) in the offline
hives of the tree (SOFTWARE, SYSTEM, SAM, SECURITY, DEFAULT, each user's NTUSER.DAT and
UsrClass.dat), and in the live registry on Windows. Where each root is read: sweep/regkeys.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tracehound.intel.model import IType
from tracehound.sources.hosts.walk import Entry
from tracehound.sweep import regkeys
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView, shown

if TYPE_CHECKING:
    from tracehound.sweep.summary import SweepResult

ALERT_CONFIDENCE = 70  # at or above: compromise evidence; below: suspicious
HIVE_FILE = {"software": "SOFTWARE", "system": "SYSTEM", "sam": "SAM", "security": "SECURITY", "default": "DEFAULT",
             "ntuser": "NTUSER.DAT", "usrclass": "UsrClass.dat"}
SHOWN_ROOT = {"software": "HKLM\\SOFTWARE", "system": "HKLM\\SYSTEM", "sam": "HKLM\\SAM", "security": "HKLM\\SECURITY",
              "default": "HKU\\.DEFAULT", "ntuser": "HKCU", "usrclass": "HKCU\\Software\\Classes"}


def index(ctx: Context) -> regkeys.RegIndex:
    idx = ctx.cache.get("regkeys")
    if idx is None:
        idx = ctx.cache["regkeys"] = regkeys.RegIndex.build(ctx.pack)
    return idx


class RegistryKeysCheck(Check):
    name = "registry"
    order = 46

    def enabled(self, ctx: Context) -> bool:
        return bool(index(ctx)) or bool(index(ctx).refused)

    def walked(self, e: Entry, ctx: Context) -> list[dict[str, Any]]:
        """Which hive files the target holds (in the sweep's process): an indicator whose hives are all
        absent is said not checked in the summary, never read as clean."""
        kind, user = regkeys.hive_kind(e.rel)
        if kind:
            ctx.cache.setdefault("regkeys.seen", set()).add(kind)
            if index(ctx).by_sid and kind in ("software", "ntuser", "usrclass"):  # HKU\<SID>: read after the walk
                ctx.cache.setdefault("regkeys.hives", []).append((kind, user, e))
        return []

    def wants(self, e: Entry, ctx: Context) -> bool:
        kind, _user = regkeys.hive_kind(e.rel)
        return bool(kind) and kind in index(ctx).by_hive

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        kind, user = regkeys.hive_kind(f.e.rel)
        qs = index(ctx).by_hive.get(kind) if kind else None
        if not qs:
            return
        hive_path = shown(f.e.path)
        if f.head[:4] != b"regf":
            err = "not a registry hive (no regf signature): its keys not checked"
        else:
            hits, err = regkeys.read_hive(f.e, kind, qs, f.e.rel)
            for h in hits:
                res.out.append(self._doc(ctx, h, kind, user, hive_path))
        if err:  # counted in the summary and said, never silent
            res.notes.append(err)
            res.out.append(ctx.doc("registry", "info", f"{shown(f.name)}: {err}", [], fields=f.fields))

    def _doc(self, ctx: Context, h: regkeys.Hit, kind: str, user: str, hive_path: str, sid: str = "") -> dict[str, Any]:
        ind = h.q.ind
        root = f"HKU\\{sid.upper()}" + ("_Classes" if kind == "usrclass" else "") if sid else SHOWN_ROOT[kind]
        key = root + ("\\" + h.key if h.key else "")
        seen = key + (f"\\{h.value}" if h.value else "")
        hive, _, rest = key.partition("\\")
        owner = f" ({user}'s {'NTUSER.DAT' if kind == 'ntuser' else 'UsrClass.dat'})" if user else ""
        what = f"value {h.value} of key {key}" + (f" = {h.data[:120]!r}" if ind.ctx("value_data") else "") \
            if h.value else f"key {key}"
        verdict = "compromised" if ind.confidence >= ALERT_CONFIDENCE else "suspicious"
        desc = ", ".join(ind.ctx("description") or ind.ctx("label"))
        wanted = "".join(f" value {n or '(Default)'}" for n in ind.ctx("value_name")[:1]) \
            + "".join(f" = {d[:120]!r}" for d in ind.ctx("value_data")[:1])
        msg = f"registry {what}{owner} matches the indicator {ind.display()}{wanted}" + (f" ({desc})" if desc else "") \
            + (f"; {h.note}" if h.note else "")
        fields = {"registry.hive": hive, "registry.key": rest, "registry.path": seen,
                  "registry.value": h.value or None, "registry.data.strings": [h.data] if h.value and h.data else None,
                  "user.name": shown(user) if user else None, "user.id": sid.upper() or None,
                  "tracehound.evidence_path": hive_path}
        return ctx.doc("registry", verdict, shown(msg), [(ind, "registry.path", shown(seen))], "registry", fields)

    def host(self, ctx: Context, take: Callable[[dict[str, Any]], None], result: SweepResult) -> None:
        idx = index(ctx)
        for reason, n in idx.refused.items():
            result.skip(reason, n)
        if ctx.options.live and regkeys.live_available():
            self._live(ctx, take)
            return
        if idx.by_sid:
            self._user_sids(ctx, take, result)
        seen = ctx.cache.get("regkeys.seen", set())
        kinds_of: dict[int, list[str]] = {}
        for qs in idx.by_hive.values():
            for q in qs:
                kinds_of.setdefault(id(q.ind), []).append(q.hive)
        unchecked: dict[str, int] = {}
        for ind in ctx.pack.of_type(IType.REGISTRY_KEY):
            kinds = kinds_of.get(id(ind), [])
            if kinds and not any(k in seen for k in kinds):
                files = " or ".join(dict.fromkeys(HIVE_FILE[k] for k in kinds))
                unchecked[files] = unchecked.get(files, 0) + 1
        for files, n in unchecked.items():
            result.skip(f"registry-key indicator not checked (no {files} hive in the target)", n)

    def _user_sids(self, ctx: Context, take: Callable[[dict[str, Any]], None], result: SweepResult) -> None:
        """HKU\\<user SID> keys: the SID's profile from SOFTWARE's ProfileList, then that user's hive."""
        hives = ctx.cache.get("regkeys.hives", [])
        software = [e for kind, _u, e in hives if kind == "software"]
        sids: dict[str, str] = {}
        why = "no SOFTWARE hive in the target to resolve the SID"
        if software:
            sids, err = regkeys.profile_list(software[0])
            why = err or "the SID is not in the SOFTWARE hive's ProfileList"
        todo: dict[tuple[str, str], list[regkeys.Query]] = {}  # (hive kind, profile folder) -> queries
        for q in index(ctx).by_sid:
            if q.sid in sids:
                todo.setdefault((q.hive, sids[q.sid]), []).append(q)
            else:
                result.skip(f"registry-key indicator not checked (HKU\\<SID>: {why})")
        for kind, user, e in hives:
            qs = todo.pop((kind, regkeys.profile_of(e.rel, kind)), None) if kind != "software" else None
            if not qs:
                continue
            found, err = regkeys.read_hive(e, kind, qs, e.rel)
            for h in found:
                take(self._doc(ctx, h, kind, user, shown(e.path), sid=h.q.sid))
            if err:
                result.skip(err)
                take(ctx.doc("registry", "info", f"{shown(e.path)}: {err}", []))
        for qs in todo.values():
            result.skip("registry-key indicator not checked (HKU\\<SID>: no hive in the SID's profile folder)", len(qs))

    def _live(self, ctx: Context, take: Callable[[dict[str, Any]], None]) -> None:
        for ind, key, value in regkeys.live_hits(ctx.pack):  # Windows only (winreg); nothing elsewhere
            seen = key + (f"\\{value}" if value else "")
            take(ctx.doc("registry", "compromised" if ind.confidence >= ALERT_CONFIDENCE else "suspicious",
                         f"live registry {'value' if value else 'key'} {seen} matches the indicator {ind.display()}",
                         [(ind, "registry.path", seen)], "registry",
                         {"registry.path": seen, "registry.value": value or None}))


CHECK = RegistryKeysCheck()
