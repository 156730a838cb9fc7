"""Deterministic benchmark corpora: proxy and DNS logs with background traffic from a large
synthetic domain list and a known number of injected indicator hits; file trees of a chosen
size and file count. Same arguments, same bytes."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

C2_DOMAINS = ["akamaicontainer.com", "azureonlinestorage.com", "msedgepackageinfo.com", "pbxsources.com"]
C2_IPS = ["162.0.229.159", "91.235.116.231"]
WORDS = ["www", "cdn", "api", "static", "mail", "img", "update", "login", "news", "shop", "edge", "assets"]
TLDS = ["com", "net", "org", "io", "de", "fr", "co.uk", "info"]


def domain_list(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = set()
    while len(out) < n:
        out.add(f"{''.join(rng.choice(letters) for _ in range(rng.randint(5, 14)))}.{rng.choice(TLDS)}")
    return sorted(out)


@dataclass
class Truth:
    """What was injected: per source IP, first appearance and C2 contacts."""

    hits: int = 0
    first_seen: dict[str, float] = field(default_factory=dict)
    contacts: dict[str, list[float]] = field(default_factory=dict)


def squid_log(path: Path, size: int, hits: int, seed: int = 7, start: float = 1677628800.0,
              days: float = 21.0, background: list[str] | None = None) -> Truth:
    """A Squid access.log of about `size` bytes over `days`, with `hits` C2 contacts from infected hosts."""
    rng = random.Random(seed)
    bg = background or domain_list(50_000)
    truth = Truth()
    infected = [f"10.66.{i}.{i + 10}" for i in range(max(1, min(20, hits)))]
    avg = 150
    n = max(1, size // avg)
    hit_lines = set(rng.sample(range(n // 3, n), min(hits, max(0, n - n // 3)))) if hits else set()
    step = days * 86400 / n
    with path.open("w", encoding="ascii") as fh:
        buf = []
        for i in range(n):
            ts = start + i * step
            if i in hit_lines:
                ip = infected[len(truth.contacts) % len(infected)] if len(truth.contacts) < len(infected) else rng.choice(infected)
                url = f"https://{rng.choice(['', 'www.', 'cdn.'])}{rng.choice(C2_DOMAINS)}/{rng.randint(1, 9999)}"
                peer = rng.choice(C2_IPS)
                truth.hits += 1
                truth.contacts.setdefault(ip, []).append(round(ts, 3))
            else:
                ip = infected[i % len(infected)] if i < len(infected) else f"10.{rng.randint(0, 63)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                host = f"{rng.choice(WORDS)}.{rng.choice(bg)}"
                url = f"http://{host}/{rng.randint(1, 99999)}/{rng.choice(['index.html', 'a.js', 'i.png', 'api'])}"
                peer = f"93.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            if ip in infected and ip not in truth.first_seen:
                truth.first_seen[ip] = round(ts, 3)
            buf.append(f"{ts:.3f} {rng.randint(5, 9999):>6} {ip} TCP_MISS/200 {rng.randint(200, 99999)} GET {url} "
                       f"user{rng.randint(1, 800)} DIRECT/{peer} text/html\n")
            if len(buf) >= 10000:
                fh.write("".join(buf))
                buf = []
        fh.write("".join(buf))
    return truth


def zeek_dns_log(path: Path, size: int, hits: int, seed: int = 11, start: float = 1677628800.0,
                 days: float = 21.0) -> Truth:
    rng = random.Random(seed)
    bg = domain_list(50_000, seed=2)
    truth = Truth()
    n = max(1, size // 140)
    hit_lines = set(rng.sample(range(n), min(hits, n))) if hits else set()
    step = days * 86400 / n
    header = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
              "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\tanswers\n"
              "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tvector[string]\n")
    with path.open("w", encoding="ascii") as fh:
        fh.write(header)
        buf = []
        for i in range(n):
            ts = start + i * step
            ip = f"10.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            if i in hit_lines:
                q = f"{rng.choice(['', 'www.'])}{rng.choice(C2_DOMAINS)}"
                ans = rng.choice(C2_IPS)
                truth.hits += 1
            else:
                q = f"{rng.choice(WORDS)}.{rng.choice(bg)}"
                ans = f"93.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            buf.append(f"{ts:.6f}\tC{i:x}\t{ip}\t{rng.randint(1024, 65535)}\t10.0.0.53\t53\tudp\t{q}\tA\t{ans}\n")
            if len(buf) >= 10000:
                fh.write("".join(buf))
                buf = []
        fh.write("".join(buf))
    return truth


def file_tree(root: Path, total: int, count: int, seed: int = 5) -> int:
    """`count` files of mixed sizes (many small, a few large) adding up to about `total` bytes."""
    rng = random.Random(seed)
    weights = [rng.paretovariate(1.2) for _ in range(count)]
    scale = total / sum(weights)
    written = 0
    block = rng.randbytes(1 << 20)
    for i, w in enumerate(weights):
        size = max(1, int(w * scale))
        d = root / f"d{i % 97:02d}" / f"s{i % 13}"
        d.mkdir(parents=True, exist_ok=True)
        with (d / f"f{i:06d}.bin").open("wb") as fh:
            left = size
            while left > 0:
                chunk = block[: min(left, len(block))]
                fh.write(chunk)
                left -= len(chunk)
            fh.write(i.to_bytes(8, "little"))  # distinct contents, distinct hashes
        written += size + 8
    os.sync()
    return written


def write_bgzf(data: bytes) -> bytes:
    """BGZF (SAM/BAM specification §4.1, what `bgzip` writes): gzip members of at most 64 KiB of input, each
    with a 'BC' extra field holding its compressed size, then the standard empty end-of-file member."""
    import struct
    import zlib

    out = []
    for i in range(0, len(data), 65280):
        chunk = data[i:i + 65280]
        c = zlib.compressobj(1, zlib.DEFLATED, -15)
        body = c.compress(chunk) + c.flush()
        head = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff" + struct.pack("<HccHH", 6, b"B", b"C", 2, len(body) + 25)
        out.append(head + body + struct.pack("<II", zlib.crc32(chunk), len(chunk)))
    return b"".join(out) + bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def write_zstd_frames(data: bytes, frame: int = 4 << 20) -> bytes:
    """Concatenated zstd frames that carry their content size (as `cat` of `zstd` outputs gives)."""
    import zstandard

    c = zstandard.ZstdCompressor(level=3, write_content_size=True)
    return b"".join(c.compress(data[i:i + frame]) for i in range(0, len(data), frame))
