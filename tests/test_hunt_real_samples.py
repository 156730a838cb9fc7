"""Real third-party logs (../shared/samples/logs): detected, read without errors, injected hits found."""

from pathlib import Path

import pytest

from huntutil import hits, hunt

EXPECTED = {
    "squid/access1.log": ("squid", 100), "squid/access2.log": ("squid", 100), "iis/test-iis-7.5.log": ("w3c", 8),
    "panos/threat.log": ("panos", 76), "panos/traffic.log": ("panos", 100),
    "suricata/eve-dns-4.1.4.log": ("suricata", 24), "suricata/eve-small.log": ("suricata", 8),
    "zeek/dns.log": ("zeek", 20001), "zeek/ssl.log": ("zeek", 20001), "zeek/dns-json.log": ("zeek-json", 5000),
    "zeek/http-json.log": ("zeek-json", 8),
}


def test_all_samples_clean_with_3cx_pack(samples: Path, pack3cx) -> None:
    paths = [str(samples / "logs" / p) for p in EXPECTED]
    docs, summary = hunt(pack3cx, paths, jobs=2)
    assert docs == []
    for rep in summary.files:
        rel = str(Path(rep.path).relative_to(samples / "logs"))
        fmt, records = EXPECTED[rel]
        assert (rep.format, rep.records, rep.error) == (fmt, records, "")
        assert rep.first_ts, rel


@pytest.mark.parametrize("rel,needle,replacement", [
    ("squid/access1.log", "login.yahoo.com", "login.akamaicontainer.com"),
    ("panos/threat.log", "consent.cmp.oath.com", "x.akamaicontainer.com"),
    ("suricata/eve-small.log", "p33-btmmdns.icloud.com.", "p33.akamaicontainer.com."),
    ("zeek/dns.log", "ise.wrccdc.org", "ise.akamaicontainer.com"),
    ("zeek/dns-json.log", "ise.wrccdc.org", "ise.akamaicontainer.com"),
])
def test_injected_hit_in_real_sample(samples: Path, tmp_path: Path, pack3cx, rel: str, needle: str, replacement: str) -> None:
    lines = (samples / "logs" / rel).read_text(encoding="utf-8").splitlines()
    target = next(i for i, ln in enumerate(lines) if needle in ln and not ln.startswith("#"))
    lines[target] = lines[target].replace(needle, replacement, 1)
    f = tmp_path / Path(rel).name
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs, _ = hunt(pack3cx, [str(f)], jobs=1)
    assert set(hits(docs)) == {target + 1}
