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
    # a raw line end in the value is kept for the canonical gate, which refuses it with its reason
    assert parse_pattern("[domain-name:value = 'a.com\nb.com']") == (IType.DOMAIN, "a.com\nb.com", {})


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


# ---- regexes from feeds: Loki file-name regexes run on Hyperscan -------------------------------------------

def _regex_pack(*patterns: tuple[str, dict]):
    from tracehound.intel.model import Indicator, Pack

    pack = Pack(name="feed")
    for pat, ctx in patterns:
        pack.add(Indicator(IType.FILENAME_REGEX, pat, ctx, 80))
    return pack


def test_feed_regex_exponential_pattern_is_linear():
    from tracehound.sweep.files import FileIndex

    index = FileIndex.build(_regex_pack(("(.+)+X", {}), ("(a|aa)+$", {}), ("(?i)\\\\temp\\\\[^\\\\]{1,20}\\.ps1", {})))
    assert not index.refused
    ordinary = "Users/" + "a" * 5000 + "/AppData/Local/Temp/" + "b" * 5000  # re: (.+)+X never returns on this
    t = time.perf_counter()
    for _ in range(100):
        assert index.regex_hits(ordinary) == []
    assert time.perf_counter() - t < BUDGET
    assert [i.value for i in index.regex_hits("Users/bob/X.txt")] == ["(.+)+X"]
    assert [i.value for i in index.regex_hits("tmp/baaaa")] == ["(a|aa)+$"]
    assert [i.value for i in index.regex_hits("Windows/TEMP/run.ps1")] == ["(?i)\\\\temp\\\\[^\\\\]{1,20}\\.ps1"]


def test_feed_regex_refused_is_reported():
    from tracehound.sweep.files import FileIndex

    index = FileIndex.build(_regex_pack(("(a)\\1", {}), ("(?<=x)y", {}), ("\\\\evil\\.exe", {"false_positive_regex": ["(?=z)"]}),
                                        ("\\\\good\\.exe", {})))
    reasons = {i.value: r for i, r in index.refused}
    assert set(reasons) == {"(a)\\1", "(?<=x)y", "\\\\evil\\.exe"}
    assert all(reasons.values()) and reasons["\\\\evil\\.exe"].startswith("false-positive regex")
    assert [i.value for i in index.regex_hits("C/good.exe")] == ["\\\\good\\.exe"]
    summary = index.refused_summary()
    assert len(summary) == 3 and all(k.startswith("file-name regex not run (") for k in summary)


def test_loki_filename_iocs_same_as_re(samples):
    """signature-base filename-iocs.txt (3,828 lines): all but the patterns Hyperscan cannot express compile,
    and on a path sample the hits equal Python re's (paths built from the regexes themselves, so many match)."""
    import re

    from tracehound.intel.formats import read_pack
    from tracehound.sweep.files import FileIndex

    pack = read_pack(str(samples / "loki-iocs" / "filename-iocs.txt"), None)
    inds = pack.of_type(IType.FILENAME_REGEX)
    t = time.perf_counter()
    index = FileIndex.build(pack)
    build = time.perf_counter() - t
    refused = {i.value: r for i, r in index.refused}
    assert len(inds) > 3600 and len(index.regexes) + len(refused) == len(inds)
    assert len(refused) <= 5, refused
    # the two refused ones hold an unescaped '$' inside the pattern, which cannot match in re either
    assert all("$" in i.value + "".join(i.ctx("false_positive_regex")) for i, _ in index.refused)
    assert build < 10

    def literal(rx: str) -> str:
        s = re.sub(r"\\(.)", r"\1", rx.replace("(?i)", ""))
        return re.sub(r"[\^$()\[\]{}*+?|]", "", s).lstrip("\\/").replace("\\", "/")

    paths = [literal(i.value) for i in inds[::30]] + [
        "Windows/System32/svchost.exe", "Windows/System32/wermgr.exe", "Users/bob/AppData/Roaming/x.js",
        "Users/bob/AppData/Local/Temp/procdump64.exe", "Program Files/3CXDesktopApp/ffmpeg.dll", "tmp/svchîst.exe"]
    compiled = [(re.compile(i.value), re.compile(i.ctx("false_positive_regex")[0]) if i.ctx("false_positive_regex")
                 else None, i) for i in inds if i.value not in refused]
    total = 0
    for p in paths:
        forms = ("/" + p, "\\" + p.replace("/", "\\"))
        want = {i.value for rx, fp, i in compiled
                if any(rx.search(f) for f in forms) and not (fp and any(fp.search(f) for f in forms))}
        assert {i.value for i in index.regex_hits(p)} == want, p
        total += len(want)
    assert total > 50  # the sample really exercises the regexes


# ---- advisories (attacker-controlled text, up to 64 MiB) ---------------------------------------------------

def _extract(tmp_path, text: str, suffix: str = ".txt"):
    from tracehound.intel.extract import ExtractOptions, extract_files

    f = tmp_path / f"advisory{suffix}"
    f.write_text(text)
    t = time.perf_counter()
    result = extract_files([str(f)], ExtractOptions(max_bytes=1 << 26))
    return result, time.perf_counter() - t


def test_advisory_long_lines_linear(tmp_path):
    _extract(tmp_path, "warm-up 192.0.2.1\n")  # warninglists load once
    ips = [f"203.0.{i // 250}.{i % 250 + 1}" for i in range(6000)]
    result, elapsed = _extract(tmp_path, "C2: " + " ".join(ips) + "\n")  # 55 s for 2,000 before (one line)
    assert elapsed < 2 * BUDGET, f"{elapsed:.1f} s"
    got = {i.value for i in result.pack.indicators if i.type is IType.IPV4}
    assert got == set(ips)
    # 256 KiB lines: the extractor runs ~20 case-insensitive searches per line (linear, ~2 s per MiB);
    # 'v' + 40,000 spaces took 3.7 s before (quadratic), so 256 KiB would take minutes
    for text in ("version" + " " * (MAX // 4) + "1.2.3.4\n", "v" + ":" * (MAX // 4) + "\n"):
        _, elapsed = _extract(tmp_path, text)
        assert elapsed < BUDGET, f"{elapsed:.1f} s"


def test_advisory_version_word_still_excludes(tmp_path):
    result, _ = _extract(tmp_path, "Affected: version 18.12.407.1 and build: 1.2.3.4; C2 at 198.51.100.23\n")
    assert {i.value for i in result.pack.indicators if i.type is IType.IPV4} == {"198.51.100.23"}


def test_html_unclosed_script_tags_linear():
    from tracehound.intel.documents import _strip_tags

    t = time.perf_counter()
    lines = _strip_tags("<p>c2 evil.example.com</p>" + "<script" * (MAX // 7) + "<style>x</style>")
    assert time.perf_counter() - t < BUDGET
    assert "c2 evil.example.com" in lines


def test_feed_regexes_refused_without_a_linear_engine(monkeypatch):
    from tracehound.matching import safe_regex
    from tracehound.sweep.files import FileIndex

    monkeypatch.setattr(safe_regex, "_hyperscan", lambda: None)
    index = FileIndex.build(_regex_pack(("\\\\good\\.exe", {})))
    assert [r for _, r in index.refused] == [safe_regex.NO_ENGINE] and index.regex_hits("C/good.exe") == []
    assert list(index.refused_summary().values()) == [1]


def test_host_artefact_forms_linear():
    """Paths, keys and mutexes on 256 KiB lines built to backtrack (spaced components never closed, a key or a
    path every few characters, cues with no value): each in well under the budget (CPU time, the machine is shared)."""
    from tracehound.intel.artefact_forms import find_mutexes, find_paths_and_keys

    n = MAX // 4
    shapes = ["C:\\" + "Ab " * (n // 3), "C:\\" + ("Ab " * 7 + "\\") * (n // 24), "HKLM\\" + "a b " * (n // 4),
              "HKLM\\x " * (n // 7), "/Library/" + "A " * (n // 2), "~/" * (n // 2), "C:\\" + "<a>" * (n // 3),
              "…\\" * (n // 2), "mutex " * (n // 6), "HKLM\\a\\b " + "value " * (n // 6), "C:\\a" + " Ab" * (n // 3)]
    for line in shapes:
        t = time.process_time()
        find_paths_and_keys(line, line.lower())
        find_mutexes(line, True)
        assert time.process_time() - t < BUDGET, line[:20]
    assert [f.value for f in find_paths_and_keys(shapes[3][:14], shapes[3][:14].lower())] == ["HKLM\\x", "HKLM\\x"]
