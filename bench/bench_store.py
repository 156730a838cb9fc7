"""Observation store vs raw hunt on a generated 90-day corpus (Squid proxy, Zeek DNS, Zeek SSL).

  python bench/bench_store.py --size-mb 1024 --hosts 600 --days 90

Measures: `index` throughput vs the raw hunt's; store size vs raw and vs gzip of raw; a 3CX pack
and a 100,000-indicator pack against the store vs the raw hunt over the same logs (same run);
peak memory (PSS of the process tree) of each; and that both give the same (host, indicator,
first, last, count) set. Background traffic follows a Zipf law over a fixed host population,
as real proxy and DNS logs do (the same hosts ask for the same names every day)."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from corpus import C2_DOMAINS, C2_IPS, WORDS, domain_list  # noqa: E402
from measure import Timing, run, table, workdir  # noqa: E402

TRACEHOUND = [sys.executable, "-m", "tracehound"]
START = 1672531200.0  # 2023-01-01
ZEEK_HEAD = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n"
             "#fields\t{fields}\n#types\t{types}\n")


def _zipf_picker(rng: random.Random, items: list[int], s: float = 1.1) -> Any:
    weights = [1.0 / (i + 1) ** s for i in range(len(items))]
    def pick(k: int) -> list[int]:
        return rng.choices(items, weights=weights, k=k)
    return pick


def generate(out: Path, size_mb: int, hosts: int, days: int, seed: int = 3) -> dict[str, int]:
    """One file per source and day; about size_mb in all; C2 contacts by 12 hosts from day 30."""
    rng = random.Random(seed)
    names = [f"{rng.choice(WORDS)}.{d}" for d in domain_list(20_000, seed=5)]
    pick = _zipf_picker(rng, list(range(len(names))))
    clients = [f"10.20.{i // 250}.{i % 250 + 1}" for i in range(hosts)]
    infected = clients[:12]
    per_day = size_mb * 1048576 // days
    out.mkdir(parents=True, exist_ok=True)
    lines = 0
    for day in range(days):
        t0 = START + day * 86400
        for src, avg in (("squid", 150), ("dns", 120), ("ssl", 110)):
            n = max(1, int(per_day * {"squid": 0.5, "dns": 0.3, "ssl": 0.2}[src] / avg))
            picks = pick(n)
            buf: list[str] = []
            for i, k in enumerate(picks):
                ts = t0 + i * 86400 / n
                h = (i * 7919 + day) % hosts
                c = clients[h]
                # popular names are everyone's; the long tail is each host's own (its software, its habits)
                host = names[k] if k < 200 else names[(k + h * 37) % len(names)]
                if day >= days // 3 and i % 5000 == 17:
                    c, host = infected[i % len(infected)], f"{rng.choice(['', 'www.'])}{rng.choice(C2_DOMAINS)}"
                ip = C2_IPS[i % 2] if host.endswith(tuple(C2_DOMAINS)) else f"93.{zlib.crc32(host.encode()) % 256}.{i % 7}.{zlib.crc32(host.encode()) % 251 + 1}"
                if src == "squid":
                    path = f"/{zlib.crc32(host.encode()) % 20}/{rng.choice(['index.html', 'a.js', 'i.png', 'api'])}"
                    buf.append(f"{ts:.3f}    {rng.randint(1, 900)} {c} TCP_MISS/200 {rng.randint(200, 90000)} GET "
                               f"http://{host}{path} - DIRECT/{ip} text/html\n")
                elif src == "dns":
                    buf.append(f"{ts:.6f}\tC{i:x}\t{c}\t{rng.randint(1024, 65535)}\t10.0.0.53\t53\tudp\t{host}\tA\t{ip}\n")
                else:
                    buf.append(f"{ts:.6f}\tS{i:x}\t{c}\t{rng.randint(1024, 65535)}\t{ip}\t443\t{host}\n")
            lines += n
            day_s = datetime.utcfromtimestamp(t0).strftime("%Y-%m-%d")
            with (out / f"{src}-{day_s}.log").open("w", encoding="ascii") as fh:
                if src == "dns":
                    fh.write(ZEEK_HEAD.format(path="dns", fields="ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\tanswers",
                                              types="time\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tvector[string]"))
                elif src == "ssl":
                    fh.write(ZEEK_HEAD.format(path="ssl", fields="ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name",
                                              types="time\tstring\taddr\tport\taddr\tport\tstring"))
                fh.writelines(buf)
    return {"lines": lines, "files": days * 3, "hosts": hosts}


def big_pack(path: Path, n: int) -> None:
    doms = domain_list(n + 1000, seed=99)[:n]
    path.write_text("type,value,confidence\n" + "".join(f"domain,{d},80\n" for d in doms + C2_DOMAINS))


def _dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def _gzip_size(logs: Path) -> int:
    total = 0
    for f in sorted(logs.glob("*.log")):
        total += len(gzip.compress(f.read_bytes(), compresslevel=6))
    return total


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v.replace("Z", "+00:00")) if v else None


def findings_table(path: Path) -> dict[tuple[str, str], list[Any]]:
    """(host, indicator) -> [first, last, count] from a findings file (raw: one per record; store: counted)."""
    out: dict[tuple[str, str], list[Any]] = {}
    for line in path.read_text().splitlines():
        d = json.loads(line)
        th = d["tracehound"]
        if th.get("match") == "raw":
            continue
        n = th.get("count", 1)
        first, last = _dt(th.get("first_contact") or d.get("@timestamp")), _dt(th.get("last_contact") or d.get("@timestamp"))
        for ind in th.get("indicators", []):
            a = out.setdefault((th["host"], ind["value"]), [None, None, 0])
            a[2] += n
            if first and (a[0] is None or first < a[0]):
                a[0] = first
            if last and (a[1] is None or last > a[1]):
                a[1] = last
    return out


def _note(text: str) -> None:
    """A result as soon as it is measured (stderr), with the time and the machine's load."""
    print(f"[{datetime.now().strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {text}", file=sys.stderr, flush=True)


def _noted(t: Any) -> Any:
    _note(f"{t.name}: {t.median_s:.2f} s wall, {t.cpu_s:.1f} CPU s, peak {t.peak_rss_mb:.0f} MB")
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--hosts", type=int, default=600)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--big-pack", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workdir")
    ap.add_argument("--reuse-index", action="store_true",
                    help="with --workdir: keep the store an earlier run of this script indexed there (its index "
                         "figures, recorded in index-run.json, are printed again) and time only the hunts")
    ap.add_argument("--index-only", action="store_true",
                    help="with --workdir: generate and index, then stop (time the hunts later with --reuse-index)")
    a = ap.parse_args(argv)
    if a.index_only and not a.workdir:
        ap.error("--index-only needs --workdir (where the store is kept)")
    if a.reuse_index and not a.workdir:
        ap.error("--reuse-index needs --workdir (the folder of the earlier run)")
    with workdir(a.workdir, "bench-store-") as work:
        logs, store = work / "logs", work / "store"
        info = generate(logs, a.size_mb, a.hosts, a.days) if not logs.exists() else {"lines": 0, "files": 0, "hosts": a.hosts}
        raw_bytes = _dir_size(logs)
        big = work / "big.csv"
        big_pack(big, a.big_pack)
        rows: list[tuple[str, ...]] = []
        same: list[str] = []
        recorded = work / "index-run.json"
        if a.reuse_index and store.exists() and recorded.exists():
            rec = json.loads(recorded.read_text(encoding="utf-8"))
            idx = Timing(**rec["timing"])
            _note(f"index: reused from {rec['at']} (load average then {rec['load']:.1f})")
        else:
            if store.exists():
                import shutil

                shutil.rmtree(store)
            idx = _noted(run("index", [*TRACEHOUND, "index", str(logs), "--store", str(store), "-q"], 1))
            recorded.write_text(json.dumps({"at": datetime.now().isoformat(timespec="seconds"), "load": os.getloadavg()[0],
                                            "timing": {**idx.__dict__, "output": ""}}), encoding="utf-8")
        _note(f"store: {_dir_size(store) / 1048576:.1f} MB")
        if a.index_only:
            return 0
        packs = (("3cx pack", "3cx", ["--intel", "3cx"]), (f"{a.big_pack:,}-indicator pack", "big", ["--intel", str(big)]))
        # The store hunts first (seconds), the raw hunts after (a long run may be cut; what ran is printed)
        st_runs = {tag: _noted(run(f"hunt --store, {label}", [*TRACEHOUND, "hunt", "--store", str(store), *spec, "-q", "-o",
                                                              str(work / f"store-{tag}.jsonl")], a.repeat)) for label, tag, spec in packs}
        for label, tag, spec in packs:
            raw_out, st_out = work / f"raw-{tag}.jsonl", work / f"store-{tag}.jsonl"
            raw = _noted(run(f"raw hunt, {label}", [*TRACEHOUND, "hunt", str(logs), *spec, "-q", "--no-first-seen", "-o",
                                                    str(raw_out)], a.repeat))
            st = st_runs[tag]
            rt, stt = findings_table(raw_out), findings_table(st_out)
            same.append(f"{label}: {'same' if rt == stt else 'DIFFERENT'} (host, indicator, first, last, count) set, "
                        f"{len(rt)} pairs, {sum(v[2] for v in rt.values())} contacts")
            _note(same[-1])
            rows += [(raw.name, f"{raw.median_s:.2f}", f"{raw_bytes / 1048576 / raw.median_s:.1f}", f"{raw.cpu_s:.1f}",
                      f"{raw_bytes / 1048576 / max(raw.cpu_s, 1e-9):.1f}", f"{raw.peak_rss_mb:.0f}"),
                     (st.name, f"{st.median_s:.2f}", "-", f"{st.cpu_s:.2f}", "-", f"{st.peak_rss_mb:.0f}"),
                     (f"  ratio raw/store, {label}", f"{raw.median_s / st.median_s:.1f}x", "", f"{raw.cpu_s / max(st.cpu_s, 1e-9):.1f}x", "", "")]
        rows.insert(0, (idx.name, f"{idx.median_s:.2f}", f"{raw_bytes / 1048576 / idx.median_s:.2f}", f"{idx.cpu_s:.1f}",
                        f"{raw_bytes / 1048576 / max(idx.cpu_s, 1e-9):.2f}", f"{idx.peak_rss_mb:.0f}"))
        store_bytes = _dir_size(store)
        gz = _gzip_size(logs)
        print(f"corpus: {raw_bytes / 1048576:.0f} MB raw, {info['files'] or len(list(logs.glob('*.log')))} files, "
              f"{info['hosts']} hosts, {a.days} days (Squid + Zeek DNS + Zeek SSL)")
        print(table(rows, ("run", "wall s", "MB/s", "CPU s", "MB per CPU s", "peak MB")))
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (CPU s: user + system of the process tree)")
        raw_first = next((r for r in rows if r[0].startswith("raw hunt, 3cx")), None)
        if raw_first:
            print(f"index throughput vs raw hunt (3cx): {float(rows[0][2]) / max(float(raw_first[2]), 1e-9):.3f}x")
        print(f"store: {store_bytes / 1048576:.1f} MB = {raw_bytes / max(store_bytes, 1):.1f}x smaller than raw, "
              f"{gz / max(store_bytes, 1):.2f}x of gzip -6 of raw ({gz / 1048576:.1f} MB)")
        for s in same:
            print(s)
        return 0 if all("same" in s and "DIFFERENT" not in s for s in same) else 1


if __name__ == "__main__":
    raise SystemExit(main())
