"""Path indicators: what they add to a sweep's walk (a Windows-like tree of empty files).

    python bench/bench_paths.py --files 100000 --indicators 1000

Sweeps the same tree with a pack of path indicators (literal paths, %VAR% expansions, <GUID> and
wildcard names; a few planted in the tree) and with an empty pack, interleaved, best of --repeat runs each,
and times the matcher alone over the tree's paths. Prints the cost per file and checks that the
planted paths, and only they, are found.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tracehound.intel.model import IType, Pack  # noqa: E402
from tracehound.sweep.engine import SweepOptions, run_sweep  # noqa: E402
from tracehound.sweep.paths import PathIndex  # noqa: E402

GUID = "{0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0}"
PLANTED = [f"Users/u3/AppData/Roaming/Vendor8/{GUID}/payload8.dll", "ProgramData/Tool9/x.cfg",
           "Windows/System32/evil10.sys"]  # indicators 8, 9 and 10


def make_tree(root: Path, n: int) -> None:
    made = 0
    users = max(1, n // 2000)
    while made < n:
        u = made % users
        folder = root / f"Users/u{u}/AppData/Roaming/App{made % 211}/cache{made % 13}"
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(min(50, n - made)):
            (folder / f"f{made + k}.dat").touch()
        made += 50
    for rel in PLANTED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).touch()


def make_pack(k: int) -> Pack:
    p = Pack("bench-paths")
    for i in range(k):
        v = (rf"%APPDATA%\Vendor{i}\<GUID>\payload{i}.dll", rf"C:\ProgramData\Tool{i}\*.cfg",
             rf"C:\Windows\System32\evil{i}.sys", rf"%LOCALAPPDATA%\Temp\drop{i}.exe")[i % 4]
        p.add_value(IType.FILE_PATH, v)
    return p


def best(fn, repeat: int) -> tuple[float, object]:
    out, t_best = None, 1e18
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--indicators", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default="")
    a = ap.parse_args(argv)
    work = Path(a.workdir or tempfile.mkdtemp(prefix="th-bench-paths-"))
    root = work / "tree"
    if root.exists():
        shutil.rmtree(root)
    make_tree(root, a.files)
    pack, empty = make_pack(a.indicators), Pack("empty")
    rels = [os.path.relpath(os.path.join(d, f), root).split(os.sep) for d, _s, fs in os.walk(root) for f in fs]

    def sweep(p: Pack) -> list[dict]:
        docs: list[dict] = []
        run_sweep(p, SweepOptions(root=str(root), jobs=1), docs.append)
        return [d for d in docs if d["tracehound"].get("check") == "paths"]

    t_build, idx = best(lambda: PathIndex.build(pack, "windows"), a.repeat)
    assert isinstance(idx, PathIndex)
    t_match, found = best(lambda: [r for r in rels if idx.match(r)], a.repeat)
    t_with, t_without = 1e18, 1e18
    docs: list[dict] = []
    for _ in range(a.repeat):  # interleaved: the load of a shared machine hits both alike
        t = time.perf_counter()
        docs = sweep(pack)
        t_with = min(t_with, time.perf_counter() - t)
        t_without = min(t_without, best(lambda: sweep(empty), 1)[0])
    n = len(rels)
    got = sorted(d["file"]["path"].removeprefix(str(root) + "/") for d in docs)
    print(f"{n} files, {a.indicators} path indicators ({idx.count} patterns), best of {a.repeat}")
    print(f"index build          {t_build * 1000:8.1f} ms")
    print(f"matcher alone        {t_match / n * 1e6:8.2f} µs/file  ({len(found)} paths matched)")  # type: ignore[arg-type]
    print(f"sweep, path pack     {t_with:8.2f} s  ({t_with / n * 1e6:.1f} µs/file)")
    print(f"sweep, empty pack    {t_without:8.2f} s  ({t_without / n * 1e6:.1f} µs/file)")
    ok = got == sorted(PLANTED)
    print(f"planted paths found: {'yes' if ok else 'NO: ' + repr(got)}")
    if not a.workdir:
        shutil.rmtree(work)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
