"""Exports, each fed to the real parser or validator of its tool (skipped with the reason when
the tool is absent; CI installs them all)."""

import csv
import hashlib
import json
import shutil
import socket
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from tracehound.defang import defang
from tracehound.intel.builtin import load_intel
from tracehound.intel.formats import read_pack
from tracehound.intel.model import IType
from tracehound.outputs.exports import FORMATS
from tracehound.outputs.exports.select import ExportOptions, select


def tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if not path:
        pytest.skip(f"{name} not installed (CI installs it with scripts/install-system-deps.sh)")
    return path


def export(pack, fmt: str, **kw) -> dict[str, str]:
    options = ExportOptions(**kw)
    return FORMATS[fmt].exporter(select(pack, options), options)


def write(tmp_path: Path, files: dict[str, str]) -> list[Path]:
    out = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        out.append(tmp_path / name)
    return out


# ---- Suricata -------------------------------------------------------------------------------
def dns_query_packet(name: str, src: str = "10.0.0.5", dst: str = "10.0.0.53", txid: int = 0x1234) -> bytes:
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\x00"
    dns = struct.pack(">HHHHHH", txid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
    udp = struct.pack(">HHHH", 40000 + txid % 1000, 53, 8 + len(dns), 0) + dns
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), txid, 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    csum = sum(struct.unpack(">10H", ip))
    csum = (csum >> 16) + (csum & 0xFFFF)
    ip = ip[:10] + struct.pack(">H", ~(csum + (csum >> 16)) & 0xFFFF) + ip[12:]
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + udp


def write_pcap(path: Path, packets: list[bytes]) -> None:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for n, p in enumerate(packets):
        out += struct.pack("<IIII", 1680000000 + n, 0, len(p), len(p)) + p
    path.write_bytes(out)


def test_suricata_rules_load(pack3cx, tmp_path: Path) -> None:
    suricata = tool("suricata")
    rules = write(tmp_path, export(pack3cx, "suricata"))[0]
    text = rules.read_text()
    assert 'dns.query; dotprefix; content:".akamaicontainer.com"; nocase; endswith;' in text
    assert '".github.com"' not in text  # github.com is never a domain rule
    assert all('http.uri; content:"/IconStorages/images"; startswith;' in line
               for line in text.splitlines() if 'content:"github.com"' in line)  # only with the URL's path
    r = subprocess.run([suricata, "-T", "-S", str(rules), "-l", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_suricata_dns_rule_fires_on_subdomain_not_lookalike(pack3cx, tmp_path: Path) -> None:
    suricata = tool("suricata")
    rules = write(tmp_path, export(pack3cx, "suricata"))[0]
    pcap = tmp_path / "dns.pcap"
    write_pcap(pcap, [dns_query_packet("x.akamaicontainer.com", txid=1), dns_query_packet("notakamaicontainer.com", txid=2),
                      dns_query_packet("www.example.com", txid=3)])
    logs = tmp_path / "logs"
    logs.mkdir()
    r = subprocess.run([suricata, "-r", str(pcap), "-S", str(rules), "-l", str(logs), "-k", "none"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    alerts = [json.loads(line) for line in (logs / "eve.json").read_text().splitlines() if '"event_type":"alert"' in line]
    queried = sorted({a["dns"]["query"][0]["rrname"] if "query" in a.get("dns", {}) else a.get("dns", {}).get("rrname", "")
                      for a in alerts})
    assert len(alerts) == 1 and "akamaicontainer.com" in alerts[0]["alert"]["signature"], (alerts, queried)


# ---- Sigma ----------------------------------------------------------------------------------
def test_sigma_rules_validate_and_convert(pack3cx) -> None:
    from sigma.backends.elasticsearch import LuceneBackend
    from sigma.backends.splunk import SplunkBackend
    from sigma.collection import SigmaCollection
    from sigma.validation import SigmaValidator
    from sigma.validators.core import validators

    files = export(pack3cx, "sigma")
    assert len(files) == 7
    for name, text in files.items():
        coll = SigmaCollection.from_yaml(text)
        assert not coll.errors, (name, coll.errors)
        # every core validator except those that download MITRE ATT&CK / D3FEND data (no network here)
        offline = [v for k, v in validators.items() if k not in ("attacktag", "d3_fendtag")]
        issues = SigmaValidator(offline).validate_rules(coll)
        assert not [i for i in issues if i.severity.name in ("HIGH", "MEDIUM")], (name, issues)
        splunk = SplunkBackend().convert(coll)
        lucene = LuceneBackend().convert(coll)
        assert splunk and lucene
        if "dns_query" in name:
            q = splunk[0]
            assert q.startswith("QueryName IN (") and '"akamaicontainer.com"' in q and '"*.akamaicontainer.com"' in q
            assert '"*akamaicontainer.com' not in q  # never a bare suffix/substring: look-alikes stay out


# ---- YARA -----------------------------------------------------------------------------------
def test_yara_hash_rule_fires_on_file_not_neighbour(tmp_path: Path) -> None:
    import yara_x

    payload, neighbour = b"payload bytes for the yara export test\n", b"payload bytes for the yara export test!\n"
    f = tmp_path / "p.csv"
    f.write_text(f"type,value\nsha256,{hashlib.sha256(payload).hexdigest()}\nmd5,{hashlib.md5(payload).hexdigest()}\n")
    rules = yara_x.compile(next(iter(export(read_pack(str(f)), "yara").values())))
    assert len(rules.scan(payload).matching_rules) == 2  # the SHA-256 and the MD5 rule
    assert len(rules.scan(neighbour).matching_rules) == 0


def signed_pe_and_pack(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A PE signed at test time and a pack holding its certificate's SHA-1 thumbprint."""
    from hosttree import sign_pe

    signed = sign_pe(tmp_path)
    if signed is None:
        pytest.skip("osslsigncode not installed (CI installs it)")
    exe, thumb = signed
    f = tmp_path / "c.csv"
    f.write_text(f"type,value\ncert-sha1,{thumb}\n")
    return exe, thumb, read_pack(str(f))


def test_yara_certificate_rule_on_signed_pe(tmp_path: Path) -> None:
    import yara_x

    exe, thumb, pack = signed_pe_and_pack(tmp_path)
    rules = yara_x.compile(next(iter(export(pack, "yara").values())))
    assert [r.identifier for r in rules.scan(exe.read_bytes()).matching_rules] == [f"TRACEHOUND_CSV_CERT_{thumb[:16]}"]
    unsigned = Path(__import__("setuptools").__file__).parent / "cli-64.exe"
    assert len(rules.scan(unsigned.read_bytes()).matching_rules) == 0


def test_3cx_yara_compiles_with_sweep_engine(pack3cx) -> None:
    import yara_x

    src = next(iter(export(pack3cx, "yara").values()))
    rules = yara_x.compile(src)
    assert src.count("\nrule ") + src.startswith("rule ") == 15  # 13 file hashes + 2 certificates
    assert rules is not None


# ---- DNS blocking ---------------------------------------------------------------------------
def test_rpz_zone_checks_and_blocks_subdomains(pack3cx, tmp_path: Path) -> None:
    checkzone = tool("named-checkzone")
    zone = write(tmp_path, export(pack3cx, "rpz"))[0]
    r = subprocess.run([checkzone, "-D", "-o", "-", "rpz.tracehound", str(zone)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    owners = {line.split()[0] for line in r.stdout.splitlines() if "CNAME" in line.split()}
    assert "akamaicontainer.com.rpz.tracehound." in owners and "*.akamaicontainer.com.rpz.tracehound." in owners
    assert not any("github.com" in o for o in owners)
    assert "32.159.229.0.162.rpz-ip.rpz.tracehound." in owners


def test_unbound_and_dnsmasq_configs_check(pack3cx, tmp_path: Path) -> None:
    unbound = write(tmp_path, export(pack3cx, "unbound"))[0]
    r = subprocess.run([tool("unbound-checkconf"), str(unbound)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'local-zone: "akamaicontainer.com." always_nxdomain' in unbound.read_text()
    dm = write(tmp_path, export(pack3cx, "dnsmasq"))[0]
    r = subprocess.run([tool("dnsmasq"), "--test", f"--conf-file={dm}"], capture_output=True, text=True)
    assert r.returncode == 0 and "syntax check OK" in (r.stdout + r.stderr), r.stdout + r.stderr
    assert "address=/akamaicontainer.com/" in dm.read_text() and "github.com" not in dm.read_text()
    hosts = next(iter(export(pack3cx, "hosts").values()))
    assert "0.0.0.0 akamaicontainer.com" in hosts and "github.com" not in hosts


# ---- firewall -------------------------------------------------------------------------------
def test_nftables_checks(pack3cx, tmp_path: Path) -> None:
    nft = write(tmp_path, export(pack3cx, "nftables"))[0]
    r = subprocess.run([tool("nft"), "-c", "-f", str(nft)], capture_output=True, text=True)
    if r.returncode != 0 and "Operation not permitted" in r.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert r.returncode == 0, r.stderr
    assert "162.0.229.159" in nft.read_text()


def test_lists_and_shared_hosting_option(pack3cx) -> None:
    files = export(pack3cx, "lists")
    assert "162.213.255.24" in files["3cx-ip.txt"]
    assert "*.akamaicontainer.com" in files["3cx-url.txt"] and "github.com/IconStorages/images" in files["3cx-url.txt"]
    assert "github.com\n" not in files["3cx-domain.txt"]
    shared = export(pack3cx, "lists", exclude_shared_hosting=True)
    assert shared["3cx-ip.txt"].strip() == ""
    ipset = next(iter(export(pack3cx, "ipset").values()))
    assert "create tracehound-3cx-v4 hash:net family inet -exist" in ipset and "add tracehound-3cx-v4 162.0.229.159 -exist" in ipset


# ---- EDR and application control ------------------------------------------------------------
def test_defender_csv_header_types_and_split(tmp_path: Path) -> None:
    from tracehound.outputs.exports.edr import DEFENDER_HEADER

    f = tmp_path / "big.csv"
    f.write_text("type,value\n" + "".join(f"domain,c2-{n}.example\n" for n in range(1201))
                 + "md5," + "a" * 32 + "\ncert-sha1," + "b" * 40 + "\ncidr,203.0.113.0/24\n")
    files = export(read_pack(str(f)), "defender", expire_days=30)
    csvs = sorted(n for n in files if n.endswith(".csv"))
    assert len(csvs) == 3
    rows = []
    for n in csvs:
        parsed = list(csv.reader(files[n].splitlines()))
        assert parsed[0] == DEFENDER_HEADER and len(parsed) - 1 <= 500
        rows += parsed[1:]
    assert len(rows) == 1201 and {r[0] for r in rows} == {"DomainName"}  # no MD5, no CIDR in the CSV import
    assert rows[0][2].endswith(".0Z") and rows[0][3] == "Block"
    body = json.loads(files["csv-defender-certificates.json"])  # CSV packs are named "csv"
    assert body["Indicators"][0]["indicatorType"] == "CertificateThumbprint" and body["Indicators"][0]["indicatorValue"] == "b" * 40


def test_defender_3cx(pack3cx) -> None:
    files = export(pack3cx, "defender")
    rows = list(csv.reader(files["3cx-defender-001.csv"].splitlines()))[1:]
    types = {r[0] for r in rows}
    assert types == {"FileSha1", "FileSha256", "IpAddress", "DomainName", "Url"}
    assert ["FileSha256", "5d99efa36f34aa6b43cd81e77544961c5c8d692c96059fef92c2df2624550734"] in [r[:2] for r in rows]
    certs = json.loads(files["3cx-defender-certificates.json"])["Indicators"]
    assert {c["indicatorValue"] for c in certs} == {"87c6d553a296d7473451d53caa298efa9b4870ad",
                                                    "7df5ed6d71b296ed073a5b3efbcdc4c916ba41be"}


def test_defender_one_row_per_normalised_value(pack3cx, tmp_path: Path, capsys) -> None:
    """The 3CX pack's schemeless URL and the same URL with http:// (another source): one Defender row."""
    schemeless = [i.value for i in pack3cx.of_type(IType.URL) if "://" not in i.value][0]
    f = tmp_path / "more.csv"
    f.write_text(f"type,value\nurl,http://{schemeless}\nurl,https://{schemeless}\n")
    pack = load_intel(["3cx", str(f)])
    assert {schemeless, f"http://{schemeless}"} <= {i.value for i in pack.of_type(IType.URL)}
    options = ExportOptions()
    sel = select(pack, options)
    files = FORMATS["defender"].exporter(sel, options)
    (name,) = [n for n in files if n.endswith("-defender-001.csv")]
    values = [r[1] for r in csv.reader(files[name].splitlines())][1:]
    assert values.count(f"http://{schemeless}") == 1 and values.count(f"https://{schemeless}") == 1
    assert len(values) == len(set(values))
    assert [(fmt, why) for fmt, _i, why in sel.refused if "one row" in why] == \
        [("defender", f"same Defender value as url '{defang(schemeless)}': one row")]
    out = tmp_path / "out"
    code, _, err = run_cli(["export", "-f", "defender", "--intel", "3cx", "--intel", str(f), "-o", str(out)], capsys)
    assert code == 0 and "one row" in err and "1 refused by a format" in err


def test_appcontrol_without_certificate_says_what_is_impossible(pack3cx) -> None:
    files = export(pack3cx, "appcontrol")
    assert list(files) == ["README-appcontrol.txt"]
    assert "Neither can be computed from a SHA-1 thumbprint" in files["README-appcontrol.txt"]


def test_appcontrol_with_signed_pe_matches_openssl(tmp_path: Path) -> None:
    exe, _thumb, pack = signed_pe_and_pack(tmp_path)
    files = export(pack, "appcontrol", certificate=str(exe))
    der = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "cert.pem"), "-outform", "DER"], capture_output=True,
                         check=True).stdout
    parsed = subprocess.run(["openssl", "asn1parse", "-inform", "DER"], input=der, capture_output=True, check=True).stdout
    second = parsed.decode().splitlines()[1]  # '    4:d=1  hl=4 l= 789 cons: SEQUENCE' = TBSCertificate
    off = int(second.split(":")[0])
    hl = int(second.split("hl=")[1].split()[0])
    length = int(second.split("l=")[2].split()[0]) if second.count("l=") > 1 else int(second.split(" l=")[1].split()[0])
    tbs = der[off : off + hl + length]
    santa = json.loads(files["santa-rules.json"])["rules"][0]
    assert santa["identifier"] == hashlib.sha256(der).hexdigest() and santa["rule_type"] == "CERTIFICATE"
    assert hashlib.sha256(tbs).hexdigest().upper() in files["wdac-signer.xml"]
    assert "matches the pack" in files["README-appcontrol.txt"]


# ---- exchange -------------------------------------------------------------------------------
def test_stix_and_misp_exports_validate(pack3cx) -> None:
    from pymisp import MISPEvent
    from stix2validator import ValidationOptions, validate_string

    stix = next(iter(export(pack3cx, "stix", expire_days=30).values()))
    assert validate_string(stix, ValidationOptions(version="2.1", strict=True)).is_valid
    ev = MISPEvent()
    ev.load(next(iter(export(pack3cx, "misp").values())))
    assert "akamaicontainer.com" in {a.value for a in ev.attributes}


# ---- the command ----------------------------------------------------------------------------
def test_export_all_with_readme(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(["export", "--all", "-o", str(tmp_path / "out")], capsys)
    assert code == 0, err
    readme = (tmp_path / "out" / "README.txt").read_text()
    for name in FORMATS:
        assert f"  {name}: " in readme
    assert "left out" in readme and "asn AS22612" in readme


def _pack_of(k: int):
    """k indicators of each exported type, shaped like the 3CX pack's (C2 names, hosting IPs, payload hashes)."""
    from tracehound.intel.model import Indicator, Pack

    pack = Pack(name="scale", title="scale test")
    for i in range(k):
        h = hashlib.sha256(str(i).encode())
        for t, v in ((IType.DOMAIN, f"c2-{i}.akamaicontainer.com"), (IType.IPV4, f"198.51.{i // 250}.{i % 250 + 1}"),
                     (IType.IPV6, f"2001:db8::{i + 1:x}"), (IType.CIDR, f"10.{i // 256}.{i % 256}.0/24"),
                     (IType.URL, f"https://c2-{i}.akamaicontainer.com/gate/{i}.php"), (IType.SHA256, h.hexdigest()),
                     (IType.SHA1, hashlib.sha1(str(i).encode()).hexdigest()),
                     (IType.MD5, hashlib.md5(str(i).encode()).hexdigest()),
                     (IType.CERT_SHA1, hashlib.sha1(b"cert" + str(i).encode()).hexdigest())):
            pack.add(Indicator(t, v, {"stage": ["Stage 1"]}, 80))
    return pack


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_cost_is_linear_in_the_indicators(fmt: str) -> None:
    """CPU time of select + export for 4x the indicators within 10x (a quadratic exporter is 16x); no wall
    clock (export speed is in bench/)."""
    from scaling import assert_linear

    options = ExportOptions()
    assert_linear(lambda pack: FORMATS[fmt].exporter(select(pack, options), options), _pack_of, 10 if fmt in
                  ("stix", "misp") else 40, what=fmt)


def test_export_errors(capsys, tmp_path: Path) -> None:
    code, _, err = run_cli(["export"], capsys)
    assert code == 2 and "--format FORMAT or --all" in err
    code, _, err = run_cli(["export", "-f", "defender"], capsys)
    assert code == 2 and "give -o DIR" in err
    code, out, _ = run_cli(["export", "-f", "hosts", "--types", "domain"], capsys)
    assert code == 0 and out.startswith("# tracehound pack 3cx")


def test_expire_and_types_options(pack3cx) -> None:
    only_ips = export(pack3cx, "lists", types=("ipv4",))
    assert only_ips["3cx-domain.txt"].strip() == "" and "162.0.229.159" in only_ips["3cx-ip.txt"]
    rules = next(iter(export(pack3cx, "suricata", expire_days=10).values()))
    assert "expires " in rules
    assert load_intel(None).name == "3cx"
