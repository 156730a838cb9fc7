"""Proof against SigmaHQ's own tests: each of the 99 rules with positive regression data fires on its
real EVTX, and pySigma's SQLite backend, evaluating the same rules over the same records, finds the
same (rule, record) matches."""

from __future__ import annotations

import json
from pathlib import Path

import evtx
import pytest
import yaml

from conftest import SAMPLES, need
from sigma_sqlite import SqliteEvents
from tracehound.matching.sigma.engine import SigmaStats, sigma_evtx
from tracehound.matching.sigma.hunt import load_ruleset
from tracehound.matching.sigma.records import evtx_record
from tracehound.matching.sigma.ruleset import RuleSet

REGRESSION = SAMPLES / "sigma-regression" / "regression_data"
RULES = SAMPLES / "sigma-rules"


@pytest.fixture(scope="module")
def cases() -> list[tuple[str, Path, Path, int | None]]:
    need(REGRESSION)
    need(RULES)
    by_id: dict[str, Path] = {}
    for p in RULES.rglob("*.yml"):
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.startswith("id:"):
                by_id[line[3:].strip()] = p
                break
    out = []
    for info_path in sorted(REGRESSION.rglob("info.yml")):
        info = yaml.safe_load(info_path.read_text(encoding="utf-8"))
        rid = info["rule_metadata"][0]["id"]
        evtx_file = next(info_path.parent.glob("*.evtx"))
        out.append((rid, by_id[rid], evtx_file, info["regression_tests_info"][0].get("match_count")))
    return out


def _records(path: Path) -> list[dict]:
    return [evtx_record(json.loads(r["data"])) for r in evtx.PyEvtxParser(str(path)).records_json()]


def test_each_regression_rule_fires_on_its_own_evtx(cases: list) -> None:
    assert len(cases) == 99
    silent = []
    count_differs = []
    for rid, rule_path, evtx_file, want in cases:
        rules = load_ruleset([str(rule_path)])
        assert not rules.failures and len(rules.rules) == 1, rule_path
        docs = list(sigma_evtx(str(evtx_file), rules, SigmaStats()))
        assert all(d["rule"]["id"] == rid for d in docs)
        if not docs:
            silent.append(rule_path.name)
        elif want is not None and len(docs) != want:
            count_differs.append((rule_path.name, len(docs), want))
    assert silent == []  # all 99 fire
    # Two EVTX hold more events than their test's match_count, and each of those events matches the
    # rule (procdump, procdump64, procdump64a dropped; three zone-map keys set): the SQLite backend
    # agrees below. The other 97 give exactly the count SigmaHQ's test expects.
    assert sorted(n for n, _, _ in count_differs) == ["file_event_win_cred_dump_tools_dropped_files.yml",
                                                      "registry_set_change_security_zones.yml"]


def _cross_check(rules: RuleSet, records: list) -> tuple[int, int, list[str], list[tuple]]:
    db = SqliteEvents(records)
    agree = fired = 0
    skipped: list[str] = []
    differ: list[tuple] = []
    for r in rules.rules:
        selected = {i + 1 for i, rec in enumerate(records)
                    if r in rules.for_event(str(rec.get("Channel") or ""), rec.get("EventID"))}
        # Through the literal prefilter too: a rule it drops for a record must not match there.
        ours = {i for i in selected if r.predicate(records[i - 1]) and r in rules.candidates(records[i - 1])}
        theirs = db.matches(r.rule)
        if isinstance(theirs, str):
            skipped.append(f"{Path(r.path).name}: {theirs}")
            continue
        if ours == theirs & selected:
            agree += 1
            fired += bool(ours)
        else:
            differ.append((Path(r.path).name, sorted(ours), sorted(theirs & selected)))
    return agree, fired, skipped, differ


def test_sqlite_backend_agrees_on_the_regression_evtx(cases: list) -> None:
    agree_total = 0
    for _rid, rule_path, evtx_file, _want in cases:
        rules = load_ruleset([str(rule_path)])
        agree, fired, skipped, differ = _cross_check(rules, _records(evtx_file))
        assert differ == [] and skipped == [], rule_path
        assert fired == 1
        agree_total += agree
    assert agree_total == 99


def test_sqlite_backend_agrees_on_real_evtx_samples() -> None:
    """A deterministic sample of SigmaHQ Windows rules (every 6th file of a few categories, and every
    rule of the registry ones) over all records of ../shared/samples/evtx/."""
    records = [r for f in sorted(need(SAMPLES / "evtx").glob("*.evtx")) for r in _records(f)]
    assert len(records) > 1000
    windows = RULES / "rules" / "windows"
    files = sorted(str(p) for p in (windows / "process_creation").glob("*.yml"))[::6]
    files += sorted(str(p) for sub in ("image_load", "network_connection", "file/file_event")
                    for p in (windows / sub).glob("*.yml"))[::6]
    files += [str(p) for p in sorted((windows / "registry" / "registry_event").glob("*.yml"))]
    rules = load_ruleset(files)
    assert len(rules.rules) >= 0.99 * len(files)
    agree, fired, skipped, differ = _cross_check(rules, records)
    assert differ == []
    assert skipped == []
    assert agree == len(rules.rules) == 284  # measured: all 284 sampled rules agree
    assert fired >= 12  # measured 12 rules fire on these attack recordings, on the same records both ways
