"""Matcher semantics and prefilter engines."""

import random

import pytest

from tracehound.intel.formats import read_pack
from tracehound.matching.matcher import Matcher
from tracehound.matching.normalize import norm_url, path_prefix_match
from tracehound.matching.prefilter import Prefilter, literals_for
from tracehound.sources.logs.observation import Observation


@pytest.fixture
def matcher(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("type,value\ndomain,akamaicontainer.com\nipv4,162.0.229.159\ncidr,203.0.113.0/28\n"
                 "url,github.com/IconStorages/images\nurl,https://evil.example/a%20b\nipv6,2001:db8::bad\n")
    return Matcher(read_pack(str(f)))


DOMAINS = [
    ("akamaicontainer.com", True), ("www.akamaicontainer.com", True), ("AKAMAICONTAINER.COM.", True),
    ("a.b.c.akamaicontainer.com", True), ("notakamaicontainer.com", False), ("akamaicontainer.com.evil.net", False),
    ("akamaicontainer.co", False), ("akamaicontainer.com:443", True),
]


@pytest.mark.parametrize("name,hit", DOMAINS)
def test_domain_label_boundaries(matcher, name: str, hit: bool) -> None:
    assert (matcher.domain(name) is not None) is hit


IPS = [
    ("162.0.229.159", True), ("162.0.229.15", False), ("162.0.229.1590", False), ("::ffff:162.0.229.159", True),
    ("203.0.113.7", True), ("203.0.113.16", False), ("2001:0db8:0000:0000:0000:0000:0000:0bad", True), ("junk", False),
]


@pytest.mark.parametrize("ip,hit", IPS)
def test_ip_semantics(matcher, ip: str, hit: bool) -> None:
    assert (matcher.ip(ip) is not None) is hit


URLS = [
    ("https://github.com/IconStorages/images/raw/main/icon12.ico", True), ("http://github.com/IconStorages/images", True),
    ("github.com:443/IconStorages/images?x=1", True), ("https://GITHUB.COM/IconStorages/images", True),
    ("https://github.com/%49conStorages/images/x", True), ("https://github.com/IconStorages/imagesX", False),
    ("https://github.com/iconstorages/images", False), ("https://github.com/", False),
    ("https://evil.example/a b/c", True), ("https://evil.example:8443/a%20b", False),
]


@pytest.mark.parametrize("url,hit", URLS)
def test_url_semantics(matcher, url: str, hit: bool) -> None:
    assert (matcher.url(url) is not None) is hit


def test_connect_to_url_host_is_weak_only(matcher) -> None:
    m = matcher.match(Observation(kind="connect", domain="github.com", dst_port=443))
    assert len(m) == 1 and m[0].weak
    assert matcher.match(Observation(kind="http", domain="github.com", url="https://github.com/")) == []


def test_norm_url() -> None:
    assert norm_url("HTTPS://Host.Example:443/a%2Fb?q") == ("host.example", "/a/b?q")
    assert norm_url("http://host.example:8080/x") == ("host.example:8080", "/x")
    assert path_prefix_match("/a/b/c", "/a/b") and not path_prefix_match("/a/bc", "/a/b")


def test_prefilter_engines_agree(pack3cx) -> None:
    lits = literals_for(pack3cx)
    rng = random.Random(3)
    parts = [b"GET http://www.example.com/ ", b"AKAMAICONTAINER.com ", b"162.0.229.159 ", b"github.com/x ",
             b"(15)akamaicontainer(3)com(0) ", b"\xff\xfe junk ", b"\n"]
    data = b"".join(rng.choice(parts) for _ in range(5000))
    hs = sorted(Prefilter(lits, "hyperscan").candidate_ends(data))
    ac = sorted(Prefilter(lits, "aho").candidate_ends(data))
    assert hs == ac and len(hs) > 100


# ---- raw-text matching: the same semantics on tokens of an unparsed record -------------------

@pytest.mark.parametrize("value,hit", [*DOMAINS, *IPS, *[(u, h) for u, h in URLS if " " not in u]])
def test_raw_matching_has_the_matcher_semantics(matcher, value: str, hit: bool) -> None:
    from tracehound.matching.raw import raw_matches

    for line in (f"2023-03-29 08:10:00 x={value} y", f'{{"a":"{value}","b":1}}', f"a,{value},b"):
        found = raw_matches(line, matcher)
        assert bool(found) is hit, (line, found)
        assert all(m.field == "event.original" for m in found)


@pytest.mark.parametrize("line,expected", [
    ("GET http github.com 80 /IconStorages/images/main/icon12.ico - -", {"github.com/IconStorages/images"}),
    ("GET http github.com 80 /IconStoragesX/images/main/icon12.ico - -", set()),
    ("query (3)cdn(15)akamaicontainer(3)com(0) from 10.0.0.5", {"akamaicontainer.com"}),
    ("(18)notakamaicontainer(3)com(0)", set()),
    ("src=172.16.2.2:4522:X0 dst=162.0.229.159:443:X1 proto=tcp/https", {"162.0.229.159"}),
    ("TCP_MISS/200 DIRECT/162.0.229.159 [2001:db8::bad]:443", {"162.0.229.159", "2001:db8::bad"}),
    ("%ASA-6-302013: Built outbound TCP connection 4471 for outside:162.0.229.159/443 (162.0.229.159/443) to "
     "inside:10.1.1.5/50000 (198.51.100.7/50000)", {"162.0.229.159"}),
    ("%ASA-6-302013: Built outbound TCP connection 4472 for outside:162.0.229.15/443 (162.0.229.15/443)", set()),
    ('date=2023-03-29 devname="FGT60F" type="utm" subtype="webfilter" srcip=10.1.1.5 dstip=140.82.121.4 '
     'hostname="www.akamaicontainer.com" url="/v2/storage"', {"akamaicontainer.com"}),
    ('"GET http://www.example.com/?q=akamaicontainer.com HTTP/1.1"', set()),  # a query string is no host
])
def test_raw_tokens(matcher, line: str, expected: set[str]) -> None:
    from tracehound.matching.raw import raw_matches

    assert {m.indicator.value for m in raw_matches(line, matcher)} == expected


def test_raw_skips_values_the_reader_already_read(matcher) -> None:
    from tracehound.matching.raw import raw_matches

    line = "GET http://www.example.com/?next=akamaicontainer.com referer=http://akamaicontainer.com/"
    assert {m.indicator.value for m in raw_matches(line, matcher)} == {"akamaicontainer.com"}
    assert raw_matches(line, matcher, ["http://www.example.com/?next=akamaicontainer.com",
                                       "http://akamaicontainer.com/"]) == []
