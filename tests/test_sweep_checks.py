"""The check registry: one module per endpoint check, one interface, each file read once."""

from __future__ import annotations

from pathlib import Path

from tracehound.intel.builtin import load_intel
from tracehound.sweep import checks
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView
from tracehound.sweep.engine import SweepOptions, run_sweep

EXPECTED = ["files", "paths", "yara", "signing", "software", "software", "registry", "amcache", "browser", "resolution", "packages", "process"]


def test_registry_lists_every_check_module_in_order() -> None:
    found = checks.all_checks()
    assert [c.name for c in found] == EXPECTED
    assert [c.order for c in found] == sorted(c.order for c in found)
    assert [c for c in found if c.live_only] == [c for c in found if c.name == "process"]
    modules = {type(c).__module__.rsplit(".", 1)[1] for c in found}
    assert {"files", "yara", "signing", "software", "registry", "browser", "resolution", "packages", "live", "amcache", "paths",
            "regkeys"} <= modules


class Counting(Check):
    """A check added without touching the engine: sees each file it wants once, with its bytes."""

    name = "counting"
    order = 999

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes | None]] = []

    def wants(self, e, ctx: Context) -> bool:
        return e.rel.endswith(".txt")

    def keep(self, e, head: bytes, ctx: Context) -> int:
        return 1024 if e.rel.endswith(".txt") else 0

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        if f.e.rel.endswith(".txt"):
            self.seen.append((f.e.rel, f.data))
            res.out.append(ctx.doc(self.name, "suspicious", f"seen {f.e.rel}", [], fields=f.fields))


def domain_pack(tmp_path: Path):
    f = tmp_path.parent / f"{tmp_path.name}-pack.csv"
    f.write_text("type,value,confidence,context\ndomain,c2.example.org,90,\n")
    return load_intel([str(f)])


def test_a_new_check_is_one_registered_object(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.txt").write_bytes(b"alpha")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes(b"beta")
    (tmp_path / "c.bin").write_bytes(b"not wanted")
    extra = Counting()
    monkeypatch.setattr(checks, "_REGISTRY", [*checks.all_checks(), extra])
    docs: list[dict] = []
    result = run_sweep(domain_pack(tmp_path), SweepOptions(root=str(tmp_path), jobs=1), docs.append)
    assert sorted(extra.seen) == [("a.txt", b"alpha"), ("sub/b.txt", b"beta")]
    mine = [d for d in docs if d["tracehound"].get("check") == "counting"]
    assert sorted(d["file"]["name"] for d in mine) == ["a.txt", "b.txt"]
    assert result.files_seen == 3 and result.files_read == 2  # c.bin: no check wanted its bytes


class Broken(Check):
    name = "broken"
    order = 15

    def wants(self, e, ctx: Context) -> bool:
        return True

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        raise ValueError("hostile input")


def test_a_failing_check_is_said_and_does_not_stop_the_others(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.txt").write_bytes(b"alpha")
    extra = Counting()
    monkeypatch.setattr(checks, "_REGISTRY", [*checks.all_checks(), Broken(), extra])
    docs: list[dict] = []
    run_sweep(load_intel(["3cx"]), SweepOptions(root=str(tmp_path), jobs=1), docs.append)
    failed = [d for d in docs if d["tracehound"].get("check") == "broken"]
    assert len(failed) == 1 and "broken check failed on a.txt: ValueError: hostile input" in failed[0]["message"]
    assert extra.seen == [("a.txt", b"alpha")]
