"""A deterministic, vendor-shaped advisory of about N bytes for extraction benchmarks and tests.

Sections of prose (sentences with Windows, %VARIABLE%, macOS and Linux paths, `reg add` persistence,
mutexes, PDB paths, defanged domains and IPs, reference links, dates, fractions, `and/or`, command-line
switches), and per section an IOC table (Path | SHA-256 | Detection, one legitimate row). Every planted
value is numbered, so the truth is known: `Truth` lists what extraction must give and what it must not.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field


@dataclass
class Truth:
    paths: set[str] = field(default_factory=set)
    keys: set[tuple[str, str]] = field(default_factory=set)  # (key, value name)
    mutexes: set[str] = field(default_factory=set)
    pdbs: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    sha256: set[str] = field(default_factory=set)
    not_paths: set[str] = field(default_factory=set)  # legitimate rows and locations: never indicators


_FILLER = [
    "The operators kept a low profile for several weeks before they moved to the domain controllers.",
    "Our telemetry shows roughly 1/4 of the affected hosts in the transport sector, and/or its suppliers.",
    "The sample was first seen on 12/03/2024 and again on 2024-04-17, each time with a new configuration.",
    "It runs cmd.exe /c with the /s switch and deletes itself; see https://attack.mitre.org/techniques/T1070/004/ for the technique.",
    "Analysts should review the scheduled tasks and services created during the intrusion window.",
    "More background is in our earlier report at https://blog.example.org/2023/11/02/earlier-report/ on the same group.",
]


def _h(tag: str) -> str:
    return hashlib.sha256(tag.encode()).hexdigest()


def advisory(size: int, seed: int = 7, one_line: bool = False) -> tuple[str, Truth]:
    """Markdown text of about size bytes and its truth. one_line=True: the prose only, joined by spaces
    into one line (the pathological document: no line structure, no tables)."""
    rnd = random.Random(seed)
    truth = Truth()
    out: list[str] = ["# ShadowCrane campaign: full technical analysis", "", "Published: 2024-05-14", ""]
    prose: list[str] = []
    total = 0
    n = 0
    while total < size:
        n += 1
        win = rf"C:\ProgramData\Crane{n}\svc{n}.dll"
        env = rf"%APPDATA%\Microsoft\Crane{n}\<GUID>.dat"
        mac = f"/Library/Application Support/Crane{n}/agent{n}"
        lin = f"/opt/.crane{n}/bin/crane{n}.so"
        key = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
        mutex = f"Global\\CraneMtx-{n:05d}"
        pdb = rf"D:\build\crane{n}\Release\crane{n}.pdb"
        domain = f"c2-{n}.crane-example.net"
        para = [
            f"## Stage {n % 3 + 1}: component {n}",
            "",
            f"The loader drops {win} and a configuration blob to {env}, then starts it.",
            f"On macOS it installs {mac} and on Linux it writes {lin} before it beacons to {domain.replace('.', '[.]')}.",
            f"Persistence: reg add {key} /v Crane{n} /t REG_SZ /d \"{win}\" /f",
            f"It creates the mutex {mutex} and its build path is {pdb}.",
            rnd.choice(_FILLER) + " " + rnd.choice(_FILLER),
            "",
        ]
        truth.paths |= {win, env, mac, lin}
        truth.keys.add((key, f"Crane{n}"))
        truth.mutexes.add(mutex)
        truth.pdbs.add(pdb)
        truth.domains.add(domain)
        table = [
            "| Path | SHA-256 | Detection |",
            "|---|---|---|",
            f"| C:\\Users\\Public\\Crane{n}\\upd{n}.exe | {_h(f'upd{n}')} | Win64/ShadowCrane.{n} |",
            f"| C:\\Program Files\\Vendor{n}\\app.exe | {_h(f'legit{n}')} | legitimate vendor binary |",
            "",
        ]
        truth.paths.add(rf"C:\Users\Public\Crane{n}\upd{n}.exe")
        truth.sha256.add(_h(f"upd{n}"))
        truth.not_paths.add(rf"C:\Program Files\Vendor{n}\app.exe")
        block = "\n".join(para) + "\n"
        prose.append(" ".join(p for p in para[2:] if p))
        out.append(block + ("" if one_line else "\n".join(table) + "\n"))
        total += len(block) + (0 if one_line else sum(len(t) + 1 for t in table))
    if one_line:
        truth.sha256.clear()
        truth.paths = {p for p in truth.paths if not p.startswith("C:\\Users\\Public\\Crane")}
        return " ".join(prose) + "\n", truth
    return "\n".join(out), truth
