"""Windows events as JSON lines (evtx_dump's EVTX JSON, Winlogbeat's ECS) reach the EVTX rules."""

from __future__ import annotations

import json
from pathlib import Path

import evtx
import pytest

from conftest import SAMPLES, need, run_cli

REG = SAMPLES / "sigma-regression" / "regression_data"


def _case() -> tuple[Path, Path, str]:
    info = next(need(REG).rglob("proc_creation_win_*/info.yml"))
    rid = next(line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if "- id:" in line)
    rule = next((SAMPLES / "sigma-rules").rglob(info.parent.name + ".yml"))
    return rule, next(info.parent.glob("*.evtx")), rid


def _winlogbeat(event: dict) -> dict:
    sysd, data = event["Event"]["System"], event["Event"]["EventData"]
    return {"@timestamp": sysd["TimeCreated"]["#attributes"]["SystemTime"], "host": {"name": sysd["Computer"]},
            "event": {"code": str(sysd["EventID"]), "provider": sysd["Provider"]["#attributes"]["Name"]},
            "winlog": {"channel": sysd["Channel"], "event_id": str(sysd["EventID"]), "computer_name": sysd["Computer"],
                       "provider_name": sysd["Provider"]["#attributes"]["Name"], "record_id": sysd["EventRecordID"],
                       "event_data": data}}


@pytest.mark.parametrize("shape", ["evtx-json", "winlogbeat"])
def test_json_lines_fire_the_evtx_rule(shape: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule, evtx_file, rid = _case()
    events = [json.loads(r["data"]) for r in evtx.PyEvtxParser(str(evtx_file)).records_json()]
    rows = [e if shape == "evtx-json" else _winlogbeat(e) for e in events]
    log = tmp_path / "events.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"unrelated": 1}\n')
    out = tmp_path / "hits.jsonl"
    code, _o, err = run_cli(["hunt", "--sigma", str(rule), str(log), "-o", str(out), "--no-first-seen"], capsys)
    assert code == 1, err
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [d["rule"]["id"] for d in docs] == [rid]
    d = docs[0]
    assert d["tracehound"]["format"] == "jsonl" and d["event"]["code"] == "1" and d["host"]["name"]
    assert d["tracehound"]["line"] in range(1, len(rows) + 1)
