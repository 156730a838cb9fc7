"""Sweep throughput against parallel coreutils hashing on the same tree (page cache warm).

  python bench/bench_sweep.py --size-mb 5120 --files 20000

Reference: find ROOT -type f -print0 | xargs -0 -P$(nproc) sha256sum (and md5sum, sha1sum).
tracehound computes only the hash types the pack holds, in one read, and also checks file
names and certificate indicators (PE files) in the same pass.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import file_tree  # noqa: E402
from measure import run, table, workdir  # noqa: E402

TRACEHOUND = [sys.executable, "-m", "tracehound"]


def pack(path: Path, planted: Path, algos: tuple[str, ...]) -> None:
    data = planted.read_bytes()
    rows = ["type,value,confidence"]
    for a in algos:
        rows.append(f"{a},{hashlib.new(a, data).hexdigest()},90")
    rows += ["filename,3cxdesktopapp-18.12.407.msi,60", "cert-sha1,87c6d553a296d7473451d53caa298efa9b4870ad,90"]
    path.write_text("\n".join(rows) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=5120)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args(argv)
    with workdir(a.workdir, "th-bench-sweep-") as work:
        root = work / "tree"
        if not root.exists():
            file_tree(root, a.size_mb * 1048576, a.files)
        planted = sorted(root.rglob("*.bin"))[0]  # its hashes go in the pack: one payload hit expected
        nproc = os.cpu_count() or 1
        run("warm", f"cat $(find {root} -type f) > /dev/null", 1, shell=True)
        total_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1048576
        rows = []
        ref = {algo: run(f"{algo}sum", f"find {root} -type f -print0 | xargs -0 -P{nproc} {algo}sum > /dev/null",
                         a.repeat, shell=True) for algo in ("sha256", "md5", "sha1")}
        for label, algos in (("sha256 pack", ("sha256",)), ("md5+sha1+sha256 pack", ("md5", "sha1", "sha256"))):
            p = work / f"{len(algos)}.csv"
            pack(p, planted, algos)
            out = work / "out.jsonl"
            th = run("tracehound sweep", TRACEHOUND + ["sweep", "-q", "--no-nice", "--offline", "--root", str(root),
                                                        "--intel", str(p), "-o", str(out)], a.repeat)
            hits = sum(1 for line in out.read_text().splitlines() if '"compromised"' in line and '"files"' in line)
            reference = sum(ref[x].median_s for x in algos)
            names = "+".join(f"{x}sum" for x in algos)
            rows.append((label, "tracehound", f"{th.median_s:.2f}", f"{total_mb / th.median_s:.0f}",
                         f"{th.median_s / reference:.2f}", f"{th.peak_anon_mb:.0f}", f"{hits} payload hits"))
            rows.append((label, f"parallel {names}", f"{reference:.2f}", f"{total_mb / reference:.0f}", "1.00",
                         f"{max(ref[x].peak_anon_mb for x in algos):.0f}", ""))
        print(f"tree: {a.files} files, {total_mb:.0f} MB, {nproc} cores")
        print(table(rows, ("case", "tool", "median s", "MB/s", "tracehound/reference", "peak anon MB", "result")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
