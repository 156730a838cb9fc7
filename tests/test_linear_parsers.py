"""Every parser of untrusted text is linear in its input: pathological inputs at the documented
maximum size (a 1 MiB log line, `hunt --max-line`; a 1 MiB STIX pattern) finish in well under a
second. Each input here took minutes to hours with the former backtracking regexes."""

from __future__ import annotations

import time

import pytest

from tracehound.intel.formats.stix import parse_pattern
from tracehound.intel.model import IType
from tracehound.sources.logs.observation import RecordError
from tracehound.sources.logs.readers import BY_NAME
from tracehound.sources.logs.readers.dns_text import BindReader
from tracehound.sources.logs.readers.syslog import CefReader
from tracehound.sources.logs.stream import DEFAULT_MAX_LINE

MAX = DEFAULT_MAX_LINE  # 1 MiB: longer lines are skipped before any reader sees them
BUDGET = 3.0  # seconds for all inputs of one test; each takes milliseconds when linear


def timed(fn, *inputs):
    t = time.perf_counter()
    out = [fn(x) for x in inputs]
    elapsed = time.perf_counter() - t
    assert elapsed < BUDGET, f"{elapsed:.1f} s"
    return out


def test_stix_pattern_linear():
    pad = " " * MAX
    got = timed(parse_pattern,
                f"[domain-name:value ={pad}'evil.example.com'{pad}]",  # 300 s at 10,000 spaces before
                f"[domain-name:value ={pad}",  # no closing bracket
                f"[a:b ={pad}x{pad}",
                "[" + "a" * MAX + ":" + "b" * MAX + "=",
                f"[software:name = 'X' AND software:version IN ({pad}'1.0'{pad}){pad}]",
                "[software:name = '" + "\\'" * (MAX // 2) + "]")
    assert got[0] == (IType.DOMAIN, "evil.example.com", {})
    assert got[1] is None and got[2] is None and got[3] is None and got[5] is None
    assert got[4] == (IType.SOFTWARE, "X", {"versions": ["1.0"]})


def test_stix_pattern_shapes_kept():
    assert parse_pattern("[file:hashes.'SHA-256' = 'ab']") == (IType.SHA256, "ab", {})
    assert parse_pattern("[ file:name MATCHES '^a\\\\.exe$' ]") == (IType.FILENAME_REGEX, "^a\\.exe$", {})
    assert parse_pattern("[ipv4-addr:value = '10.0.0.0/8']") == (IType.CIDR, "10.0.0.0/8", {})
    assert parse_pattern("[url:value = ]") is None
    assert parse_pattern("[domain-name:value = 'a.com\nb.com']") is None


CEF_HEAD = "CEF:0|Vendor|Product|1.0|100|name|5|"


def test_cef_extension_linear():
    r = CefReader({})
    lines = [CEF_HEAD + " " * MAX + "src=10.0.0.1",  # 84 s at 40,000 spaces before
             CEF_HEAD + "msg=" + " " * MAX + "x dst=192.0.2.1",
             CEF_HEAD + "a=" * (MAX // 2),
             CEF_HEAD + "a= " * (MAX // 3),
             CEF_HEAD + "msg=" + "\\=" * (MAX // 2),
             CEF_HEAD + "k" * MAX + "=v"]
    out = timed(lambda ln: r.parse(ln), *lines)
    assert out[0][0].src_ip == "10.0.0.1"
    assert out[1][0].dst_ip == "192.0.2.1"


def test_cef_extension_values():
    r = CefReader({})
    obs = r.parse(CEF_HEAD + r"src=10.0.0.5 request=http://evil.example.com/a?q=1&b=2 msg=a \= b  dst=192.0.2.9 "
                  "shost=PC1")[0]
    assert (obs.src_ip, obs.dst_ip, obs.src_host, obs.domain) == ("10.0.0.5", "192.0.2.9", "PC1", "evil.example.com")
    assert obs.url.endswith("/a?q=1&b=2")


def test_bind_query_linear():
    r = BindReader({})
    q = "client @0x7f 10.0.0.7#5353 (a.example.com): query: a.example.com IN A +E(0) (10.0.0.1)"
    lines = [" " * MAX + q, "28-Mar-2023 10:00:00.000" + " " * MAX + q, "client " * (MAX // 7) + "query:",
             "client @" + "x" * MAX + " query:", "28-Mar-2023 10:00:00.123 queries: info: " + q]
    def parse(ln: str):
        try:
            return r.parse(ln)
        except RecordError:
            return None
    out = timed(parse, *lines)
    assert out[0][0].src_ip == "10.0.0.7" and out[0][0].domain == "a.example.com"
    assert out[4][0].ts is not None and out[4][0].ts.year == 2023


UNITS = (" ", "a ", "a=", " a=b", "1.", "\\", "'", "|", ",", "\t", '"', "{", "[", "client ", "(1)", ": ", "#")


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_reader_linear(name):
    """Each reader on 1 MiB lines of repeated separators/quotes/keys (the shapes that make regexes backtrack)."""
    r = BY_NAME[name]({})
    sniff_lines = [u * (MAX // len(u)) for u in UNITS]
    t = time.perf_counter()
    BY_NAME[name].sniff(sniff_lines[:3])
    for ln in sniff_lines:
        try:
            r.parse(ln)
        except (RecordError, ValueError):
            pass
    elapsed = time.perf_counter() - t
    assert elapsed < 2 * BUDGET, f"{name}: {elapsed:.1f} s on {len(UNITS)} lines of 1 MiB"
