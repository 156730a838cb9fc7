"""What each YARA rule of the "any file" group costs yara-x to scan: every rule compiled alone.

  python bench/yara_rule_cost.py [--rules FOLDER] [--mb 20] [--top 15] [--group any]

The rules tracehound scans every file with (those whose condition gives no file type or size the grouper
reads, sweep/yara_groups.py) are each compiled alone (with their file's imports and the Loki/THOR
externals) and scanned over --mb MB of random bytes (1 MiB buffers, like the bench tree's files); a file
the grouper keeps whole is measured as one item. CPU seconds of the scans, minus those of a rule with one
plain literal (the atom scan every rule set pays), give each rule's cost in ms/MB; the --top costliest are measured again (best of 3) and printed
with what their strings hold (xor, nocase, wide, base64, regexes, hex jumps, short literals, loops).
The sum of the alone costs over-counts a little (each alone scan pays the atom scan once).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from tracehound.sweep import yara_groups as yg  # noqa: E402
from tracehound.sweep.yara_rules import EXTERNALS  # noqa: E402

BASELINE = 'rule Baseline { strings: $a = "tracehound" condition: $a }'  # one plain 10-byte atom
_IMPORT = re.compile(r'^\s*import\s+"[^"\n]*"', re.M)


def items(folder: Path, want: str) -> list[tuple[str, str]]:
    """(label, source) of every rule (or whole file) in the wanted group: 'any' = any file, no size bound."""
    files = sorted(f for f in folder.rglob("*") if f.suffix.lower() in (".yar", ".yara"))
    texts = [f.read_bytes().decode("utf-8", errors="replace") for f in files]
    units = [yg.read_file(i, t) for i, t in enumerate(texts)]
    key = yg.group_key(units)

    def wanted(k) -> bool:  # noqa: ANN001
        g = yg.Group(k[0] if k[0] != yg.POOL else ((0, b"pool"),), k[1])
        return g.describe() == "any file" if want == "any" else want in g.describe()

    whole = {u.index for u in units if u.whole and wanted((yg.ANY, yg._step(u.bound)))}
    in_group = {(u.index, r.name) for u in units for r, m, b in u.rules if wanted(key(m, b))}
    out = []
    for u in units:
        name = files[u.index].name
        if u.index in whole:
            out.append((f"{name} (whole file)", u.text))
            continue
        imports = "\n".join(_IMPORT.findall(u.text))
        for r, _, _ in u.rules:
            if (u.index, r.name) in in_group:
                out.append((f"{name}:{r.name}", imports + "\n" + u.text[r.start:r.end] + "\n"))
    return out


def cost(yara_x, source: str, data: list[bytes], repeat: int = 1) -> float:  # noqa: ANN001
    c = yara_x.Compiler()
    for k, v in EXTERNALS.items():
        c.define_global(k, v)
    c.add_source(source)
    sc = yara_x.Scanner(c.build())
    sc.set_timeout(60)
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        for d in data:
            sc.scan(d)
        best = min(best, time.process_time() - t)
    return best


def why(source: str) -> str:
    """What a rule's strings and condition hold that costs scan time."""
    s = yg.mask(source)
    notes = []
    for mod in ("xor", "nocase", "wide", "base64", "base64wide", "fullword"):
        n = len(re.findall(rf"\b{mod}\b", s))
        if n:
            notes.append(f"{n} {mod}")
    regexes = len(re.findall(r"=\s*R", s))
    if regexes:
        notes.append(f"{regexes} regex")
    hexes = re.findall(r"=\s*\{([^}]*)\}", source)
    if hexes:
        jumps = sum(h.count("[") for h in hexes)
        notes.append(f"{len(hexes)} hex" + (f" ({jumps} jumps)" if jumps else ""))
    short = [m for m in re.findall(r'=\s*"((?:[^"\\\n]|\\.)*)"', source) if len(m) < 4]
    if short:
        notes.append(f"{len(short)} literal < 4 bytes")
    if re.search(r"\bfor\b", s):
        notes.append("for loop")
    for mod in ("math.", "hash.", "pe.", "elf.", "dotnet.", "console."):
        if mod in s:
            notes.append(mod.rstrip("."))
    strings = len(re.findall(r"\$\w*\s*=(?!=)", s))
    return f"{strings} strings: " + ", ".join(notes)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    samples = Path(__file__).resolve().parents[2] / "shared" / "samples"
    ap.add_argument("--rules", default=str(samples / "yara-full" / "yara"))
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--group", default="any", help="'any' (any file, no size bound) or text of a group's description")
    a = ap.parse_args(argv)
    import yara_x

    rng = random.Random(5)
    data = [rng.randbytes(1 << 20) for _ in range(a.mb)]
    todo = items(Path(a.rules), a.group)
    t0 = time.process_time()
    base = cost(yara_x, BASELINE, data, 3)
    results = []
    for label, src in todo:
        try:
            results.append((cost(yara_x, src, data) - base, label, src))
        except yara_x.CompileError as exc:
            print(f"not measured: {label}: {str(exc).splitlines()[0]}")
    results.sort(key=lambda r: -r[0])
    top = sorted(((cost(yara_x, src, data, 3) - base, label, src) for _, label, src in results[:a.top * 2]),
                 key=lambda r: -r[0])[:a.top]
    total = sum(max(c, 0) for c, _, _ in results)
    print(f"{len(results)} items, {a.mb} MB random; baseline (one-literal rule) {base / a.mb * 1000:.2f} ms/MB; "
          f"sum of alone costs {total / a.mb * 1000:.2f} ms/MB; measured in {time.process_time() - t0:.0f} s CPU")
    print("| ms/MB | share | rule | what it holds |\n|---|---|---|---|")
    for c, label, src in top:
        print(f"| {c / a.mb * 1000:.3f} | {c / total:.1%} | {label} | {why(src)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
