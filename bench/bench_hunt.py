"""Hunt throughput against ripgrep and grep on the same data and the same literals.

  python bench/bench_hunt.py --size-mb 1024            # Squid log, 3CX pack and a 100,000-indicator pack
  python bench/bench_hunt.py --size-mb 1024,10240      # the same on 1 GB, then on 10 GB (one log at a time)
  python bench/bench_hunt.py --mixed-mb 1024           # mixed corpus: bounded memory + timeline truth

ripgrep and grep count matching lines of literals (they cannot tell notakamaicontainer.com
from akamaicontainer.com); tracehound parses and matches exactly, and reports findings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import domain_list, squid_log, zeek_dns_log  # noqa: E402
from measure import interleaved, parallel_ceiling, run, table, workdir  # noqa: E402

TRACEHOUND = [sys.executable, "-m", "tracehound"]


def patterns_of(pack_spec: list[str], out: Path) -> int:
    """The literal values tracehound hunts for (domains, IPs, URL hosts, hashes), one a line."""
    from tracehound.intel.builtin import load_intel
    from tracehound.intel.model import IType
    from tracehound.matching.normalize import norm_url

    pack = load_intel(pack_spec)
    vals = set()
    for i in pack.indicators:
        if i.type in (IType.DOMAIN, IType.IPV4, IType.SHA256, IType.SHA1, IType.MD5):
            vals.add(i.value)
        elif i.type is IType.URL:
            vals.add(norm_url(i.value)[0])
    out.write_text("\n".join(sorted(vals)) + "\n")
    return len(vals)


def big_pack(path: Path, n: int) -> None:
    background = set(domain_list(50_000))  # the log's background traffic: keep the pack disjoint from it
    doms = [d for d in domain_list(n + 1000, seed=99) if d not in background][:n]
    from corpus import C2_DOMAINS

    path.write_text("type,value,confidence\n" + "".join(f"domain,{d},80\n" for d in doms + C2_DOMAINS))


def hunt_vs_tools(work: Path, size_mb: int, repeat: int, big: int, keep: bool = False) -> list[tuple[str, ...]]:
    """tracehound (first-seen on, as users run it; -j1 and -jN; and without first-seen) against
    `rg -F -c -f` and `grep -F -c -f` with the same literals: interleaved, best of `repeat`. With the
    large pack, also a first run: the compiled prefilter cache emptied before each run. keep: the log
    (and its count of injected findings) stays in the work folder, and a kept one is used again."""
    log = work / f"access-{size_mb}.log"
    kept = log.with_suffix(".hits")
    if keep and log.exists() and kept.exists():
        hits = int(kept.read_text())
    else:
        hits = squid_log(log, size_mb * 1048576, hits=500).hits
        if keep:
            kept.write_text(str(hits))
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "tracehound" / "hyperscan"
    nproc = os.cpu_count() or 1
    rows = []
    cases = [("3cx pack", ["3cx"])]
    if big:
        bp = work / "big.csv"
        big_pack(bp, big)
        cases.append((f"{big:,}-indicator pack", [str(bp)]))
    mb = log.stat().st_size / 1048576
    os.sync()  # the corpus's dirty pages written out before timing (writeback would slow the first runs)
    for label, spec in cases:
        pat = work / "patterns.txt"
        n = patterns_of(spec, pat)
        intel = [a for s in spec for a in ("--intel", s)]
        out = str(work / "f.jsonl")
        base = TRACEHOUND + ["hunt", "-q", *intel, "-o", out]
        cmds: list[tuple[str, list[str] | str]] = [
            (f"tracehound -j{nproc}", base + ["-j", str(nproc), str(log)]),
            *([(f"tracehound -j{nproc} first run", base + ["-j", str(nproc), str(log)])] if label != "3cx pack" else []),
            ("tracehound -j1", base + ["-j", "1", str(log)]),
            (f"tracehound -j{nproc} --no-first-seen", base + ["-j", str(nproc), "--no-first-seen", str(log)])]
        if shutil.which("rg"):
            cmds.append(("rg -F", ["rg", "-F", "-c", "-f", str(pat), str(log)]))
        cmds.append(("grep -F", ["grep", "-F", "-c", "-f", str(pat), str(log)]))
        with log.open("rb") as src:  # warm-up, not timed: bytecode compiled, the prefilter compiled and cached
            (work / "head.log").write_bytes(src.read(1 << 20))
        subprocess.run(base + ["-j", "1", str(work / "head.log")], check=False, stdout=subprocess.DEVNULL)
        got = interleaved(cmds, repeat, before={f"tracehound -j{nproc} first run": lambda: shutil.rmtree(cache, True)})
        found = sum(1 for _ in (work / "f.jsonl").open())
        if found != hits:
            raise SystemExit(f"{label}: tracehound found {found} findings, {hits} were injected")
        th = got[f"tracehound -j{nproc}"]
        for name, t in got.items():
            count = t.output if not name.startswith("tracehound") else f"{found} findings"
            rows.append((f"{label}, {mb:,.0f} MB", f"{n} literals", name, f"{t.median_s:.2f}", f"{mb / t.median_s:.0f}",
                         f"{th.median_s / t.median_s:.2f}", f"{t.peak_anon_mb:.0f}", f"{t.peak_rss_mb:.0f}", count))
        rows.append((f"{label}, {mb:,.0f} MB", "", f"-j1 / -j{nproc} (speed-up)", "", "",
                     f"{got['tracehound -j1'].median_s / th.median_s:.2f}", "", "", ""))
    if not keep:
        log.unlink()
    return rows


def mixed(work: Path, size_mb: int) -> list[tuple[str, ...]]:
    """A mixed corpus (Squid + Zeek DNS, plain and gzip): peak memory and the per-host timeline."""
    import gzip

    half = size_mb * 1048576 // 2
    truth = squid_log(work / "proxy.log", half, hits=300, seed=21)
    zeek_dns_log(work / "dns.log", half // 2, hits=50)
    with (work / "dns.log").open("rb") as src, gzip.open(work / "dns.log.gz", "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst)
    (work / "dns.log").unlink()
    zeek_dns_log(work / "dns2.log", half // 2, hits=50, seed=12)
    summ = work / "summary.json"
    t = run("tracehound mixed", TRACEHOUND + ["hunt", "-q", "-o", str(work / "m.jsonl"), "--summary", str(summ),
                                              str(work / "proxy.log"), str(work / "dns.log.gz"), str(work / "dns2.log")], 1)
    s = json.loads(summ.read_text())
    hosts = {h["host"]: h for h in s["hosts"]}
    ok = True
    for ip, contacts in truth.contacts.items():
        h = hosts.get(ip)
        from datetime import UTC, datetime

        def ts(x: float) -> str:
            return datetime.fromtimestamp(x, tz=UTC).isoformat().replace("+00:00", "Z")

        ok &= h is not None and h["count"] == len(contacts) and h["first_contact"].startswith(ts(min(contacts))[:19]) \
            and h["first_seen"].startswith(ts(truth.first_seen[ip])[:19])
    if not ok:
        raise SystemExit("mixed corpus: the per-host timeline does not match the injected truth")
    total = sum(p.stat().st_size for p in work.iterdir() if p.name.startswith(("proxy", "dns"))) / 1048576
    return [("mixed corpus", f"{total:.0f} MB on disk", t.name, f"{t.median_s:.2f}", f"{sum(f['bytes'] for f in s['files']) / 1048576 / t.median_s:.0f}",
             "", f"{t.peak_anon_mb:.0f}", f"{t.peak_rss_mb:.0f}", f"{s['findings']} findings, timeline {'correct' if ok else 'WRONG'}")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", default="2048", help="Squid log size(s) for the tool comparison, MB, comma-separated "
                    "(one log at a time, deleted after its runs; 0 to skip)")
    ap.add_argument("--big-pack", type=int, default=100_000, help="indicators in the large pack (0 to skip)")
    ap.add_argument("--mixed-mb", type=int, default=1024, help="mixed corpus size (0 to skip)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep-logs", action="store_true",
                    help="with --workdir: keep each Squid log there and use a kept one again (generating 10 GB takes "
                         "~9 minutes: make it once, time it on an idle machine later)")
    a = ap.parse_args(argv)
    if a.keep_logs and not a.workdir:
        ap.error("--keep-logs needs --workdir")
    with workdir(a.workdir, "th-bench-") as work:
        # tracehound as installed: its bytecode compiled once (kept under the work folder), not at every
        # start (PYTHONDONTWRITEBYTECODE); its prefilter cache private to the bench.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")
        rows = [r for mb in (int(x) for x in a.size_mb.split(",") if x.strip()) if mb
                for r in hunt_vs_tools(work, mb, a.repeat, a.big_pack, a.keep_logs)]
        if a.mixed_mb:
            rows += mixed(work, a.mixed_mb)
        print(f"{os.cpu_count()} cores; parallel capacity measured now: {parallel_ceiling(os.cpu_count() or 1):.2f} "
              "(pure-Python processes, one per core, vs one); times are the best of interleaved runs")
        print(table(rows, ("case", "patterns", "tool", "best s", "MB/s", "tracehound -jN / tool",
                           "peak anon MB", "peak PSS MB", "count")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
