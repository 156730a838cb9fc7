"""Case and report: verdicts and correlation on a realistic case, idempotency, crash safety,
and the HTML report in headless Chromium."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from tracehound.findings.ecs import matched_indicators
from tracehound.outputs.case_store import Case
from tracehound.samples import EXPECTED_VERDICTS, HOSTS, XSS


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "run"
    from tracehound.cli import main

    try:
        main(["demo", "--out", str(out), "-j", "2"])
    except SystemExit as exc:
        assert exc.code == 0
    return out


def test_every_host_verdict(demo: Path) -> None:
    with Case(demo / "case") as c:
        verdicts = {h.host: h.verdict for h in c.hosts()}
    assert verdicts == EXPECTED_VERDICTS


def test_correlation_merges_log_identity_with_swept_host(demo: Path) -> None:
    with Case(demo / "case") as c:
        alice = next(h for h in c.hosts() if h.host == "WS-ALICE")
    sources = {f["tracehound"]["source"] for f in alice.evidence}
    assert sources == {"sweep", "hunt", "scope"}  # browser history + proxy/DNS contacts + inventory version
    assert HOSTS["WS-ALICE"][0] in alice.identities
    assert alice.swept and alice.first_contact and alice.first_contact.startswith("2023-03-22")
    assert {i["version"] for i in alice.installed} == {"18.12.416"}


def test_add_is_idempotent(demo: Path, capsys) -> None:
    case = demo / "case"
    with Case(case) as c:
        before = len(c.ingests()), c.db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
    code, _, err = run_cli(["case", "add", str(case), str(demo / "findings" / "hunt.jsonl")], capsys)
    assert code == 0 and "already in the case" in err
    with Case(case) as c:
        assert (len(c.ingests()), c.db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]) == before


def test_killed_add_leaves_case_consistent(demo: Path, tmp_path: Path, capsys) -> None:
    case = tmp_path / "case"
    shutil.copytree(demo / "case", case)
    big = tmp_path / "big.jsonl"
    line = (demo / "findings" / "hunt.jsonl").read_text().splitlines()[0]
    with big.open("w") as fh:
        for i in range(400_000):
            fh.write(line.replace('"line":', f'"n":{i},"line":') + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "tracehound", "case", "add", str(case), str(big)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wal = case / "case.sqlite-wal"
    deadline = time.time() + 60
    while time.time() < deadline and (not wal.exists() or wal.stat().st_size < 4 * 1024 * 1024):
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Case(case) as c:
        assert str(big) not in {i["path"] for i in c.ingests()}
        assert {h.host: h.verdict for h in c.hosts()} == EXPECTED_VERDICTS
    code, _, _ = run_cli(["report", str(case), "-f", "json", "-o", str(tmp_path / "r.json")], capsys)
    assert code == 0 and json.loads((tmp_path / "r.json").read_text())["counts"]["compromised"] == 2


def test_report_formats(demo: Path, tmp_path: Path, capsys) -> None:
    case = demo / "case"
    for fmt in ("md", "csv", "json"):
        code, _, _ = run_cli(["report", str(case), "-f", fmt, "-o", str(tmp_path / f"r.{fmt}")], capsys)
        assert code == 0
    j = json.loads((tmp_path / "r.json").read_text())
    assert {h["host"]: h["verdict"] for h in j["hosts"]} == EXPECTED_VERDICTS
    alice = next(h for h in j["hosts"] if h["host"] == "WS-ALICE")
    assert alice["identities"] and alice["evidence"] and any("reset" in r["text"].lower() for r in alice["remediation"])
    assert any("hxxps://akamaicontainer[.]com" in e["message"] or "akamaicontainer[.]com" in " ".join(e["indicators"])
               for e in alice["evidence"])
    md = (tmp_path / "r.md").read_text()
    assert "akamaicontainer.com" not in md and "akamaicontainer[.]com" in md and "<script>" not in md
    csv_text = (tmp_path / "r.csv").read_text()
    assert "WS-ALICE,compromised" in csv_text


def test_status_table(demo: Path, capsys) -> None:
    code, out, _ = run_cli(["case", "status", str(demo / "case")], capsys)
    assert code == 0 and "WS-ALICE" in out and "not checked: 1" in out and "compromised: 2" in out


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("Debian chromium not installed (CI installs it)")
    return path


def test_html_report_in_headless_chromium(demo: Path) -> None:
    browser_path = chromium()
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    report = demo / "case" / "report.html"
    assert XSS in (demo / "data" / "logs" / "proxy" / "access.log").read_text()
    errors: list[str] = []
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = b.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        counts = {c.get_attribute("data-status"): int(c.inner_text().split()[0])
                  for c in page.query_selector_all("#verdict-counts .card")}
        originals = [e.inner_text() for e in page.query_selector_all("pre.original")]
        scripts = page.evaluate("document.scripts.length")
        b.close()
    assert errors == []
    assert requests == [report.as_uri()]  # nothing but the file itself
    assert dialogs == [] and scripts == 0
    with Case(demo / "case") as c:
        expected: dict[str, int] = {}
        for h in c.hosts():
            expected[h.verdict] = expected.get(h.verdict, 0) + 1
    assert {k: v for k, v in counts.items() if v} == expected
    assert any(XSS in t for t in originals)  # the log line's script is shown as text


def test_delay_between_first_sighting_and_first_contact(demo: Path) -> None:
    with Case(demo / "case") as c:
        alice = next(h for h in c.hosts() if h.host == "WS-ALICE")
    assert alice.first_seen == "2023-03-15T09:00:00Z"
    assert alice.delay_days() == 7.0  # the planted truth: first C2 contact 7 days after first appearance


def test_quoted_log_records_are_defanged(demo: Path) -> None:
    with Case(demo / "case") as c:
        from tracehound.outputs.report import build_model

        model = build_model(c)
    originals = [e["original"] for h in model["hosts"] for e in h["evidence"] if e["original"]]
    assert originals and not any("akamaicontainer.com" in o or "https://" in o for o in originals)
    assert any("akamaicontainer[.]com" in o for o in originals)


def test_delay_from_installation_to_first_contact(demo: Path) -> None:
    from tracehound.samples import INSTALLED

    with Case(demo / "case") as c:
        hosts = {h.host: h for h in c.hosts()}
    alice = hosts["WS-ALICE"]
    assert alice.installed_at == INSTALLED["WS-ALICE"].isoformat().replace("+00:00", "Z")
    assert alice.delay_days(alice.installed_at) == 7.02  # installed 08:30, first C2 contact 7 days later at 08:59:59
    assert hosts["MAC-BOB"].installed_at == INSTALLED["MAC-BOB"].isoformat().replace("+00:00", "Z")


def test_dhcp_leases_attribute_an_address_to_the_host_holding_it(tmp_path: Path, capsys) -> None:
    from huntutil import hunt

    log = tmp_path / "proxy.log"
    log.write_text(
        "1679990400.000    100 10.9.9.9 TCP_MISS/200 100 GET http://akamaicontainer.com/a u DIRECT/1.2.3.4 -\n"  # 2023-03-28 08:00Z
        "1680082200.000    100 10.9.9.9 TCP_MISS/200 100 GET http://pbxsources.com/b u DIRECT/1.2.3.4 -\n")   # 2023-03-29 09:30Z
    from tracehound.intel.builtin import load_intel

    docs, _ = hunt(load_intel(None), [str(log)], jobs=1)
    findings = tmp_path / "hunt.jsonl"
    findings.write_text("".join(json.dumps(d) + "\n" for d in docs))
    leases = tmp_path / "leases.csv"
    leases.write_text("ip,hostname,lease start,lease end\n"
                      "10.9.9.9,PC-DAY1,2023-03-28T00:00:00Z,2023-03-28T23:59:59Z\n"
                      "10.9.9.9,PC-DAY2,2023-03-29T00:00:00Z,2023-03-29T23:59:59Z\n")
    case = tmp_path / "case"
    run_cli(["case", "init", str(case)], capsys)
    code, _, err = run_cli(["case", "add", str(case), str(findings), str(leases)], capsys)
    assert code == 0 and "added leases (2 records)" in err
    with Case(case) as c:
        hosts = {h.host: h for h in c.hosts()}
    assert set(hosts) == {"PC-DAY1", "PC-DAY2"}
    assert [m["value"] for f in hosts["PC-DAY1"].evidence for m in matched_indicators(f)
            if m["ecs_type"] == "domain-name"] == ["akamaicontainer.com"]
    assert [m["value"] for f in hosts["PC-DAY2"].evidence for m in matched_indicators(f)
            if m["ecs_type"] == "domain-name"] == ["pbxsources.com"]


@pytest.fixture(scope="module")
def extracted_case(tmp_path_factory) -> dict[str, Path]:
    """The new user's flow: `intel extract` of the seed bulletin, then hunt and sweep with `--intel pack.json`."""
    from conftest import SEED, need
    from tracehound.cli import main
    from tracehound.samples import make_asar

    need(SEED)
    base = tmp_path_factory.mktemp("extracted")

    def cli(args: list[str]) -> int:
        try:
            main(args)
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    pack = base / "pack.json"
    assert cli(["intel", "extract", str(SEED), "-o", str(pack)]) == 0
    log = base / "access.log"
    log.write_text("1679990400.000    100 10.1.1.7 TCP_MISS/200 100 GET http://akamaicontainer.com/a u DIRECT/1.2.3.4 -\n")
    root = base / "host"
    app = root / "Users" / "dan" / "AppData" / "Local" / "Programs" / "3CXDesktopApp" / "resources"
    app.mkdir(parents=True)
    (app / "app.asar").write_bytes(make_asar({"productName": "3CX Desktop App", "version": "18.12.416"}))
    (root / "etc").mkdir()
    (root / "etc" / "hostname").write_text("WS-DAN\n")
    assert cli(["hunt", "--intel", str(pack), str(log), "-o", str(base / "hunt.jsonl"), "--summary",
                str(base / "summary.json"), "-q", "-j", "1"]) == 1
    assert cli(["sweep", "--intel", str(pack), "--root", str(root), "-o", str(base / "sweep.jsonl"), "--no-nice"]) == 1
    return {"pack": pack, "hunt": base / "hunt.jsonl", "summary": base / "summary.json", "sweep": base / "sweep.jsonl",
            "base": base}


def test_case_with_an_extracted_pack_quotes_the_advisory(extracted_case: dict[str, Path], tmp_path: Path, capsys) -> None:
    pack = json.loads(extracted_case["pack"].read_text())
    case = tmp_path / "case"
    run_cli(["case", "init", str(case)], capsys)
    code, _, err = run_cli(["case", "add", str(case), str(extracted_case["hunt"]), str(extracted_case["summary"]),
                            str(extracted_case["sweep"])], capsys)
    assert code == 0, err
    run_cli(["report", str(case), "-f", "json", "-o", str(tmp_path / "before.json")], capsys)
    before = json.loads((tmp_path / "before.json").read_text())
    # Findings name the pack but do not carry the advisory: the report says the pack is missing, never silent.
    assert [p["name"] for p in before["packs"] if p["missing"]] == [pack["name"]]
    code, _, err = run_cli(["case", "status", str(case)], capsys)
    assert code == 0 and f"pack {pack['name']} is named by findings but not in the case" in err
    code, _, err = run_cli(["case", "add", str(case), str(extracted_case["pack"])], capsys)
    assert code == 0 and "added pack (1 records)" in err
    with Case(case) as c:
        assert c.db.execute("SELECT COUNT(*) FROM findings WHERE host='unknown'").fetchone()[0] == 0  # not a finding
    run_cli(["report", str(case), "-f", "json", "-o", str(tmp_path / "r.json")], capsys)
    model = json.loads((tmp_path / "r.json").read_text())
    assert model["c2_delay_days"] == pack["c2_delay_days"] == 7
    [p] = model["packs"]
    assert (p["name"], p["title"], p["published"], p["missing"]) == (pack["name"], pack["title"], pack["published"], False)
    assert {a["platform"]: a["versions"] for a in p["affected"]}["windows"] == ["18.12.407", "18.12.416"]
    texts = {r["text"] for r in pack["remediation"]}
    hosts = {h["host"]: h for h in model["hosts"]}
    assert set(hosts) >= {"10.1.1.7", "WS-DAN"}
    for name in ("10.1.1.7", "WS-DAN"):
        quoted = [q for r in hosts[name]["remediation"] for q in r["advisory"]]
        assert quoted and set(quoted) <= texts  # the bulletin's own sentences
    assert any("7 days" in r["text"] for r in hosts["WS-DAN"]["remediation"])  # exposed: keep hunting past the delay
    html_path = tmp_path / "r.html"
    run_cli(["report", str(case), "-o", str(html_path)], capsys)
    html = html_path.read_text()
    assert pack["title"] in html and "advisory C2 delay: 7 days" in html
    code, _, err = run_cli(["case", "remove", str(case), str(extracted_case["pack"])], capsys)
    assert code == 0 and "removed (1 records" in err
    with Case(case) as c:
        assert [(p["name"], p["missing"]) for p in c.packs()] == [(pack["name"], True)]


def test_builtin_pack_recorded_in_the_case(demo: Path) -> None:
    with Case(demo / "case") as c:
        packs = c.packs()
    assert [(p["name"], p["origin"], p["missing"]) for p in packs] == [("3cx", "builtin:3cx", False)]
    assert packs[0]["remediation"] and packs[0]["c2_delay_days"] == 7


def test_add_refuses_a_file_without_findings(seed: Path, demo: Path, tmp_path: Path, capsys) -> None:
    case = tmp_path / "case"
    shutil.copytree(demo / "case", case)
    with Case(case) as c:
        before = c.ingests(), c.db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
    foreign = tmp_path / "other.jsonl"
    foreign.write_text('{"a": 1}\n{"b": 2}\n')
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    for bad in (seed, foreign, empty):
        code, _, err = run_cli(["case", "add", str(case), str(bad)], capsys)
        assert code == 2 and str(bad) in err and "holds no findings" in err and "Traceback" not in err
    with Case(case) as c:
        assert (c.ingests(), c.db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]) == before


def test_remove_takes_an_input_out_with_its_findings(demo: Path, tmp_path: Path, capsys) -> None:
    case = tmp_path / "case"
    shutil.copytree(demo / "case", case)
    scope = demo / "findings" / "scope.jsonl"
    with Case(case) as c:
        stored = next(i for i in c.ingests() if i["path"].endswith("scope.jsonl"))
        identities = c.db.execute("SELECT COUNT(*) FROM identities").fetchone()[0]
    assert identities  # the inventory ties IPs and aliases to host names
    code, _, err = run_cli(["case", "remove", str(case), str(scope)], capsys)
    assert code == 0 and "removed" in err
    with Case(case) as c:
        assert stored["path"] not in {i["path"] for i in c.ingests()}
        assert c.db.execute("SELECT COUNT(*) FROM findings WHERE source='scope'").fetchone()[0] == 0
        assert c.db.execute("SELECT COUNT(*) FROM identities").fetchone()[0] == 0  # they came from the inventory
        assert not any(f["tracehound"]["source"] == "scope" for h in c.hosts() for f in h.findings)
        assert [p["name"] for p in c.packs()] == ["3cx"]  # still used by the other inputs
    code, _, err = run_cli(["case", "remove", str(case), "nope.jsonl"], capsys)
    assert code == 2 and "nope.jsonl" in err and "not an input" in err
    code, _, _ = run_cli(["case", "add", str(case), str(scope)], capsys)  # and back: the same verdicts
    assert code == 0
    with Case(case) as c:
        assert {h.host: h.verdict for h in c.hosts()} == EXPECTED_VERDICTS


def test_case_from_before_packs_were_recorded(demo: Path, tmp_path: Path) -> None:
    """A case at schema 3 (no packs table) is migrated and records the packs its findings name."""
    import sqlite3

    case = tmp_path / "case"
    shutil.copytree(demo / "case", case)
    db = sqlite3.connect(case / "case.sqlite")
    db.executescript("DROP TABLE packs; DROP TABLE pack_refs; UPDATE meta SET value='3' WHERE key='schema_version';")
    db.close()
    with Case(case) as c:
        assert c.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "4"
        assert [(p["name"], p["missing"]) for p in c.packs()] == [("3cx", False)]


def test_pack_recognised_by_parsing_not_by_words(extracted_case: dict[str, Path], tmp_path: Path, capsys) -> None:
    """A STIX bundle of the pack is a pack; a one-line findings file quoting an EVTX `"Event"` is findings."""
    from tracehound.intel.formats import read_pack, write_pack

    stix = tmp_path / "pack.stix.json"
    write_pack(read_pack(str(extracted_case["pack"])), "stix", str(stix))
    line = json.loads(extracted_case["hunt"].read_text().splitlines()[0])
    line["event"]["original"] = json.dumps({"Event": {"System": {"EventID": 3}}})
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps(line) + "\n")
    case = tmp_path / "case"
    run_cli(["case", "init", str(case)], capsys)
    code, _, err = run_cli(["case", "add", str(case), str(one), str(stix)], capsys)
    assert code == 0 and f"{one}: added (1 records)" in err and f"{stix}: added pack (1 records)" in err
    with Case(case) as c:
        packs = c.packs()
    # STIX names the pack after its bundle: the findings' own pack (another name) is still reported missing.
    by_name = {p["name"]: p for p in packs}
    assert by_name[line["threat"]["enrichments"][0]["indicator"]["provider"]]["missing"]
    [stix_pack] = [p for p in packs if not p["missing"]]
    assert stix_pack["origin"] == str(stix) and stix_pack["counts"]["domain"] > 10
