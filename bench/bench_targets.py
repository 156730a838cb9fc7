"""Sweep throughput of collection archives and disk images against the folder sweep of the same
content, in the same run (page cache warm).

  python bench/bench_targets.py --size-mb 512 --files 2000

The tree is swept as a folder (one worker, and one per core), as a zip (deflate), as a tar.zst
and as an ext4 image built with mke2fs -d (skipped when mke2fs is absent). Archive and image
members are checked in the sweep's own process (one core).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import file_tree  # noqa: E402
from measure import run, table, workdir  # noqa: E402

TRACEHOUND = [sys.executable, "-m", "tracehound"]


def build(root: Path, work: Path) -> dict[str, Path]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    out: dict[str, Path] = {}
    z = work / "tree.zip"
    if not z.exists():
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for p in files:
                zf.write(p, "C/" + p.relative_to(root).as_posix())
    out["zip (deflate)"] = z
    t = work / "tree.tar.zst"
    if not t.exists():
        import zstandard

        with open(t, "wb") as fh, zstandard.ZstdCompressor(level=1).stream_writer(fh) as zw, \
                tarfile.open(fileobj=zw, mode="w|") as tf:
            for p in files:
                tf.add(p, "uac/[root]/" + p.relative_to(root).as_posix(), recursive=False)
    out["tar.zst"] = t
    mke2fs = shutil.which("mke2fs") or ("/usr/sbin/mke2fs" if os.path.exists("/usr/sbin/mke2fs") else "")
    img = work / "tree.ext4"
    if mke2fs and not img.exists():
        size_mb = int(sum(p.stat().st_size for p in files) / 1048576 * 1.3) + 32
        subprocess.run([mke2fs, "-q", "-t", "ext4", "-d", str(root), str(img), f"{size_mb}M"], check=True)
    if img.exists():
        out["ext4 image"] = img
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=512)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args(argv)
    with workdir(a.workdir, "th-bench-targets-") as work:
        root = work / "tree"
        if not root.exists():
            file_tree(root, a.size_mb * 1048576, a.files)
        planted = sorted(root.rglob("*.bin"))[0]
        pack = work / "pack.csv"
        pack.write_text(f"type,value,confidence\nsha256,{hashlib.sha256(planted.read_bytes()).hexdigest()},90\n")
        targets = build(root, work)
        total_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1048576
        run("warm", f"cat $(find {work} -type f) > /dev/null", 1, shell=True)
        rows = []
        base = None
        cases = [("folder, 1 worker", ["--root", str(root), "-j", "1"]), ("folder, 1 per core", ["--root", str(root)])]
        cases += [(name, ["--target", str(path)]) for name, path in targets.items()]
        for name, args in cases:
            out = work / "out.jsonl"
            t = run(name, TRACEHOUND + ["sweep", "-q", "--no-nice", "--offline", "--intel", str(pack), "-o", str(out),
                                        *args], a.repeat)
            hits = sum(1 for line in out.read_text().splitlines() if '"compromised"' in line and '"files"' in line)
            base = base or t.median_s
            size = total_mb if name.startswith("folder") else (Path(args[1]).stat().st_size / 1048576)
            rows.append((name, f"{size:.0f}", f"{t.median_s:.2f}", f"{total_mb / t.median_s:.0f}",
                         f"{t.median_s / base:.2f}", f"{t.peak_anon_mb:.0f}", f"{hits} payload hits"))
        print(f"tree: {a.files} files, {total_mb:.0f} MB, {os.cpu_count()} cores")
        print(table(rows, ("target", "file MB", "median s", "content MB/s", "time / folder 1 worker", "peak anon MB",
                           "result")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
