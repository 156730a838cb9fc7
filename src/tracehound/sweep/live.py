"""Live checks (psutil): running processes and their current connections.

Read-only: process metadata and connection tables only; executables are hashed through the
same safe reader as the file walk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class ProcessInfo:
    pid: int
    name: str
    exe: str
    username: str


@dataclass
class Connection:
    pid: int | None
    laddr: str
    raddr_ip: str
    raddr_port: int
    status: str


def processes() -> Iterator[ProcessInfo]:
    import psutil

    for p in psutil.process_iter(["pid", "name", "exe", "username"]):
        info = p.info
        yield ProcessInfo(info.get("pid") or 0, info.get("name") or "", info.get("exe") or "", info.get("username") or "")


def connections() -> tuple[list[Connection], str]:
    import psutil

    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, PermissionError) as exc:
        return [], f"connection table not readable ({exc})"
    out = []
    for c in conns:
        if not c.raddr:
            continue
        out.append(Connection(c.pid, f"{c.laddr.ip}:{c.laddr.port}" if c.laddr else "", c.raddr.ip, c.raddr.port,
                              c.status))
    return out, ""
