"""`hunt --sigma` decodes each EVTX record once for the indicators and every rule: the same
findings as the indicator hunt and the standalone Sigma pass run apart, in one parse per file,
sequential and parallel alike."""

from __future__ import annotations

import json

import evtx
import pytest

from conftest import SAMPLES, need
from tracehound.engines.hunt_types import FileReport, HuntOptions
from tracehound.engines.local_hunt import run_hunt
from tracehound.intel.formats import read_pack
from tracehound.matching.sigma.engine import SigmaStats, sigma_evtx
from tracehound.matching.sigma.hunt import load_ruleset, with_sigma

RULE_DIRS = ("process_creation", "registry/registry_set", "powershell/powershell_script")


@pytest.fixture(scope="module")
def rules():  # noqa: ANN201
    base = need(SAMPLES / "sigma-rules" / "rules" / "windows")
    return load_ruleset([str(base / d) for d in RULE_DIRS] + [str(need(SAMPLES / "sigma"))])


@pytest.fixture(scope="module")
def files() -> list[str]:
    d = need(SAMPLES / "evtx")
    named = [d / "exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx", d / "PanacheSysmon_vs_AtomicRedTeam01.evtx"]
    return sorted({str(p) for p in sorted(d.glob("*.evtx"))[:20] + named})


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    f = tmp_path_factory.mktemp("pack") / "p.csv"
    f.write_text("type,value,confidence\ndomain,inwitelecom.net,80\nipv4,108.179.232.58,80\nipv4,151.101.0.133,80\n")
    return read_pack(str(f))


def _hunt(rules, pack, files: list[str], jobs: int) -> tuple[list[FileReport], list[dict], SigmaStats]:  # noqa: ANN001
    stats = SigmaStats()
    engine = with_sigma(run_hunt, rules, stats)
    reports, docs = [], []
    for report, lines in engine(pack, files, HuntOptions(jobs=jobs)):
        docs += [json.loads(line) for line in lines]
        reports.append(report)
    return reports, docs, stats


def _key(d: dict) -> str:
    return json.dumps(d, sort_keys=True, default=str)


def test_one_parse_per_file_same_findings_as_two_passes(rules, pack, files: list[str],  # noqa: ANN001
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    apart = SigmaStats()
    sigma_apart = [_key(json.loads(json.dumps(d, default=str))) for f in files for d in sigma_evtx(f, rules, apart)]
    ioc_apart = [json.loads(line) for _r, lines in run_hunt(pack, files, HuntOptions(jobs=1))
                 for line in lines]
    opened: list[str] = []
    real = evtx.PyEvtxParser

    def counting(path: str, *a: object) -> object:
        opened.append(path)
        return real(path, *a)

    monkeypatch.setattr(evtx, "PyEvtxParser", counting)
    reports, docs, stats = _hunt(rules, pack, files, jobs=1)
    assert sorted(opened) == sorted(files)  # one parse of each file for the indicators and all the rules
    sigma_docs = [d for d in docs if "rule" in d]
    assert sigma_apart and sorted(_key(d) for d in sigma_docs) == sorted(sigma_apart)
    assert len(ioc_apart) >= 6 and [_key(d) for d in docs if "rule" not in d] == [_key(d) for d in ioc_apart]
    assert (stats.records, stats.hits, stats.evaluations, stats.files) == (apart.records, apart.hits,
                                                                          apart.evaluations, len(files))
    assert stats.per_rule == apart.per_rule and stats.skipped == apart.skipped
    assert sum(r.findings for r in reports) == len(docs)
    assert all(r.companion is None and "companion" not in r.to_dict() for r in reports)


def test_parallel_equals_sequential(rules, pack, files: list[str]) -> None:  # noqa: ANN001
    r1, d1, s1 = _hunt(rules, pack, files, jobs=1)
    r2, d2, s2 = _hunt(rules, pack, files, jobs=2)
    assert [_key(d) for d in d1] == [_key(d) for d in d2] and d1
    assert (s1.records, s1.hits, s1.evaluations, s1.per_rule) == (s2.records, s2.hits, s2.evaluations, s2.per_rule)
    assert [r.to_dict() for r in r1] == [r.to_dict() for r in r2]


def test_files_without_a_worker_result_get_their_own_pass(rules, pack, files: list[str]) -> None:  # noqa: ANN001
    """Where workers cannot run the companion (no fork: they rebuild their state without it), the
    wrapper runs the file's Sigma pass itself: nothing is lost."""
    def no_companion(p, f, o, companion=None):  # noqa: ANN001, ANN202
        return run_hunt(p, f, o)

    _r, d1, s1 = _hunt(rules, pack, files, jobs=1)
    stats = SigmaStats()
    d2 = [json.loads(line) for _r, lines in with_sigma(no_companion, rules, stats)(pack, files, HuntOptions(jobs=1))
          for line in lines]
    assert [_key(d) for d in d1] == [_key(d) for d in d2] and (s1.hits, s1.records) == (stats.hits, stats.records) > (0, 0)
