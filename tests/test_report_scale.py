"""A big case: the hunt's host table is capped on the terminal, and the HTML report of a generated
1,000-host case stays compact and fast in headless Chromium (checklist once per verdict, collapsed
host cards with capped evidence, a timeline with date ticks and a title on every dot, no script)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from conftest import run_cli
from huntutil import hunt
from test_case_report import chromium
from tracehound.engines.scope import run_scope
from tracehound.outputs.case_store import Case
from tracehound.outputs.report import EVIDENCE_ROWS, build_model, render
from tracehound.outputs.timeline import MAX_LANES

HOSTS = 1000
CONTACTED = 700  # compromised: C2 contacts in the proxy log
AFFECTED = 900  # hosts 0..899 run an affected version; the rest a fixed one (not checked: no sweep)
T0 = 1679000000  # 2023-03-16T20:53:20Z
BUSY = 40  # contacts of host 0: more evidence than a card shows


def ip(i: int) -> str:
    return f"10.3.{i // 250}.{i % 250 + 1}"


@pytest.fixture(scope="module")
def big(tmp_path_factory, pack3cx) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("big")
    log = base / "access.log"
    with log.open("w") as fh:
        for i in range(CONTACTED):
            for k in range(BUSY if i == 0 else 3):
                ts = T0 + i * 1500 + k * 86400 // (4 if i == 0 else 1)
                fh.write(f"{ts}.000    100 {ip(i)} TCP_MISS/200 500 GET http://www.akamaicontainer.com/p{k} u "
                         f"DIRECT/162.0.229.159 text/html\n")
            fh.write(f"{T0 + i * 1500 - 3600}.000    100 {ip(i)} TCP_MISS/200 500 GET http://www.example.com/ u "
                     "DIRECT/93.184.216.34 text/html\n")  # first appearance in the logs
    docs, summary = hunt(pack3cx, [str(log)], jobs=1)
    (base / "hunt.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (base / "summary.json").write_text(json.dumps(summary.to_dict()))
    inv = base / "assets.csv"
    inv.write_text("host,ip,platform,product,version\n" + "".join(
        f"PC-{i:04},{ip(i)},windows,3CX Desktop App,{'18.12.416' if i < AFFECTED else '18.12.425'}\n"
        for i in range(HOSTS)))
    scope_docs: list[dict] = []
    run_scope(pack3cx, [str(inv)], {}, scope_docs.append)
    (base / "scope.jsonl").write_text("".join(json.dumps(d) + "\n" for d in scope_docs))
    case = base / "case"
    with Case(case, create=True) as c:
        for f in ("hunt.jsonl", "summary.json", "scope.jsonl"):
            c.add_file(str(base / f))
    return {"base": base, "log": log, "case": case}


def test_hunt_host_table_is_capped(big: dict[str, Path], capsys) -> None:
    code, _, err = run_cli(["hunt", str(big["log"]), "-o", str(big["base"] / "h.jsonl"), "-j", "1", "--no-first-seen"],
                           capsys)
    assert code == 1
    rows = set(re.findall(r"10\.3\.\d+\.\d+", err))
    assert len(rows) == 25 and f"… and {CONTACTED - 25} more (see --summary or the report" in err
    code, _, err = run_cli(["hunt", str(big["log"]), "-o", str(big["base"] / "h.jsonl"), "-j", "1", "--no-first-seen",
                            "--all-hosts"], capsys)
    assert len(set(re.findall(r"10\.3\.\d+\.\d+", err))) == CONTACTED and "more (see" not in err


def test_thousand_host_report_in_chromium(big: dict[str, Path], capsys) -> None:
    with Case(big["case"]) as c:
        started = time.monotonic()
        html = render(c, "html")
        written_in = time.monotonic() - started
        model = build_model(c)
    counts = {k: v for k, v in model["counts"].items() if v}
    assert counts == {"compromised": CONTACTED, "exposed": AFFECTED - CONTACTED, "not checked": HOSTS - AFFECTED}
    report = big["base"] / "report.html"
    report.write_text(html, encoding="utf-8")
    size = len(html.encode("utf-8"))
    browser_path = chromium()
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.monotonic()
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        render_s = time.monotonic() - started
        height = page.evaluate("document.documentElement.scrollHeight")
        scripts = page.evaluate("document.scripts.length")
        checklists = [e.get_attribute("id") for e in page.query_selector_all(".checklist")]
        advisories = page.evaluate("document.body.innerText.split('Advisory:').length - 1")
        cards = page.query_selector_all("details.host")
        open_cards = page.evaluate("document.querySelectorAll('details[open]').length")
        dot_titles = page.evaluate("[...document.querySelectorAll('svg circle')].map(c => c.querySelector('title')?.textContent || '')")
        ticks = [t.text_content() for t in page.query_selector_all("svg text.tick")]
        busy = page.query_selector("#" + next(h["anchor"] for h in model["hosts"] if h["host"] == "PC-0000"))
        busy_rows = len(busy.query_selector_all("tbody tr")) if busy else 0
        busy_more = busy.query_selector(".more").text_content() if busy else ""
        b.close()
    with capsys.disabled():
        print(f"\n1,000-host report: HTML {size:,} bytes ({size / 1e6:.2f} MB), written in {written_in:.2f} s, "
              f"Chromium load {render_s:.2f} s, page height {height:,} px")
    assert errors == [] and scripts == 0 and requests == [report.as_uri()]
    assert size < 6_000_000 and render_s < 20.0
    assert height < 80 * HOSTS  # one table row and one closed card line per host, at most
    # The checklist once per verdict, each advisory sentence quoted once per checklist, not once per host.
    assert checklists == ["checklist-compromised", "checklist-exposed", "checklist-not-checked"]
    assert 0 < advisories <= sum(len(c["items"]) for c in model["checklists"])
    assert len(cards) == HOSTS and open_cards == 0  # every host has evidence or an installed version; all collapsed
    busy_evidence = next(len(h["evidence"]) for h in model["hosts"] if h["host"] == "PC-0000")
    assert busy_evidence > EVIDENCE_ROWS and busy_rows == EVIDENCE_ROWS
    assert f"{busy_evidence - EVIDENCE_ROWS} more" in busy_more
    # Timeline: capped lanes, a title on every dot naming its host and time, calendar date ticks.
    assert dot_titles and all(re.match(r"PC-\d{4}: ", t) and "2023-03-" in t for t in dot_titles)
    assert len(model["timeline"]["lanes"]) == MAX_LANES and model["timeline"]["more"] == CONTACTED - MAX_LANES
    assert len(ticks) >= 3 and all(re.fullmatch(r"\d{4}-\d\d-\d\d|\d\d-\d\d \d\d:\d\d", t) for t in ticks)
