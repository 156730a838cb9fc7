"""Hostile packs: a feed value must never write its own line, rule or directive (issue 18 item 1).

Two depths, each tested on its own:
  (a) reading: the hostile values below, written in each pack format as an attacker would
      (native JSON, CSV, MISP, STIX, Loki), are refused with a reason and kept in `excluded`;
      only the valid indicators enter the pack;
  (b) writing: a pack built in code with the hostile values *bypassing* (a) goes through every
      exporter; each output is checked with its own tool (suricata -T and a replay,
      named-checkzone, nft -c, dnsmasq --test, unbound-checkconf, yara-x, pySigma,
      stix2-validator, PyMISP) and by counting entries: exactly one entry per valid indicator.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from test_exports import dns_query_packet, tool, write, write_pcap
from tracehound.intel.formats import read_pack
from tracehound.intel.model import Indicator, IType, Pack
from tracehound.outputs.exports import FORMATS
from tracehound.outputs.exports.select import ExportOptions, Selection, select

SHA256 = hashlib.sha256(b"hostile export test payload").hexdigest()
MD5 = hashlib.md5(b"hostile export test payload").hexdigest()

# (type, value as the feed writes it, canonical value)
VALID = [
    ("domain", "good.example", "good.example"),
    ("domain", "trail.example\n", "trail.example"),  # a trailing line end is layout, not content
    ("domain", "bücher.example", "xn--bcher-kva.example"),  # IDN -> punycode
    ("ipv4", "203.0.113.7", "203.0.113.7"),
    ("ipv6", "2001:DB8::7", "2001:db8::7"),
    ("cidr", "198.51.100.0/24", "198.51.100.0/24"),
    ("url", "http://c2.example/a%0Ab", "http://c2.example/a%0Ab"),  # escapes stay escaped
    ("url", "http://c2.example/x%09y%0D", "http://c2.example/x%09y%0D"),
    ("url", 'http://c2.example/p;"|\\x', 'http://c2.example/p;"|\\x'),  # Suricata's own separators
    ("sha256", SHA256, SHA256),
    ("md5", MD5, MD5),
]
INJECT = "update.microsoft.com A 6.6.6.6"
# (type, value, words of the expected reason)
HOSTILE = [
    ("ipv6", f"fe80::1%\n{INJECT}", "U+000A"),
    ("ipv6", "fe80::1%\r\npass ip any any -> any any (sid:1;)", "U+000D"),
    ("ipv6", "fe80::1%eth0", "scope id"),
    ("ipv6", "fe80::1%inject\u2028evil", "U+2028"),
    ("ipv6", "fe80::1%inject\x00evil", "U+0000"),
    ("ipv6", "fe80::1%inject\u0085evil", "U+0085"),
    ("ipv6", "fe80::1%inject\x1eevil", "U+001E"),
    ("ipv6", "fe80::1%inject\tevil", "U+0009"),
    ("ipv4", "10.9.9.9\n0.0.0.0-255.255.255.255", "U+000A"),
    ("cidr", "0.0.0.0/0", "too broad"),
    ("cidr", "fe80::%inject/64", "scope id"),
    ("domain", "evil.example\n.", "U+000A"),
    ("domain", "evil.ex\rample", "U+000D"),
    ("domain", "inject\x00.evil.example", "U+0000"),
    ("domain", "inject\u2028evil.example", "U+2028"),
    ("domain", "inject\u2029evil.example", "U+2029"),
    ("domain", "inject\u200b.evil.example", "U+200B"),
    ("domain", "*.evil.example", "wildcard"),
    ("domain", 'inject";evil.example', "invalid domain"),
    ("url", "http://*/", "wildcard"),
    ("url", "http://*.com", "wildcard"),
    ("url", "http://evil.example/inject\nHost: x", "U+000A"),
    ("url", "http://evil.example/inject\u2028", "U+2028"),
    ("url", "http://[fe80::1%25inject]/", "scope id"),
    ("sha256", SHA256[:-1] + "\n", "hex digits"),
]
MARKERS = ("inject", "evil", "6.6.6.6", "microsoft", "pass ip", "0.0.0.0-255", "fe80")

CANONICAL = {(t, c) for t, _, c in VALID}


def by_type(*types: str) -> list[str]:
    return sorted(c for t, _, c in VALID if t in types)


# ---- (a) reading: every input format ---------------------------------------------------------
def native(rows: list[tuple[str, str]]) -> str:
    return json.dumps({"format": "tracehound-pack", "version": 1, "name": "hostile",
                       "indicators": [{"type": t, "value": v} for t, v in rows]})


def csv_pack(rows: list[tuple[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["type", "value"])
    w.writerows(rows)
    return buf.getvalue()


MISP_TYPE = {"domain": "domain", "url": "url", "sha256": "sha256", "md5": "md5", "ipv4": "ip-dst", "ipv6": "ip-dst",
             "cidr": "ip-dst"}


def misp(rows: list[tuple[str, str]]) -> str:
    return json.dumps({"Event": {"info": "hostile", "date": "2026-01-01",
                                 "Attribute": [{"type": MISP_TYPE[t], "value": v, "to_ids": True} for t, v in rows]}})


STIX_PATH = {"domain": "domain-name:value", "url": "url:value", "sha256": "file:hashes.'SHA-256'",
             "md5": "file:hashes.MD5", "ipv4": "ipv4-addr:value", "ipv6": "ipv6-addr:value"}


def stix(rows: list[tuple[str, str]]) -> str:
    def quoted(v: str) -> str:
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"

    objs = []
    for n, (t, v) in enumerate(rows):
        path = STIX_PATH.get(t) or ("ipv6-addr:value" if ":" in v else "ipv4-addr:value")
        objs.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
                     "pattern": f"[{path} = {quoted(v)}]", "pattern_type": "stix", "confidence": 80})
    return json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objs})


FORMATS_IN = {"json": native, "csv": csv_pack, "misp": misp, "stix": stix}


@pytest.mark.parametrize("fmt", sorted(FORMATS_IN))
def test_reading_rejects_hostile_values_with_reason(tmp_path: Path, fmt: str) -> None:
    f = tmp_path / f"hostile.{fmt}"
    hostile = HOSTILE  # in CSV, a raw NUL byte gets its row refused ("NUL byte (U+0000) in the row"), not the file
    f.write_text(FORMATS_IN[fmt]([(t, v) for t, v, _ in VALID + hostile]), encoding="utf-8")
    pack = read_pack(str(f))
    rejected = pack.rejections()
    for e in pack.excluded:  # the pack keeps refused values escaped: no control character survives
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b]", e.value + e.reason), e
    # STIX too: the pattern parser is a linear scan that does not stop at a raw newline, so a value
    # a newline cuts reaches the canonical gate and is refused there with its reason, like every format.
    assert {(i.type.value, i.value) for i in pack.indicators} == CANONICAL
    assert len(rejected) == len(hostile), [e.to_dict() for e in rejected]
    for e, (_t, _v, why) in zip(rejected, hostile, strict=True):
        assert why in e.reason, (e.to_dict(), why)


def test_loki_rejects_hostile_values(tmp_path: Path) -> None:
    d = tmp_path / "loki"
    d.mkdir()
    # Loki lines end at \n: values holding one are two lines by the file's own grammar, so they are left out here
    net = [(t, v) for t, v, _ in VALID + HOSTILE if t in ("domain", "ipv4", "ipv6", "cidr") and "\n" not in v.rstrip("\n")]
    (d / "c2-iocs.txt").write_text("# hostile c2\n" + "\n".join(v.rstrip("\n") + ";90" for _, v in net) + "\n",
                                   encoding="utf-8")
    (d / "hash-iocs.txt").write_text(f"{SHA256};payload\n{MD5};payload\n{SHA256[:-1]}\u2028;evil\n", encoding="utf-8")
    pack = read_pack(str(d))
    assert {(i.type.value, i.value) for i in pack.indicators} == {k for k in CANONICAL if k[0] != "url"}
    hostile_net = [v for t, v, _ in HOSTILE if t in ("domain", "ipv4", "ipv6", "cidr") and "\n" not in v]
    assert len(pack.rejections()) == len(hostile_net) + 1
    assert all(e.line > 0 and e.document.endswith(".txt") for e in pack.rejections())


def test_cli_reports_rejections_on_load_convert_merge_and_show(tmp_path: Path, capsys) -> None:
    f = tmp_path / "hostile.json"
    f.write_text(native([(t, v) for t, v, _ in VALID + HOSTILE]), encoding="utf-8")
    code, out, err = run_cli(["intel", "convert", str(f), "-f", "json"], capsys)
    assert code == 0 and f"{len(HOSTILE)} values rejected" in err and "U+000A" in err and "scope id" in err
    assert "\u2028" not in err and "\x00" not in err
    converted = json.loads(out)
    assert len([e for e in converted["excluded"] if e["reason"].startswith("rejected: ")]) == len(HOSTILE)
    code, _, err = run_cli(["intel", "merge", str(f), "3cx", "-o", str(tmp_path / "m.json")], capsys)
    assert code == 0 and f"{len(HOSTILE)} values rejected" in err
    code, out, _ = run_cli(["intel", "show", "--intel", str(f)], capsys)
    assert code == 0 and f"{len(HOSTILE)} value(s) rejected" in out and "and 5 more" in out
    only_bad = tmp_path / "bad.csv"
    only_bad.write_text(csv_pack([(t, v) for t, v, _ in HOSTILE if "\x00" not in v]), encoding="utf-8")
    code, _, err = run_cli(["export", "-f", "hosts", "--intel", str(only_bad)], capsys)
    assert code == 2 and "no valid indicator" in err and "bad.csv" in err


def test_show_says_when_it_cuts(tmp_path: Path, capsys) -> None:
    ips = [f"198.51.100.{n}" for n in range(1, 12)]
    f = tmp_path / "p.csv"
    buf = io.StringIO()
    csv.writer(buf).writerows([["type", "value", "context"], ["domain", "c2.example", json.dumps({"resolves_to": ips})]])
    f.write_text(buf.getvalue())
    code, out, _ = run_cli(["intel", "show", "--intel", str(f)], capsys)
    flat = re.sub(r"[\s│]+", " ", out)
    assert code == 0 and "198.51.100[.]4 … (+7 more, 11 in all)" in flat, out  # context addresses defanged
    assert "198.51.100[.]5" not in flat


# ---- (b) writing: every exporter, values bypassing (a) ---------------------------------------
def bypass_pack() -> Pack:
    """Canonical valid indicators plus the hostile values as they are, never canonicalised."""
    pack = Pack(name="hostile")
    for t, _, c in VALID:
        pack.add(Indicator(IType(t), c))
    for t, v, _ in HOSTILE:
        pack.add(Indicator(IType(t), v))
    return pack


def read_hostile(tmp_path: Path) -> Pack:
    f = tmp_path / "in.json"
    f.write_text(native([(t, v) for t, v, _ in VALID + HOSTILE]))
    pack = read_pack(str(f))
    pack.name = "hostile"
    return pack


@pytest.fixture(params=["bypass", "read"])
def hostile(request, tmp_path: Path) -> tuple[Selection, ExportOptions]:
    pack = bypass_pack() if request.param == "bypass" else read_hostile(tmp_path)
    options = ExportOptions()
    return select(pack, options), options


def run(sel_opt: tuple[Selection, ExportOptions], fmt: str) -> dict[str, str]:
    sel, opt = sel_opt
    return FORMATS[fmt].exporter(sel, opt)


def no_markers(files: dict[str, str]) -> None:
    for name, text in files.items():
        text = text.replace("\r\n", "\n") if name.endswith(".csv") else text  # CSV records end with CRLF
        for m in MARKERS:
            assert m not in text, (name, m)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b]", text), name
        assert "\t" not in text or name.endswith(".intel"), name


def body(text: str, comment: str = "#") -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(comment)]


def test_suricata_one_rule_per_valid_indicator_and_replay(hostile, tmp_path: Path) -> None:
    files = run(hostile, "suricata")
    no_markers(files)
    rules = body(next(iter(files.values())))
    assert all(r.startswith("alert ") and r.endswith(";)") for r in rules)
    n = 3 * len(by_type("domain")) + len(by_type("url")) + len(by_type("ipv4", "ipv6", "cidr"))
    assert len(rules) == n
    assert 'http.uri; content:"/p|3b||22||7c||5c|x"; startswith;' in "\n".join(rules)  # ; " | \ as bytes
    assert 'http.uri; content:"/a|0a|b"' in "\n".join(rules)  # the decoded %0A is a byte, not a line break
    sel, _ = hostile
    assert len([r for r in sel.refused if r[0] == "suricata"]) == len([h for h in HOSTILE if h[0] in
                                                                       ("domain", "url", "ipv4", "ipv6", "cidr")]) \
        or sel.refused == []  # read path: (a) already refused them
    suricata = tool("suricata")
    path = write(tmp_path, files)[0]
    r = subprocess.run([suricata, "-T", "-v", "-S", str(path), "-l", str(tmp_path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"{n} rules successfully loaded, 0 rules failed" in r.stdout + r.stderr
    # replay: the feed's own C2 is still detected (no injected pass rule), the injected name is not a rule
    pcap = tmp_path / "dns.pcap"
    write_pcap(pcap, [dns_query_packet("good.example", txid=1), dns_query_packet("x.trail.example", txid=2),
                      dns_query_packet("update.microsoft.com", txid=3)])
    logs = tmp_path / "logs"
    logs.mkdir()
    r = subprocess.run([suricata, "-r", str(pcap), "-S", str(path), "-l", str(logs), "-k", "none"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    alerts = [json.loads(ln) for ln in (logs / "eve.json").read_text().splitlines() if '"event_type":"alert"' in ln]
    assert sorted(a["alert"]["signature"].split(" - ")[1] for a in alerts) == [
        "C2 domain good.example in DNS query", "C2 domain trail.example in DNS query"]


def test_rpz_named_checkzone_counts(hostile, tmp_path: Path) -> None:
    files = run(hostile, "rpz")
    no_markers(files)
    zone = write(tmp_path, files)[0]
    r = subprocess.run([tool("named-checkzone"), "-D", "-o", "-", "rpz.test", str(zone)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    owners = sorted(ln.split()[0] for ln in r.stdout.splitlines() if "CNAME" in ln.split())
    want = sorted([f"{d}.rpz.test." for d in by_type("domain")] + [f"*.{d}.rpz.test." for d in by_type("domain")]
                  + ["32.7.113.0.203.rpz-ip.rpz.test.", "128.7.zz.db8.2001.rpz-ip.rpz.test.",
                     "24.0.100.51.198.rpz-ip.rpz.test."])
    assert owners == want
    assert len([ln for ln in r.stdout.splitlines() if ln.split() and ln.split()[3] == "A"]) == 0  # no injected A record


def test_dns_configs_check_and_count(hostile, tmp_path: Path) -> None:
    domains = by_type("domain")
    hosts = run(hostile, "hosts")
    dm = run(hostile, "dnsmasq")
    ub = run(hostile, "unbound")
    for files in (hosts, dm, ub):
        no_markers(files)
    assert sorted(ln.split()[1] for ln in body(next(iter(hosts.values())))) == domains
    dm_path = write(tmp_path, dm)[0]
    assert sorted(ln[len("address=/"):-1] for ln in body(dm_path.read_text())) == domains
    r = subprocess.run([tool("dnsmasq"), "--test", f"--conf-file={dm_path}"], capture_output=True, text=True)
    assert r.returncode == 0 and "syntax check OK" in r.stdout + r.stderr, r.stdout + r.stderr
    ub_path = write(tmp_path, ub)[0]
    zones = [ln.split('"')[1] for ln in body(ub_path.read_text()) if "local-zone" in ln]
    assert zones == [f"{d}." for d in domains] and len(body(ub_path.read_text())) == len(domains) + 1  # + 'server:'
    r = subprocess.run([tool("unbound-checkconf"), str(ub_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_firewall_nft_ipset_lists_count(hostile, tmp_path: Path) -> None:
    v4, v6 = ["198.51.100.0/24", "203.0.113.7"], ["2001:db8::7"]
    nft_files = run(hostile, "nftables")
    no_markers(nft_files)
    text = next(iter(nft_files.values()))
    elements = [ln.split("{", 1)[1].rsplit("}", 1)[0].split(",") for ln in text.splitlines() if "elements" in ln]
    assert [sorted(e.strip() for e in el) for el in elements] == [v4, v6]
    nft = write(tmp_path, nft_files)[0]
    r = subprocess.run([tool("nft"), "-c", "-f", str(nft)], capture_output=True, text=True)
    if r.returncode != 0 and "Operation not permitted" in r.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert r.returncode == 0, r.stderr
    ipset = body(next(iter(run(hostile, "ipset").values())))
    assert all(re.fullmatch(r"(create \S+ hash:net family inet6? -exist|add \S+ [0-9a-f.:/]+ -exist)", ln) for ln in ipset)
    assert sorted(ln.split()[2] for ln in ipset if ln.startswith("add")) == sorted(v4 + v6)
    lists = run(hostile, "lists")
    no_markers(lists)
    ips = lists["hostile-ip.txt"].splitlines()
    assert sorted(ips) == sorted(v4 + v6) and all(ipaddress.ip_network(x) for x in ips)
    assert lists["hostile-domain.txt"].splitlines() == by_type("domain")
    urls = lists["hostile-url.txt"].splitlines()
    want_urls = ["c2.example/a%0Ab", "c2.example/p;\"|\\x", "c2.example/x%09y%0D"]
    assert sorted(urls) == sorted(want_urls + by_type("domain") + [f"*.{d}" for d in by_type("domain")])
    assert not any(" " in u for u in urls)


def test_zeek_intel_fields(hostile) -> None:
    files = run(hostile, "zeek")
    no_markers(files)
    lines = next(iter(files.values())).split("\n")[:-1]
    assert lines[0].startswith("#fields\t") and all(len(ln.split("\t")) == 6 for ln in lines[1:])
    items = sorted(ln.split("\t")[0] for ln in lines[1:])
    assert items == sorted(by_type("domain", "ipv4", "ipv6", "cidr", "sha256", "md5")
                           + ["c2.example/a%0Ab", "c2.example/x%09y%0D", "c2.example/p;\"|\\x"])


def test_sigma_rules_parse_and_count(hostile) -> None:
    from sigma.backends.splunk import SplunkBackend
    from sigma.collection import SigmaCollection

    files = run(hostile, "sigma")
    no_markers(files)
    assert all(text.isascii() for text in files.values())
    values: dict[str, list[str]] = {}
    for name, text in files.items():
        coll = SigmaCollection.from_yaml(text)
        assert not coll.errors, (name, coll.errors)
        assert SplunkBackend().convert(coll)
        for key, sel_ in json.loads(text)["detection"].items():
            if key != "condition":
                for f, v in sel_.items():
                    values.setdefault(f"{name}:{f}", []).extend(v if isinstance(v, list) else [v])
    dns = [v for k, v in values.items() if "dns_query" in k and k.endswith(":QueryName")][0]
    assert sorted(dns) == by_type("domain")
    assert sorted(next(v for k, v in values.items() if k.endswith(":DestinationIp"))) == sorted(by_type("ipv4", "ipv6"))
    uri = sorted(next(v for k, v in values.items() if k.endswith(":c-uri|contains")))
    assert uri == sorted(["/a%0Ab", "/x%09y%0D", '/p;"|\\\\x'])  # a backslash escaped for Sigma
    assert "*" not in "".join(str(v) for v in values.values())  # no wildcard host ever reaches a rule
    hashes = next(v for k, v in values.items() if "process_creation" in k)
    assert sorted(hashes) == sorted([f"MD5={MD5.upper()}", f"SHA256={SHA256.upper()}"])


def test_yara_compiles_one_rule_per_hash(hostile) -> None:
    import yara_x

    files = run(hostile, "yara")
    no_markers(files)
    rules = yara_x.compile(next(iter(files.values())))
    assert len(rules.scan(b"hostile export test payload").matching_rules) == 2
    assert next(iter(files.values())).count("\nrule ") == 2


def test_defender_csv_rows(hostile) -> None:
    files = run(hostile, "defender")
    no_markers(files)
    rows = list(csv.reader(io.StringIO(files["hostile-defender-001.csv"])))[1:]
    values = sorted(r[1] for r in rows)
    assert values == sorted(by_type("domain", "ipv4", "ipv6", "url", "sha256"))  # no MD5, no CIDR: see README


def test_stix_and_misp_exchange(hostile) -> None:
    from pymisp import MISPEvent
    from stix2validator import ValidationOptions, validate_string

    stix_text = next(iter(run(hostile, "stix").values()))
    no_markers({"stix": stix_text})
    assert validate_string(stix_text, ValidationOptions(version="2.1", strict=True)).is_valid
    inds = [o for o in json.loads(stix_text)["objects"] if o["type"] == "indicator"]
    assert len(inds) == len(VALID)
    ev = MISPEvent()
    misp_text = next(iter(run(hostile, "misp").values()))
    no_markers({"misp": misp_text})
    ev.load(misp_text)
    assert sorted(a.value for a in ev.attributes) == sorted(c for _, _, c in VALID)


def test_export_all_readme_names_the_files_and_what_formats_cannot_carry(tmp_path: Path, capsys) -> None:
    f = tmp_path / "hostile.json"
    f.write_text(native([(t, v) for t, v, _ in VALID + HOSTILE]))
    out = tmp_path / "out"
    code, _, err = run_cli(["export", "--all", "--intel", str(f), "-o", str(out)], capsys)
    assert code == 0, err
    assert f"{len(HOSTILE)} values rejected" in err
    readme = (out / "README.txt").read_text()
    present = sorted(p.name for p in out.iterdir() if p.name != "README.txt")
    listed = sorted(ln.strip() for ln in readme.split("\n\n")[1].splitlines() if ln.startswith("      ")
                    and not ln.strip().startswith("("))
    assert listed == present
    mentioned = set(re.findall(r"[\w.-]+\.(?:rules|yml|yar|intel|zone|hosts|conf|nft|ipset|csv|json|xml|txt)\b", readme))
    assert mentioned - {"README.txt", f.name} <= set(present), mentioned - set(present)  # f: where rejections were read
    assert f"Rejected when the pack was read ({len(HOSTILE)};" in readme and "scope id" in readme
    assert "md5 (1)" in readme and "not in defender" in readme and "no MD5" in readme
    assert "cidr (1)" in readme and "no CIDR" in readme
    for name in present:
        no_markers({name: (out / name).read_text()})


# ---- real third-party feeds: the allow-lists refuse nothing legitimate -----------------------
def test_real_feeds_pass_the_allow_lists_and_every_exporter(samples: Path, tmp_path: Path) -> None:
    from tracehound.intel.model import canonical_value

    # every value of the events, context (to_ids false) too: the allow-lists must refuse nothing legitimate
    packs = {f.name: read_pack(str(f), include_context=True) for f in sorted((samples / "misp-events").glob("*.json"))}
    for name in ("c2-iocs.txt", "hash-iocs.txt"):  # (filename-iocs: regexes, no exporter writes them)
        packs[name] = read_pack(str(samples / "loki-iocs" / name))
    rejected = [(name, e.value, e.reason) for name, p in packs.items() for e in p.rejections()]
    # the only value refused in 8 MISP events and the Loki C2 and hash IOCs: a 'uri' attribute that is a bare path
    assert [(n, v) for n, v, _ in rejected] == [("oceanlotus_oceanlotus-macOS.misp.event.json",
                                                 "/dp/B074WC4NHW/ref=gbps_img_m-9_62c3_750e6b35")]
    merged = Pack(name="real")
    for p in packs.values():
        merged.merge(p)
    assert all(canonical_value(i.type, i.value) == i.value for i in merged.indicators)  # canonical is a fixed point
    options = ExportOptions(min_confidence=0)
    sel = select(merged, options)
    # (stix2 takes ~2.5 ms an indicator, 14 s here: the exchange formats are covered by the hostile tests above)
    out = {name: fmt.exporter(sel, options) for name, fmt in FORMATS.items() if name not in ("stix", "misp")}
    assert sel.refused == []  # the exporters' own checks refuse no real indicator
    rules = write(tmp_path, out["suricata"])[0]
    r = subprocess.run([tool("suricata"), "-T", "-S", str(rules), "-l", str(tmp_path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    zone = write(tmp_path, out["rpz"])[0]
    r = subprocess.run([tool("named-checkzone"), "rpz.test", str(zone)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- hostile free text: titles, context, certificate subjects ---------------------------------
BAD_TEXT = 'Évil\u2028camp\r\n; "x" | \\ \x00 -- <&> \u202e\u0085 tab\there'


def test_hostile_titles_and_context_stay_text(tmp_path: Path, monkeypatch) -> None:
    import xml.etree.ElementTree as ET

    import yara_x
    from sigma.collection import SigmaCollection

    from tracehound.outputs.exports import edr

    pack = Pack(name="h\nx", title=BAD_TEXT, campaign=BAD_TEXT)
    pack.add(Indicator(IType.DOMAIN, "good.example", {"stage": BAD_TEXT, "file_name": BAD_TEXT}))
    pack.add(Indicator(IType.SHA256, SHA256, {"file_name": BAD_TEXT, "label": BAD_TEXT}))
    pack.add(Indicator(IType.CERT_SHA1, "a" * 40, {"signer": BAD_TEXT}))
    monkeypatch.setattr(edr, "load_certificate", lambda path: edr.CertDigests(BAD_TEXT, "a" * 40, "b" * 64, "sha256", "c" * 64))
    options = ExportOptions(certificate="unused.pem")
    sel = select(pack, options)
    out = {name: fmt.exporter(sel, options) for name, fmt in FORMATS.items()}
    for fmt, files in out.items():
        for name, text in files.items():
            if fmt not in ("stix", "misp"):  # JSON: the writer escapes; everything else must hold no raw control
                text = text.replace("\r\n", "\n") if name.endswith(".csv") else text
                assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202e]", text), (fmt, name)
                assert "\t" not in text or name.endswith(".intel"), name
            else:
                json.loads(text)
    assert len(body(out["suricata"]["h_x.rules"])) == 3
    r = subprocess.run([tool("suricata"), "-T", "-v", "-S", str(write(tmp_path, out["suricata"])[0]), "-l", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "3 rules successfully loaded, 0 rules failed" in r.stdout + r.stderr, r.stdout[-2000:]
    assert len(yara_x.compile(out["yara"]["h_x.yar"]).scan(b"hostile export test payload").matching_rules) == 1
    for text in out["sigma"].values():
        assert not SigmaCollection.from_yaml(text).errors
    lines = out["zeek"]["h_x.intel"].split("\n")[:-1]
    assert len(lines) == 4 and all(len(ln.split("\t")) == 6 for ln in lines[1:])
    ET.fromstring("<r>" + out["appcontrol"]["wdac-signer.xml"] + "</r>")  # well-formed despite <&> and --


def test_advisory_extraction_shows_rejected_urls(tmp_path: Path) -> None:
    from tracehound.intel.extract import ExtractOptions, extract_files

    adv = tmp_path / "adv.txt"
    adv.write_text("Security advisory: Evil campaign\n\nThe implant contacts http://*.com/gate and "
                   "http://c2.example.com/a\u200bb and http://[fe80::1%25eth0]/x.\n"
                   "Block the domain c2good.example.com and the address 203.0.113.9.\n", encoding="utf-8")
    pack = extract_files([str(adv)], ExtractOptions()).pack
    assert {(i.type.value, i.value) for i in pack.indicators} == {("domain", "c2good.example.com"), ("ipv4", "203.0.113.9")}
    reasons = sorted((e.line, e.reason) for e in pack.rejections())
    assert [r for _, r in reasons] == sorted(["rejected: wildcard host in URL: an indicator names one host",
                                              "rejected: format character U+200B",
                                              "rejected: IPv6 scope id ('%...') is not part of an indicator"])
    assert {line for line, _ in reasons} == {3}


def test_nft_overlapping_networks_do_not_break_the_file(tmp_path: Path) -> None:
    # nft refuses a whole interval-set file when two elements overlap: one feed entry inside another
    # feed network would unblock every C2. The export merges them; nft -c accepts the file.
    f = tmp_path / "ov.csv"
    f.write_text(csv_pack([("cidr", "198.51.100.0/24"), ("ipv4", "198.51.100.7"), ("ipv4", "203.0.113.7"),
                           ("cidr", "203.0.113.0/25"), ("ipv4", "192.0.2.1"), ("ipv6", "2001:db8::7"),
                           ("cidr", "2001:db8::/32")]))
    options = ExportOptions()
    files = FORMATS["nftables"].exporter(select(read_pack(str(f)), options), options)
    text = next(iter(files.values()))
    assert [ln.strip() for ln in text.splitlines() if "elements" in ln] == [
        "elements = { 192.0.2.1, 198.51.100.0/24, 203.0.113.0/25 }", "elements = { 2001:db8::/32 }"]
    r = subprocess.run([tool("nft"), "-c", "-f", str(write(tmp_path, files)[0])], capture_output=True, text=True)
    if r.returncode != 0 and "Operation not permitted" in r.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert r.returncode == 0, r.stderr


def test_yara_hashes_sharing_a_prefix_do_not_break_the_file() -> None:
    # rule names carry 16 hex digits; a feed can add a fake hash with a real one's prefix: the two
    # names would collide and YARA refuse every rule of the file
    import yara_x

    payload = b"hostile export test payload"
    pack = Pack(name="p")
    pack.add(Indicator(IType.SHA256, SHA256))
    pack.add(Indicator(IType.SHA256, SHA256[:16] + "0" * 48))
    pack.add(Indicator(IType.MD5, MD5))
    options = ExportOptions()
    src = next(iter(FORMATS["yara"].exporter(select(pack, options), options).values()))
    rules = yara_x.compile(src)
    assert src.count("\nrule ") == 3
    assert [r.identifier for r in rules.scan(payload).matching_rules] == [f"TRACEHOUND_P_SHA256_{SHA256}",
                                                                          f"TRACEHOUND_P_MD5_{MD5[:16]}"]


@pytest.mark.parametrize(("itype", "value", "canonical"), [
    ("asn", "AS 22612", "AS22612"),
    ("url", "HTTP://Evil.COM:80/X y", "http://evil.com/X%20y"),
    ("url", "http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
    ("url", "https://bücher.example/p", "https://xn--bcher-kva.example/p"),
    ("url", "github.com/IconStorages/images", "github.com/IconStorages/images"),
    ("cidr", "192.0.2.1", "192.0.2.1/32"),
    ("email", "a.b@Bücher.example", "a.b@xn--bcher-kva.example"),
    ("cert-sha1", "87 c6 d5 53 a2 96 d7 47 34 51 d5 3c aa 29 8e fa 9b 48 70 ad", "87c6d553a296d7473451d53caa298efa9b4870ad"),
    ("domain", "a b.example", None), ("domain", "a\u00a0b.example", None), ("domain", "a.b\u3000", None),
    ("ipv4", "010.1.2.3", None), ("ipv6", "fe80::1%25", None), ("cidr", "::/0", None), ("cidr", "10.0.0.0/7", None),
    ("url", "http://a.example:99999/", None), ("url", "http://localhost/", None), ("email", "a b@c.example", None),
    ("filename", "a\u202egpj.exe", None), ("software", "App\u2029", None), ("domain", "x" * 5000 + ".com", None),
])
def test_canonical_allow_lists(itype: str, value: str, canonical: str | None) -> None:
    from tracehound.intel.model import canonical_value

    if canonical is None:
        with pytest.raises(ValueError):
            canonical_value(IType(itype), value)
    else:
        assert canonical_value(IType(itype), value) == canonical
        assert canonical_value(IType(itype), canonical) == canonical  # a fixed point
