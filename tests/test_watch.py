"""`tracehound watch`: TAXII 2.1 (a real medallion server) and MISP feeds (http.server) on loopback, local
packs; re-hunting only what changed, no duplicate findings across runs, withdrawals, conditional requests,
back-off on server errors."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import run_cli
from storeutil import index, store_table
from tracehound.defang import defang
from tracehound.intel.builtin import load_intel
from tracehound.outputs.case_store import Case
from watchservers import PASSWORD, USER, Feed, medallion, misp_event, stix_indicator, taxii_add

# Squid access log: day 2023-03-10 (1678406400) and 2023-03-01 (1677628800).
LOG = "\n".join([
    "1678406400.000    100 10.0.0.5 TCP_MISS/200 500 GET http://evil1.example/a alice DIRECT/198.51.100.1 text/html",
    "1678410000.000    100 10.0.0.5 TCP_MISS/200 500 GET http://evil1.example/b alice DIRECT/198.51.100.1 text/html",
    "1678406500.000    100 10.0.0.6 TCP_MISS/200 500 GET http://cdn.evil2.example/x bob DIRECT/198.51.100.2 text/html",
    "1677628800.000    100 10.0.0.5 TCP_MISS/200 500 GET http://late.example/ alice DIRECT/198.51.100.3 text/html",
    "1678406600.000    100 10.0.0.7 TCP_MISS/200 500 CONNECT 203.0.113.9:443 carol DIRECT/203.0.113.9 -",
    "1678406700.000    100 10.0.0.8 TCP_MISS/200 500 GET http://www.example.org/ dave DIRECT/93.184.216.34 text/html",
]) + "\n"
MISP_A, MISP_B, MISP_C = ("5f1b0c2e-0000-4000-8000-00000000000a", "5f1b0c2e-0000-4000-8000-00000000000b",
                          "5f1b0c2e-0000-4000-8000-00000000000c")


def _store(tmp: Path) -> Path:
    logs = tmp / "logs"
    logs.mkdir()
    (logs / "access.log").write_text(LOG)
    index(tmp / "store", [str(logs / "access.log")])
    return tmp / "store"


def _watch(capsys, store: Path, *sources: str, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    args = ["watch", "--store", str(store), "--once", "--timeout", "5"]
    for s in sources:
        args += ["--source", s]
    code, _out, err = run_cli(args + list(extra), capsys)
    assert "Traceback" not in err
    return code, err


def _case_rows(case: Path) -> list[dict]:
    db = sqlite3.connect(case / "case.sqlite")
    try:
        return [json.loads(d) for (d,) in db.execute("SELECT doc FROM findings ORDER BY id")]
    finally:
        db.close()


def _pairs(docs: list[dict]) -> set[tuple[str, str]]:
    return {(d["tracehound"]["host"], e["indicator"]["description"]) for d in docs
            for e in d.get("threat", {}).get("enrichments", [])}


def test_taxii_collection_changes_between_polls(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    case = tmp_path / "case"
    assert run_cli(["case", "init", str(case)], capsys)[0] == 0
    with medallion(tmp_path, page_size=2) as url:
        source = url.replace("http://", f"taxii+http://{USER}:{PASSWORD}@")
        taxii_add(url, [stix_indicator(1, "[domain-name:value = 'evil1.example']"),
                        stix_indicator(2, "[domain-name:value = 'evil2.example']"),
                        stix_indicator(3, "[domain-name:value = 'unseen.example']"),
                        stix_indicator(4, "[domain-name:value = 'bad..example']"),  # refused by the canonicalisation
                        stix_indicator(7, "[domain-name:value = 'unseen2.example']"),
                        stix_indicator(8, "rule Evil { strings: $a = \"evil\" condition: $a }", pattern_type="yara")])
        code, err = _watch(capsys, store, source, extra=("--case", str(case)))
        assert code == 1, err
        assert "skipped 1" in err and "not run against the store" in err  # a rule: said, not silently dropped
        assert "+4 ~0 -0" in err and "2 new finding(s)" in err
        assert "3 document(s) fetched" in err  # five objects, pages of two: `next` followed twice
        assert "new host 10.0.0.5" in err and "new host 10.0.0.6" in err
        assert "1 value rejected" in err and "bad.[.]example" in err, err  # counted, named, defanged
        assert PASSWORD not in err

        code, err = _watch(capsys, store, source, extra=("--case", str(case)))  # nothing changed on the server
        assert code == 0 and "0 new finding(s)" in err and "+0 ~0 -0" in err and "unchanged" in err

        # The collection changes: an earlier contact for a known host, a new host, evil2 revoked.
        taxii_add(url, [stix_indicator(5, "[domain-name:value = 'late.example']"),
                        stix_indicator(6, "[ipv4-addr:value = '203.0.113.9']"),
                        stix_indicator(2, "[domain-name:value = 'evil2.example']", modified="2026-02-01T00:00:00.000Z",
                                       revoked=True)])
        code, err = _watch(capsys, store, source, extra=("--case", str(case)))
        assert code == 1 and "+2 ~0 -1" in err and "hunted 2" in err and "2 new finding(s)" in err
        assert "earlier first contact 10.0.0.5: 2023-03-01 00:00:00 (was 2023-03-10 00:00:00)" in err
        assert "new host 10.0.0.7" in err and "new host 10.0.0.5" not in err
        assert "withdrawn evil2[.]example: findings on 1 host(s) marked withdrawn: 10.0.0.6" in err

        code, err = _watch(capsys, store, source, extra=("--case", str(case)))
        assert code == 0 and "0 new finding(s)" in err
        code, err = _watch(capsys, store, source.replace(PASSWORD, "wrong"), extra=("--state", str(tmp_path / "x.json")))
        assert code == 3 and "HTTP 401" in err and "retry in" in err and "wrong" not in err

    state = json.loads((case / "watch-state.json").read_text())
    assert PASSWORD not in json.dumps(state)
    withdrawn = [f for f in state["findings"].values() if f["withdrawn"]]
    assert [(f["host"], f["value"]) for f in withdrawn] == [("10.0.0.6", "cdn.evil2.example")]
    rows = _case_rows(case)
    findings = [d for d in rows if d["tracehound"].get("record") is None]
    keys = [d["tracehound"]["watch"]["key"] for d in findings]
    assert len(keys) == len(set(keys)) == 4  # each finding exactly once across four runs
    # The same findings as `hunt --store` with every indicator the collection ever held.
    ever = tmp_path / "ever.csv"
    ever.write_text("type,value\ndomain,evil1.example\ndomain,evil2.example\ndomain,unseen.example\ndomain,unseen2.example\n"
                    "domain,late.example\nipv4,203.0.113.9\n")
    assert _pairs(findings) == {(h, defang(v)) for h, v in store_table(store, load_intel([str(ever)]))}
    marks = [d for d in rows if d["tracehound"].get("record") == "indicator-withdrawn"]
    assert [(d["tracehound"]["host"], d["tracehound"]["indicator"]["value"]) for d in marks] == \
        [("10.0.0.6", "evil2.example")]
    assert "evil2.example" not in marks[0]["message"]  # defanged for people
    with Case(case) as c:
        packs = {p["name"]: p for p in c.packs()}
    assert not packs["watch"]["missing"] and packs["watch"]["counts"] == {"domain": 4, "ipv4": 1}  # the current set
    code, _out, err = run_cli(["report", str(case), "-o", str(tmp_path / "report.md")], capsys)
    report = (tmp_path / "report.md").read_text()
    assert "10.0.0.7" in report and "evil2.example" not in report and "Traceback" not in err


def test_misp_feed_fetches_only_changed_events(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    with Feed(feed_dir) as feed:
        feed.publish({MISP_A: misp_event(MISP_A, 100, [("domain", "evil1.example")]),
                      MISP_B: misp_event(MISP_B, 100, [("domain", "unseen.example"), ("ip-dst", "300.1.2.3")]),
                      MISP_C: misp_event(MISP_C, 100, [("domain", "evil2.example")])})
        source = "misp+" + feed.url
        out = tmp_path / "new.jsonl"
        code, err = _watch(capsys, store, source, extra=("-o", str(out)))
        assert code == 1 and "+3 ~0 -0" in err
        assert "1 value rejected" in err  # 300.1.2.3, counted and named
        assert feed.hits == {"manifest.json": 1, "hashes.csv": 1, f"{MISP_A}.json": 1, f"{MISP_B}.json": 1,
                             f"{MISP_C}.json": 1}
        first = [json.loads(x) for x in out.read_text().splitlines()]
        assert _pairs(first) == {("10.0.0.5", "evil1[.]example"), ("10.0.0.6", "evil2[.]example")}

        code, err = _watch(capsys, store, source, extra=("-o", str(out)))  # no change: 304s, no event fetched
        assert code == 0 and feed.not_modified == 2
        assert feed.hits[f"{MISP_A}.json"] == 1 and feed.hits["manifest.json"] == 2
        assert "unchanged" in err and "0 document(s) fetched" in err

        # B changes (new timestamp, a value that hits), C leaves the feed, A unchanged.
        feed.publish({MISP_A: misp_event(MISP_A, 100, [("domain", "evil1.example")]),
                      MISP_B: misp_event(MISP_B, 200, [("domain", "unseen.example"), ("domain", "late.example")])})
        code, err = _watch(capsys, store, source, extra=("-o", str(out)))
        assert code == 1 and "+1 ~0 -1" in err
        assert feed.hits[f"{MISP_A}.json"] == 1 and feed.hits[f"{MISP_B}.json"] == 2 and f"{MISP_C}.json" not in \
            {k for k, v in feed.hits.items() if v > 1}
        assert "withdrawn evil2[.]example: findings on 1 host(s) marked withdrawn: 10.0.0.6" in err
        assert "withdrawn 300" not in err

        # A's values change but its manifest timestamp does not: hashes.csv says so, A is fetched again.
        feed.publish({MISP_A: misp_event(MISP_A, 100, [("domain", "evil1.example"), ("ip-dst", "203.0.113.9")]),
                      MISP_B: misp_event(MISP_B, 200, [("domain", "unseen.example"), ("domain", "late.example")])})
        code, err = _watch(capsys, store, source, extra=("-o", str(out)))
        assert feed.hits[f"{MISP_A}.json"] == 2 and feed.hits[f"{MISP_B}.json"] == 2
        assert code == 1 and "+1 ~0 -0" in err and "new host 10.0.0.7" in err
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    keys = [d["tracehound"]["watch"]["key"] for d in lines if d["tracehound"].get("record") is None]
    assert len(keys) == len(set(keys)) == 4
    assert not any(f.name.endswith(".tmp") for f in tmp_path.iterdir())


def test_server_errors_back_off_and_keep_indicators(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    state_file = tmp_path / "store.watch.json"
    with Feed(feed_dir) as feed:
        feed.publish({MISP_A: misp_event(MISP_A, 100, [("domain", "evil1.example")])})
        source = "misp+" + feed.url
        assert _watch(capsys, store, source)[0] == 1
        feed.fail = 503
        code, err = _watch(capsys, store, source)
        assert code == 3
        assert f"source error {source}: GET {feed.url}manifest.json: HTTP 503" in err
        assert "retry in 300 s (failure 1; its last 1 indicators kept)" in err and "-0" in err  # not a withdrawal
        asked = feed.hits["manifest.json"]
        code, err = _watch(capsys, store, source)  # within the back-off: the server is not asked
        assert code == 3 and "backing off" in err and feed.hits["manifest.json"] == asked
        state = json.loads(state_file.read_text())
        state["sources"][source]["retry_at"] = "2000-01-01T00:00:00Z"
        state_file.write_text(json.dumps(state))
        code, err = _watch(capsys, store, source)
        assert code == 3 and "failure 2" in err and "retry in 600 s" in err  # doubled
        state = json.loads(state_file.read_text())
        state["sources"][source]["retry_at"] = "2000-01-01T00:00:00Z"
        state_file.write_text(json.dumps(state))
        feed.fail = 0
        code, err = _watch(capsys, store, source)
        assert code == 0 and "source error" not in err and "+0 ~0 -0" in err
        assert json.loads(state_file.read_text())["sources"][source]["failures"] == 0
    # A server that is not there: one clear line, no traceback.
    code, err = _watch(capsys, store, "taxii+http://127.0.0.1:9/api1/collections/x/",
                       extra=("--state", str(tmp_path / "other.json")))
    assert code == 3 and "source error taxii+http://127.0.0.1:9/api1/collections/x/:" in err


def test_local_pack_and_loki_folder(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    pack = tmp_path / "extra.csv"
    pack.write_text("type,value\ndomain,evil1.example\n")
    loki = tmp_path / "loki"
    loki.mkdir()
    (loki / "c2-iocs.txt").write_text("# test\nevil2.example;90\n")
    code, err = _watch(capsys, store, str(pack), str(loki))
    assert code == 1 and "+2 ~0 -0" in err and "2 new finding(s)" in err
    os.utime(pack, ns=(1, 1))  # touched, same content: not read again
    code, err = _watch(capsys, store, str(pack), str(loki))
    assert code == 0 and "0 document(s) fetched" in err
    (loki / "c2-iocs.txt").write_text("# test\n203.0.113.9\n")
    code, err = _watch(capsys, store, str(pack), str(loki))
    assert code == 1 and "+1 ~0 -1" in err and "new host 10.0.0.7" in err
    assert "withdrawn evil2[.]example" in err
    (loki / "c2-iocs.txt").write_text("# test\n203.0.113.9\nevil2.example\n")  # published again
    code, err = _watch(capsys, store, str(pack), str(loki), extra=("-o", str(tmp_path / "o.jsonl")))
    assert code == 0 and "+1 ~0 -0" in err and "reinstated 1 finding(s)" in err and "0 new finding(s)" in err
    marks = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [(m["tracehound"]["record"], m["tracehound"]["host"]) for m in marks] == [("indicator-reinstated", "10.0.0.6")]
    code, err = _watch(capsys, store, str(loki))  # the CSV pack is no longer followed
    assert f"source no longer given {pack}: its 1 indicators leave the watched set" in err
    assert "-1" in err and "withdrawn evil1[.]example: findings on 1 host(s) marked withdrawn: 10.0.0.5" in err


def test_folder_of_packs_and_advisories(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    intel = tmp_path / "intel"
    intel.mkdir()
    (intel / "a.csv").write_text("type,value\ndomain,evil1.example\n")
    (intel / "bulletin.txt").write_text("The backdoor beacons to 203.0.113[.]9 over TLS.\n")
    (intel / "notes.bin").write_bytes(b"\x00\x01binary")
    code, err = _watch(capsys, store, str(intel))
    assert code == 1 and "+2 ~0 -0" in err and "new host 10.0.0.7" in err and "new host 10.0.0.5" in err
    assert "skipped 1" in err and "binary file" in err  # counted and named, not silent
    held = tmp_path / "store.watch.json.lock"
    import fcntl

    with held.open("a") as fh:  # a second watch on the same state is refused
        fcntl.flock(fh, fcntl.LOCK_EX)
        code, _o, err = run_cli(["watch", "--store", str(store), "--source", str(intel), "--once"], capsys)
    assert code == 2 and "another 'tracehound watch' is using" in err


def test_store_indexed_again_rehunts_every_indicator(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    pack = tmp_path / "extra.csv"
    pack.write_text("type,value\ndomain,evil1.example\n")
    assert _watch(capsys, store, str(pack))[0] == 1
    more = tmp_path / "logs" / "more.log"
    more.write_text("1677000000.000    100 10.0.0.9 TCP_MISS/200 500 GET http://evil1.example/ z DIRECT/1.1.1.1 -\n")
    index(store, [str(more)])
    code, err = _watch(capsys, store, str(pack))
    assert code == 1 and "store changed: every indicator re-hunted" in err and "new host 10.0.0.9" in err


def test_bad_sources_are_usage_errors(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    code, _o, err = run_cli(["watch", "--store", str(store), "--source", "http://127.0.0.1/x", "--once"], capsys)
    assert code == 2 and "taxii+http://" in err and "misp+http://" in err
    code, _o, err = run_cli(["watch", "--store", str(store), "--source", str(tmp_path / "nope.csv"), "--once"], capsys)
    assert code == 2 and "no such file or folder" in err
    pack = tmp_path / "p.csv"
    pack.write_text("type,value\ndomain,evil1.example\n")
    (tmp_path / "bad.json").write_text("{")
    code, _o, err = run_cli(["watch", "--store", str(store), "--source", str(pack), "--state",
                             str(tmp_path / "bad.json"), "--once"], capsys)
    assert code == 2 and "bad.json: watch state unreadable" in err and "Traceback" not in err


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    store = _store(tmp_path)
    pack = tmp_path / "p.csv"
    pack.write_text("type,value\ndomain,evil1.example\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "tracehound", "watch", "--store", str(store), "--source", str(pack),
                             "--interval", "60"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first.startswith("poll 1 ")
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "watch: stopped after 1 poll(s)" in rest and "Traceback" not in rest
    assert json.loads((tmp_path / "store.watch.json").read_text())["polls"] == 1


def test_hostile_feed_content_is_a_clear_error(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    with Feed(feed_dir) as feed:
        source = "misp+" + feed.url
        (feed_dir / "manifest.json").write_text('{"' + MISP_A + '": {"timestamp": "1"},\n "x": ')
        code, err = _watch(capsys, store, source, extra=("--state", str(tmp_path / "s1.json")))
        assert code == 3 and f"{feed.url}manifest.json:2: invalid JSON" in err
        (feed_dir / "manifest.json").write_text(json.dumps({MISP_A: {"timestamp": "1"}, "../../etc/passwd": {}}))
        (feed_dir / f"{MISP_A}.json").write_text("[1, 2")
        code, err = _watch(capsys, store, source, extra=("--state", str(tmp_path / "s2.json")))
        assert code == 3 and f"{MISP_A}.json:1: invalid JSON" in err
        assert "passwd" not in "".join(feed.hits)  # an entry that is no event UUID is never fetched
        (feed_dir / f"{MISP_A}.json").write_text(json.dumps({"Event": misp_event(MISP_A, 1, [("domain", "x" * 300)])}))
        code, err = _watch(capsys, store, source, extra=("--state", str(tmp_path / "s3.json")))
        assert code == 0 and "1 value rejected" in err
        assert "skipped 1" in err and "not an event UUID" in err


def test_real_misp_events_served_as_a_feed(tmp_path: Path) -> None:
    """ESET's public MISP events (shared samples) as a feed: the same indicators as the MISP pack reader, then
    one event re-published: only that one fetched again."""
    from conftest import SAMPLES, need
    from tracehound.intel.formats import read_pack
    from tracehound.intel.sources import indicator_map, open_source

    folder = need(SAMPLES / "misp-events")
    events: dict[str, dict] = {}
    expected: set[str] = set()
    for f in sorted(folder.glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        for wrapped in data.get("response") or [data]:
            ev = wrapped["Event"]
            events[ev["uuid"]] = ev
        expected |= set(indicator_map(read_pack(str(f))))
    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    with Feed(feed_dir) as feed:
        feed.publish(events)
        src = open_source("misp+" + feed.url)
        first = src.poll({})
        assert set(first.indicators) == expected and first.fetched == len(events) == 8
        again = src.poll(first.token)
        assert again.not_modified and again.fetched == 0 and set(again.indicators) == expected
        uuid = sorted(events)[0]
        events[uuid] = dict(events[uuid], timestamp=str(int(events[uuid]["timestamp"]) + 1))
        feed.publish(events)
        third = src.poll(again.token)
        assert third.fetched == 1 and feed.hits[f"{uuid}.json"] == 2 and set(third.indicators) == expected
        assert all(n == 1 for name, n in feed.hits.items() if name.endswith(".json") and name not in
                   (f"{uuid}.json", "manifest.json"))


def test_hostile_taxii_answers_are_clear_errors(tmp_path: Path, capsys) -> None:
    """A server that speaks TAXII headers but sends junk: one line naming the source, never a traceback."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answers = {"objects": b"[1, 2", "collection": b'{"id": "c", "title": "t", "can_read": true, "can_write": false}'}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = answers["objects"] if "/objects/" in self.path else answers["collection"]
            self.send_response(200)
            self.send_header("Content-Type", "application/taxii+json;version=2.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    store = _store(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        source = f"taxii+http://127.0.0.1:{server.server_address[1]}/api1/collections/c/"
        for n, junk in enumerate([b"[1, 2", b"[1, 2]", b'{"objects": "x", "more": true}',
                                  b'{"objects": [{"type": "indicator", "id": "indicator--1", "pattern": "[x"}]}']):
            answers["objects"] = junk
            code, err = _watch(capsys, store, source, extra=("--state", str(tmp_path / f"s{n}.json")))
            assert f"{source}" in err and "Traceback" not in err
            assert code == (0 if n == 3 else 3), err
        assert "skipped 1" in err and "not a valid STIX 2.1 pattern" in err  # the grammar says why
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_watch_records_are_ecs(tmp_path: Path, capsys) -> None:
    """Findings and withdrawal records: every field outside tracehound.* is an ECS field of a compatible type."""
    import pytest

    from conftest import SAMPLES, need
    from test_ecs_fields import compatible, flatten

    yaml = pytest.importorskip("yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the reference is 2 MB
    ecs = {k: v["type"] for k, v in yaml.load(need(SAMPLES / "ecs" / "ecs_flat.yml").read_text(), loader).items()}
    store = _store(tmp_path)
    pack = tmp_path / "p.csv"
    out = tmp_path / "out.jsonl"
    pack.write_text("type,value\ndomain,evil1.example\ndomain,evil2.example\nipv4,203.0.113.9\n")
    _watch(capsys, store, str(pack), extra=("-o", str(out)))
    pack.write_text("type,value\ndomain,evil1.example\n")
    _watch(capsys, store, str(pack), extra=("-o", str(out)))
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert {d["tracehound"].get("record") for d in docs} == {None, "indicator-withdrawn"}
    for doc in docs:
        for key, value in flatten({k: v for k, v in doc.items() if k != "tracehound"}):
            assert key in ecs, key
            assert compatible(ecs[key], value), (key, value)


def test_damaged_store_is_a_clear_error(tmp_path: Path, capsys) -> None:
    store = _store(tmp_path)
    pack = tmp_path / "p.csv"
    pack.write_text("type,value\ndomain,evil1.example\n")
    part = next(store.glob("obs/*/*.parquet"))
    part.unlink()
    code, _o, err = run_cli(["watch", "--store", str(store), "--source", str(pack), "--once"], capsys)
    assert code == 2 and "store damaged" in err and "Traceback" not in err
    assert not (tmp_path / "store.watch.json").exists()  # nothing recorded from a poll that did not finish


def test_case_verdict_leaves_out_findings_of_withdrawn_indicators(tmp_path: Path, capsys) -> None:
    """A finding every indicator of which `watch` saw withdrawn stays in the case but no longer makes its host
    compromised; published again, it counts again; a finding with another live indicator keeps counting."""
    store = _store(tmp_path)
    case = tmp_path / "case"
    assert run_cli(["case", "init", str(case)], capsys)[0] == 0
    pack = tmp_path / "iocs.csv"

    def poll(lines: str) -> dict[str, tuple[str, int, int]]:
        pack.write_text("type,value\n" + lines)
        os.utime(pack, ns=(time.time_ns(), time.time_ns()))
        _watch(capsys, store, str(pack), extra=("--case", str(case)))
        with Case(case) as c:  # host -> (verdict, evidence, findings marked withdrawn)
            return {h.host: (h.verdict, len(h.evidence), sum(bool(f["tracehound"].get("withdrawn")) for f in h.findings))
                    for h in c.hosts() if h.host.startswith("10.")}

    first = poll("domain,evil1.example\ndomain,evil2.example\nipv4,198.51.100.1\n")
    assert first["10.0.0.6"][1] == 1 and first["10.0.0.6"][0] != "clean" and first["10.0.0.5"][1] >= 2
    gone = poll("domain,evil1.example\nipv4,198.51.100.1\n")  # evil2 withdrawn
    assert gone["10.0.0.6"] == ("not checked", 0, 1)  # kept, marked, not counted
    assert gone["10.0.0.5"] == first["10.0.0.5"]  # untouched
    # evil1 withdrawn: 10.0.0.5's URL/name findings go, its contacts of 198.51.100.1 (the address) stay
    only_ip = poll("ipv4,198.51.100.1\n")
    verdict, evidence, marked = only_ip["10.0.0.5"]
    assert marked >= 1 and evidence >= 1 and evidence == first["10.0.0.5"][1] - marked and verdict != "clean"
    back = poll("domain,evil1.example\ndomain,evil2.example\nipv4,198.51.100.1\n")  # published again
    assert back["10.0.0.6"] == first["10.0.0.6"] and back["10.0.0.5"] == first["10.0.0.5"]
    code, _out, err = run_cli(["report", str(case), "-o", str(tmp_path / "report.md")], capsys)
    assert "Traceback" not in err
