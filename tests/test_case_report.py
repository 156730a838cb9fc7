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
    assert [e["matched"]["indicator"] for f in hosts["PC-DAY1"].evidence for e in f["threat"]["enrichments"]
            if e["indicator"]["type"] == "domain-name"] == ["akamaicontainer.com"]
    assert [e["matched"]["indicator"] for f in hosts["PC-DAY2"].evidence for e in f["threat"]["enrichments"]
            if e["indicator"]["type"] == "domain-name"] == ["pbxsources.com"]
