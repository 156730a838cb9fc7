"""Live-only sweep checks: processes and network connections of the machine being swept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracehound.matching.matcher import Matcher
from tracehound.sources.hosts.reading import read_and_hash
from tracehound.sweep import files
from tracehound.sweep.summary import SweepResult


def run(take: Callable[[dict[str, Any]], None], result: SweepResult, matcher: Matcher, index: files.FileIndex,
        _doc: Callable[..., dict[str, Any]]) -> None:
    """Running processes (names, executable hashes) and connections to indicator IPs (psutil)."""
    from tracehound.sweep import live

    procs = {}
    for p in live.processes():
        procs[p.pid] = p
        ind = index.name_hit(p.name) if p.name else None
        if ind is not None and files.name_alerts(ind):
            take(_doc("process", "suspicious", f"process {p.name} (pid {p.pid}) has an indicator name",
                      [(ind, "process.name", p.name)], category="process",
                      fields={"process.pid": p.pid, "process.name": p.name, "process.executable": p.exe}))
        if p.exe and index.hashes:
            try:
                fd = read_and_hash(p.exe, index.algos, 0)
            except OSError as exc:
                result.skip(f"process executable not hashed ({exc.strerror or type(exc).__name__})")
                continue
            for algo, h in fd.hashes.items():
                hi = index.hashes.get(h)
                if hi is not None:
                    take(_doc("process", "compromised", f"running process {p.name} (pid {p.pid}) is a payload",
                              [(hi, f"process.hash.{algo}", h)], category="process",
                              fields={"process.pid": p.pid, "process.name": p.name, "process.executable": p.exe,
                                      f"process.hash.{algo}": h}))
    conns, err = live.connections()
    if err:
        result.skip(err)
    for c in conns:
        ind = matcher.ip(c.raddr_ip)
        if ind is None:
            continue
        proc = procs.get(c.pid or -1)
        verdict = "compromised" if ind.confidence >= 70 else "suspicious"
        take(_doc("network", verdict, f"connection to {c.raddr_ip}:{c.raddr_port} ({c.status})",
                  [(ind, "destination.ip", c.raddr_ip)], category="network",
                  fields={"destination.ip": c.raddr_ip, "destination.port": c.raddr_port, "process.pid": c.pid,
                          "process.name": proc.name if proc else None,
                          "process.executable": proc.exe if proc else None}))
