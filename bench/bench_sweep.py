"""Sweep throughput against parallel coreutils hashing on the same tree (page cache warm).

  python bench/bench_sweep.py --size-mb 5120 --files 20000

Reference: find ROOT -type f -print0 | xargs -0 -P$(nproc) sha256sum (and md5sum, sha1sum); with
YARA rules, Debian's `yara -r -p N` over the same tree with the same rules and externals (first run:
tracehound's compiled-rule cache emptied; cached: kept), with the matched (file, rule) sets compared;
48 files made of the rules' own literals are planted in the tree so that there are matches to compare.
tracehound computes only the hash types the pack holds, in one read, and also checks file
names and certificate indicators (PE files) in the same pass.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import file_tree  # noqa: E402
from measure import interleaved, parallel_ceiling, run, table, workdir  # noqa: E402

TRACEHOUND = [sys.executable, "-m", "tracehound"]


def pack(path: Path, planted: Path, algos: tuple[str, ...]) -> None:
    data = planted.read_bytes()
    rows = ["type,value,confidence"]
    for a in algos:
        rows.append(f"{a},{hashlib.new(a, data).hexdigest()},90")
    rows += ["filename,3cxdesktopapp-18.12.407.msi,60", "cert-sha1,87c6d553a296d7473451d53caa298efa9b4870ad,90"]
    path.write_text("\n".join(rows) + "\n")


EXTERNALS = ("filename", "filepath", "extension", "filetype", "owner")  # Loki/THOR, as tracehound defines them


def plant(root: Path, folders: list[Path], count: int = 48) -> None:
    """Files the rules fire on, in root/yara-planted: PE, ELF, script and text heads, filled with the
    rules' own text literals (without them a generated tree has no YARA match to compare)."""
    out = root / "yara-planted"
    if out.exists():
        return
    out.mkdir(parents=True)
    lits = sorted({m.group(1) for d in folders for f in sorted(d.rglob("*.yar"))
                   for m in re.finditer(r'=\s*"((?:[^"\\\n]){6,80})"', f.read_text(errors="replace"))})
    rng = random.Random(11)
    heads = (b"MZ\x90\x00", b"\x7fELF\x02\x01\x01\x00", b"#!/bin/sh\n", b"<?php\n", b"Dear user,\n", b"PK\x03\x04")
    for i in range(count):
        parts = [heads[i % len(heads)]] + [rng.choice(lits).encode() for _ in range(rng.randint(20, 400))]
        (out / f"planted{i:03d}.bin").write_bytes(b"\n".join(parts))


def _pairs_th(out: Path) -> set[tuple[str, str]]:
    got = set()
    for line in out.read_text().splitlines():
        d = json.loads(line)
        if d.get("tracehound", {}).get("check") == "yara" and d.get("rule", {}).get("name"):
            got.add((d["file"]["path"], d["rule"]["name"]))
    return got


def _pairs_yara(out: Path) -> set[tuple[str, str]]:
    return {(path, rule) for rule, _, path in (line.partition(" ") for line in out.read_text().splitlines())}


def _same(th: set[tuple[str, str]], ref: set[tuple[str, str]]) -> str:
    if th == ref:
        return f"same {len(th)} (file, rule) as yara"
    return f"{len(th)} (file, rule): {len(th - ref)} not in yara's, {len(ref - th)} of yara's missing"


def yara_rows(work: Path, root: Path, pack_csv: Path, rules: list[tuple[str, Path]], repeat: int,
              total_mb: float) -> list[tuple[str, ...]]:
    """tracehound sweep --yara (hashing and signatures too) vs `yara -r -p N` over the same tree and
    rules: first run (rule cache emptied before each run) and cached run, interleaved, best of `repeat`;
    the matched (file, rule) sets compared."""
    nproc = os.cpu_count() or 1
    cache = work / "xdg-cache"
    rows: list[tuple[str, ...]] = []
    for label, folder in rules:
        files = sorted(str(f) for f in folder.rglob("*") if f.suffix.lower() in (".yar", ".yara") and f.is_file())
        argfile = work / f"yara-{label}.args"
        argfile.write_text(" ".join(shlex.quote(f) for f in files))
        defs = " ".join(f"-d {k}=" for k in EXTERNALS)
        outs = {"tracehound first run": work / "y-first.jsonl", "tracehound cached": work / "y-cached.jsonl"}

        def th(out: Path, folder: Path = folder) -> str:
            return " ".join(shlex.quote(a) for a in TRACEHOUND + [
                "sweep", "-q", "--no-nice", "--offline", "--root", str(root), "--intel", str(pack_csv), "--yara",
                str(folder), "-j", str(nproc), "-o", str(out)])
        env = f"XDG_CACHE_HOME={shlex.quote(str(cache))} "
        yout = work / "yara-out.txt"
        cmds: list[tuple[str, list[str] | str]] = [(name, env + th(out)) for name, out in outs.items()]
        cmds.append((f"yara -r -p {nproc}", f"yara -w -r -p {nproc} {defs} $(cat {shlex.quote(str(argfile))}) "
                                            f"{shlex.quote(str(root))} > {shlex.quote(str(yout))}"))
        got = interleaved(cmds, repeat, shell=True, before={"tracehound first run": lambda: shutil.rmtree(cache, True)})
        ref_pairs = _pairs_yara(yout)
        ref = got[f"yara -r -p {nproc}"]
        for name, t in got.items():
            result = _same(_pairs_th(outs[name]), ref_pairs) if name in outs else f"{len(ref_pairs)} matches"
            rows.append((f"YARA {label} ({len(files)} files)", name, f"{t.median_s:.2f}", f"{total_mb / t.median_s:.0f}",
                         f"{t.median_s / ref.median_s:.2f}", f"{t.peak_anon_mb:.0f}", result))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=5120)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--yara-only", action="store_true", help="only the YARA rows (no coreutils hashing rows)")
    ap.add_argument("--yara", action="append", default=None, metavar="LABEL=FOLDER",
                    help="rule folders for the YARA comparison (default: the 3CX rules and the whole signature-base "
                         "from the shared samples, when present; 'none' to skip)")
    a = ap.parse_args(argv)
    samples = Path(__file__).resolve().parents[2] / "shared" / "samples"
    if a.yara is None:
        a.yara = [f"{k}={v}" for k, v in (("3cx", samples / "yara"), ("signature-base", samples / "yara-full" / "yara"))
                  if v.is_dir()]
    rule_sets = [(x.split("=", 1)[0], Path(x.split("=", 1)[1])) for x in a.yara if x != "none"]
    with workdir(a.workdir, "th-bench-sweep-") as work:
        root = work / "tree"
        if not root.exists():
            file_tree(root, a.size_mb * 1048576, a.files)
        if rule_sets:
            plant(root, [f for _, f in rule_sets])
        planted = sorted(root.rglob("*.bin"))[0]  # its hashes go in the pack: one payload hit expected
        nproc = os.cpu_count() or 1
        run("warm", f"cat $(find {root} -type f) > /dev/null", 1, shell=True)
        total_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1048576
        rows = []
        ref = {} if a.yara_only else {
            algo: run(f"{algo}sum", f"find {root} -type f -print0 | xargs -0 -P{nproc} {algo}sum > /dev/null",
                      a.repeat, shell=True) for algo in ("sha256", "md5", "sha1")}
        pack(work / "1.csv", planted, ("sha256",))
        for label, algos in () if a.yara_only else (("sha256 pack", ("sha256",)), ("md5+sha1+sha256 pack", ("md5", "sha1", "sha256"))):
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
        if rule_sets and shutil.which("yara"):
            rows += yara_rows(work, root, work / "1.csv", rule_sets, a.repeat, total_mb)
        elif rule_sets:
            print("yara (Debian package yara) not installed: YARA comparison skipped")
        print(f"tree: {a.files} files, {total_mb:.0f} MB, {nproc} cores; parallel capacity measured now: "
              f"{parallel_ceiling(nproc):.2f}")
        print(table(rows, ("case", "tool", "median s", "MB/s", "tracehound/reference", "peak anon MB", "result")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
