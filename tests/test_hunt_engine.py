"""Hunt engine: compression, hostile input, parallel = sequential, timeline truth, exit codes."""

import bz2
import gzip
import json
import lzma
import os
from pathlib import Path

import pytest
import zstandard

from conftest import run_cli
from huntutil import hits, hunt, make_pack
from logfixtures import FORMATS
from tracehound.samples import EXPECTED_VERDICTS, HOSTS, UNKNOWN_IP, build_logs


def squid_text() -> tuple[str, dict[int, str]]:
    return FORMATS["squid"]()


def test_compressed_files_read_transparently(tmp_path: Path) -> None:
    text, expected = squid_text()
    data = text.encode()
    files = {"a.log.gz": gzip.compress(data), "b.log.bz2": bz2.compress(data), "c.log.xz": lzma.compress(data),
             "d.log.zst": zstandard.ZstdCompressor().compress(data), "e-no-extension": gzip.compress(data)}
    for name, blob in files.items():
        (tmp_path / name).write_bytes(blob)
    docs, summary = hunt(make_pack(tmp_path), [str(tmp_path / n) for n in files], jobs=2)
    assert all(f.error == "" and f.format == "squid" for f in summary.files)
    per_file: dict[str, set[int]] = {}
    for d in docs:
        per_file.setdefault(d["log"]["file"]["path"], set()).add(d["tracehound"]["line"])
    assert all(per_file[str(tmp_path / n)] == set(expected) for n in files)


def test_truncated_gzip_reports_and_keeps_what_was_read(tmp_path: Path) -> None:
    text, _ = squid_text()
    big = (text * 3000).encode()
    blob = gzip.compress(big)
    (tmp_path / "cut.log.gz").write_bytes(blob[: len(blob) // 2])
    docs, summary = hunt(make_pack(tmp_path), [str(tmp_path / "cut.log.gz")], jobs=1)
    rep = summary.files[0]
    assert rep.truncated and "breaks at compressed byte" in rep.truncated
    assert 0 < len(docs) < 3000 * 6


def test_gzip_bomb_stopped(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.log.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        line = b"1680000000.000 1 10.0.0.5 TCP_MISS/200 1 GET http://www.example.com/ a DIRECT/1.2.3.4 -\n"
        for _ in range(200):
            fh.write(line * 20000)
    docs, summary = hunt(make_pack(tmp_path), [str(bomb)], jobs=1, max_ratio=20)
    assert "decompression bomb" in summary.files[0].truncated


def test_long_line_skipped_and_counted(tmp_path: Path) -> None:
    text, expected = squid_text()
    lines = text.splitlines()
    lines.insert(1, "x" * (3 * 1024 * 1024) + " akamaicontainer.com")
    f = tmp_path / "long.log"
    f.write_text("\n".join(lines) + "\n")
    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1, max_line=1024 * 1024)
    assert summary.files[0].skipped == {"line longer than 1048576 bytes": 1}
    assert set(hits(docs)) == {n + 1 for n in expected}  # line numbers still right after the skipped line


def test_corrupt_lines_counted_and_rest_hunted(tmp_path: Path) -> None:
    text, _ = squid_text()
    rows = text.splitlines()
    out = []
    for i in range(3000):
        row = rows[i % len(rows)]
        out.append(row[: len(row) // 3] + " \x00garbage akamaicontainer.com" if i % 1000 == 999 else row)
    f = tmp_path / "c.log"
    f.write_text("\n".join(out) + "\n")
    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    skipped = summary.skipped()
    assert sum(v for k, v in skipped.items() if k.startswith("unparseable")) == 3
    unparsed = [d for d in docs if d["tracehound"].get("parse_error")]
    assert len(unparsed) == 3  # the indicator in a corrupt line is still reported, not lost
    assert len(docs) - 3 == sum(1 for i in range(3000) if i % 1000 != 999 and i % len(rows) in (1, 4, 5, 7, 8))


def test_binary_unknown_and_special_files(tmp_path: Path, capsys) -> None:
    (tmp_path / "bin.dat").write_bytes(os.urandom(4096) + b"\x00")
    (tmp_path / "unknown.txt").write_text("hello world\nnothing to see\n")
    (tmp_path / "empty.log").write_text("")
    os.mkfifo(tmp_path / "fifo")
    docs, summary = hunt(make_pack(tmp_path), [str(tmp_path)], jobs=1)
    errors = {Path(f.path).name: f.error for f in summary.files}
    assert "binary" in errors["bin.dat"]
    assert errors["unknown.txt"] == ""  # a text file of unknown format is hunted on its raw text, not skipped
    assert {Path(f.path).name: f.format for f in summary.files}["unknown.txt"] == "raw"
    assert "empty" in errors["empty.log"]
    assert "not a regular file" in errors["fifo"]
    code, _, err = run_cli(["hunt", "-o", str(tmp_path / "o.jsonl"), str(tmp_path / "unknown.txt")], capsys)
    assert code == 0 and "unknown log format: 2 records, no host/destination field recognised" in err
    code, _, err = run_cli(["hunt", "-q", "-o", str(tmp_path / "o.jsonl"), str(tmp_path / "bin.dat")], capsys)
    assert code == 3  # nothing could be read


def test_parallel_equals_sequential(tmp_path: Path) -> None:
    paths = []
    for name in ("squid", "bind", "suricata", "zeek-dns", "panos", "cef"):
        text, _ = FORMATS[name]()
        p = tmp_path / f"{name}.log"
        p.write_text(text * 50)
        paths.append(str(p))
    one, _ = hunt(make_pack(tmp_path), paths, jobs=1)
    many, _ = hunt(make_pack(tmp_path), paths, jobs=4)
    assert one == many and len(one) > 100


def test_since_until_window(tmp_path: Path) -> None:
    text, _ = squid_text()
    f = tmp_path / "s.log"
    f.write_text(text)
    from datetime import UTC, datetime

    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1, since=datetime(2023, 3, 28, 10, 40, 4, tzinfo=UTC))
    assert {d["tracehound"]["line"] for d in docs} == {5, 6, 8, 9}
    assert summary.skipped()["outside --since/--until"] == 3  # candidate lines 2-4 (hit, look-alike, CONNECT)


def test_timeline_against_injected_truth(tmp_path: Path, pack3cx) -> None:
    logs = build_logs(tmp_path / "logs")
    docs, summary = hunt(pack3cx, [str(p) for p in logs.values()], jobs=2)
    alice = summary.hosts[HOSTS["WS-ALICE"][0]]
    assert alice.verdict == "compromised"
    assert (alice.first_contact - alice.first_seen).total_seconds() == 7 * 86400 - 1  # DNS query 1 s before
    assert set(alice.indicators) == {"akamaicontainer.com", "162.0.229.159", "github.com/IconStorages/images"}
    assert summary.hosts[UNKNOWN_IP].verdict == EXPECTED_VERDICTS[UNKNOWN_IP]
    assert HOSTS["WS-CAROL"][0] not in summary.hosts  # look-alike domain and CONNECT github.com only
    summary.check_lookback(30, 7, None, None)
    assert any("look-back" in w for w in summary.warnings)  # 14 days of logs < 30 days


def test_cli_exit_codes_and_summary_file(tmp_path: Path, capsys) -> None:
    text, _ = squid_text()
    f = tmp_path / "s.log"
    f.write_text(text)
    out, summ = tmp_path / "f.jsonl", tmp_path / "s.json"
    code, _, err = run_cli(["hunt", str(f), "-o", str(out), "--summary", str(summ)], capsys)
    assert code == 1 and "findings" in err
    s = json.loads(summ.read_text())
    assert s["findings"] == len(out.read_text().splitlines()) == 5
    assert s["coverage"]["squid"]["records"] == 9
    code, _, err = run_cli(["hunt", "--since", "yesterday", str(f)], capsys)
    assert code == 2 and "is not a date" in err
    clean = tmp_path / "clean.log"
    clean.write_text(text.splitlines()[0] + "\n")
    code, _, _ = run_cli(["hunt", "-q", str(clean), "-o", str(tmp_path / "c.jsonl")], capsys)
    assert code == 0


def test_ansi_escape_in_log_never_reaches_terminal(tmp_path: Path, capsys) -> None:
    f = tmp_path / "s.log"
    f.write_text("1680000001.000    100 10.0.0.5 TCP_MISS/200 500 GET http://www.akamaicontainer.com/x "
                 "\x1b[2J\x1b]0;pwned\x07 DIRECT/162.0.229.159 text/html\n")
    code, _, err = run_cli(["hunt", str(f), "-o", str(tmp_path / "o.jsonl")], capsys)
    assert "\x1b]0;pwned" not in err and "\x1b[2J" not in err


@pytest.mark.parametrize("name", ["squid", "zeek-dns", "csv", "w3c-bluecoat"])
def test_split_ranges_equal_whole_file(tmp_path: Path, monkeypatch, name: str) -> None:
    from tracehound.engines import local_hunt

    text, _ = FORMATS[name]()
    header = [ln for ln in text.splitlines() if ln.startswith("#")] if name != "csv" else text.splitlines()[:1]
    body = [ln for ln in text.splitlines() if ln not in header]
    f = tmp_path / f"{name}.log"
    f.write_text("\n".join(header + body * 4000) + "\n")
    whole, s1 = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    monkeypatch.setattr(local_hunt, "SPLIT_MIN", 64 * 1024)
    assert len(local_hunt.plan_units(str(f), 4)) == 4
    split, s2 = hunt(make_pack(tmp_path), [str(f)], jobs=4)
    key = lambda d: (d["tracehound"]["line"], d["tracehound"].get("log", {}).get("offset"))  # noqa: E731
    assert sorted(whole, key=key) == sorted(split, key=key) and len(whole) >= 4000
    assert (s1.files[0].records, s1.files[0].first_ts, s1.files[0].last_ts) == \
        (s2.files[0].records, s2.files[0].first_ts, s2.files[0].last_ts)


def test_corrupt_compressed_header_is_reported_not_raised(tmp_path: Path) -> None:
    # found by hypothesis: a gzip magic followed by an invalid deflate block made isal raise IsalError
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
    zst = tmp_path / "bad.zst"
    zst.write_bytes(b"\x28\xb5\x2f\xfd" + b"\xff" * 32)
    _docs, summary = hunt(make_pack(tmp_path), [str(bad), str(zst)], jobs=1)
    assert [f.error for f in summary.files] == ["empty or unreadable file", "empty or unreadable file"]


def _journal_done(state: Path) -> int:
    """Files the state journal records as finished (complete lines after the header)."""
    text = state.read_text()
    return max(0, text.count("\n") - 1)


def test_resume_journal_torn_last_line_is_hunted_again(tmp_path: Path, capsys) -> None:
    from tracehound.engines.resume import HuntState

    text, _ = squid_text()
    logs = tmp_path / "logs"
    logs.mkdir()
    for n in range(3):
        (logs / f"a{n}.log").write_text(text)
    out = tmp_path / "f.jsonl"
    code, _, _ = run_cli(["hunt", "-q", "-j", "1", "--no-first-seen", "-o", str(out), str(logs)], capsys)
    clean = sorted(out.read_text().splitlines())
    # A state as a crash leaves it: two files recorded, the third line torn mid-write.
    st = HuntState.start(str(out), resume=False)
    per_file = len(clean) // 3
    lines = out.read_text().splitlines(keepends=True)
    st.record(str(logs / "a0.log"), {"path": str(logs / "a0.log")}, sum(len(x) for x in lines[:per_file]))
    st.record(str(logs / "a1.log"), {"path": str(logs / "a1.log")}, sum(len(x) for x in lines[: 2 * per_file]))
    st._fh.close()  # type: ignore[union-attr]
    with st.path.open("a") as fh:
        fh.write('{"path": "' + str(logs / "a2.log") + '", "id": [1')
    code, _, err = run_cli(["hunt", "-j", "1", "--no-first-seen", "--resume", "-o", str(out), str(logs)], capsys)
    assert "resuming: 2 of 3" in err and not st.path.exists()
    assert sorted(out.read_text().splitlines()) == clean  # nothing lost, nothing twice


def test_interrupted_hunt_resumed_without_loss_or_duplicates(tmp_path: Path, capsys) -> None:
    import signal
    import subprocess
    import sys
    import time

    text, _ = squid_text()
    logs = tmp_path / "logs"
    logs.mkdir()
    for n in range(12):
        (logs / f"access-{n:02d}.log").write_text(text * 6000)  # ~9 MB each, 5 findings a copy
    out = tmp_path / "f.jsonl"
    state = tmp_path / "f.jsonl.state.json"
    cmd = [sys.executable, "-m", "tracehound", "hunt", "-q", "-j", "1", "--no-first-seen", "-o", str(out), str(logs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and _journal_done(state) >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the hunt finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _journal_done(state)
    assert 3 <= done_before < 12
    code, _, err = run_cli(["hunt", "-j", "1", "--no-first-seen", "--resume", "-o", str(out), str(logs)], capsys)
    assert code == 1 and f"resuming: {done_before} of 12" in err
    assert not state.exists()  # finished: the state is removed
    resumed = out.read_text().splitlines()
    clean_out = tmp_path / "clean.jsonl"
    run_cli(["hunt", "-q", "-j", "1", "--no-first-seen", "-o", str(clean_out), str(logs)], capsys)
    clean = clean_out.read_text().splitlines()
    assert len(resumed) == len(clean) == 12 * 6000 * 5
    assert sorted(resumed) == sorted(clean)  # nothing lost, nothing duplicated


def test_resume_refuses_without_state(tmp_path: Path, capsys) -> None:
    text, _ = squid_text()
    f = tmp_path / "s.log"
    f.write_text(text)
    code, _, err = run_cli(["hunt", "--resume", "-o", str(tmp_path / "o.jsonl"), str(f)], capsys)
    assert code == 2 and "no state file" in err
    code, _, err = run_cli(["hunt", "--resume", str(f)], capsys)
    assert code == 2 and "needs -o FILE" in err


def test_100mb_line_skipped_and_counted(tmp_path: Path) -> None:
    text, expected = squid_text()
    lines = text.splitlines()
    f = tmp_path / "huge-line.log"
    with f.open("w") as fh:
        fh.write(lines[0] + "\n")
        fh.write("y" * (100 * 1024 * 1024) + " akamaicontainer.com\n")  # 100 MB, with an indicator in it
        fh.write("\n".join(lines[1:]) + "\n")
    docs, summary = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    rep = summary.files[0]
    assert rep.skipped == {"line longer than 1048576 bytes": 1} and rep.records == len(lines) + 1
    assert set(hits(docs)) == {n + 1 for n in expected}  # every other line hunted, numbers intact


def test_first_seen_in_split_ranges_and_out_of_order(tmp_path: Path, monkeypatch) -> None:
    """First sightings read in parallel ranges equal the whole-file pass and the injected truth, also
    when a host's earliest record is late in the file (logs are not always in time order)."""
    from datetime import UTC, datetime

    from tracehound.engines import local_hunt

    def line(ts: float, ip: str, host: str) -> str:
        return f"{ts:.3f}    100 {ip} TCP_MISS/200 500 GET http://{host}/x - DIRECT/93.1.2.3 text/html\n"

    base = 1680000000.0
    rows = [line(base + i, f"10.1.{i % 200}.{i % 250 + 1}", f"www.site{i % 97}.example") for i in range(6000)]
    rows[10] = line(base + 10, "10.9.9.1", "www.example.org")  # host A seen early, in the first MiB
    rows[3000] = line(base + 3000, "10.9.9.1", "www.akamaicontainer.com")  # A's contact
    rows[4000] = line(base + 4000, "10.9.9.2", "www.akamaicontainer.com")  # B's contact ...
    rows[5990] = line(base - 500, "10.9.9.2", "www.example.net")  # ... and B's earliest record, near the end
    rows[2500] = line(base + 2500, "10.9.9.20", "www.example.com")  # a look-alike identity, no hit host
    f = tmp_path / "access.log"
    f.write_text("".join(rows))
    _, whole = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    monkeypatch.setattr(local_hunt, "SPLIT_MIN", 64 * 1024)
    assert len(local_hunt.plan_units(str(f), 3)) == 3
    _, split = hunt(make_pack(tmp_path), [str(f)], jobs=3)
    truth = {"10.9.9.1": base + 10, "10.9.9.2": base - 500}
    for s in (whole, split):
        assert {k: h.first_seen for k, h in s.hosts.items()} == \
            {ip: datetime.fromtimestamp(ts, tz=UTC) for ip, ts in truth.items()}
