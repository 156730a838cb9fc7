"""The hunt in one pass: first sightings collected while hunting, compiled prefilters cached on disk."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from huntutil import hunt, make_pack
from tracehound.matching import hs_cache
from tracehound.matching.prefilter import Prefilter

BASE = 1680000000.0


def _line(ts: float, ip: str, host: str) -> str:
    return f"{ts:.3f}    100 {ip} TCP_MISS/200 500 GET http://{host}/x - DIRECT/93.1.2.3 text/html\n"


def _log(path: Path, n: int = 90_000, contacts: tuple[int, ...] = ()) -> dict[str, float]:
    """About 10 MB (three read blocks): A seen early and hit at 60 %; B hit at 30 % and its earliest
    record at 95 %, after its contact (out of time order); a look-alike identity never hit; and
    contacts of both hosts on the lines given."""
    rows = [_line(BASE + i, f"10.1.{i % 200}.{i % 250 + 1}", f"www.site{i % 97}.example") for i in range(n)]
    for i in contacts:
        rows[i] = _line(BASE + i, "10.9.9.1", "pbxsources.com")
        rows[i + 1] = _line(BASE + i + 1, "10.9.9.2", "pbxsources.com")
    rows[10] = _line(BASE + 10, "10.9.9.1", "www.example.org")
    rows[n * 6 // 10] = _line(BASE + n * 6 // 10, "10.9.9.1", "www.akamaicontainer.com")
    rows[n * 3 // 10] = _line(BASE + n * 3 // 10, "10.9.9.2", "www.akamaicontainer.com")
    rows[n * 95 // 100] = _line(BASE - 500, "10.9.9.2", "www.example.net")
    rows[n // 2] = _line(BASE - 900, "10.9.9.20", "www.example.com")
    path.write_text("".join(rows))
    return {"10.9.9.1": BASE + 10, "10.9.9.2": BASE - 500}


@pytest.fixture
def read_back(monkeypatch):
    """The ranges the second (first-sighting) pass reads."""
    from tracehound.engines import first_seen

    got: list[tuple[int, int | None]] = []
    real = first_seen._unit

    def spy(item):
        got.append((item[0].start, item[0].end))
        return real(item)

    monkeypatch.setattr(first_seen, "_unit", spy)
    return got


def test_first_sightings_collected_in_the_hunt_pass(tmp_path: Path, read_back) -> None:
    f = tmp_path / "access.log"
    truth = _log(f)
    size = f.stat().st_size
    want = {ip: datetime.fromtimestamp(ts, tz=UTC) for ip, ts in truth.items()}
    docs, one = hunt(make_pack(tmp_path), [str(f)], jobs=1)
    assert len(docs) == 2 and {k: h.first_seen for k, h in one.hosts.items()} == want
    followed = list(read_back)
    read_back.clear()
    docs2, two = hunt(make_pack(tmp_path), [str(f)], jobs=1, track_sightings=False)
    assert docs2 == docs and {k: h.first_seen for k, h in two.hosts.items()} == want
    assert read_back == [(0, None)]  # without the hunt's parts: the whole file again
    # With them: only the part before the block where A's hit was found (B's earliest record, at
    # 95 %, after its contact, came from the hunt's own pass).
    assert len(followed) == 1 and followed[0][0] == 0 and followed[0][1] is not None
    stop = followed[0][1]
    assert 0 < stop <= size * 6 // 10 and f.read_bytes()[stop - 1:stop] == b"\n"  # a block's first line


def test_first_sightings_in_split_ranges(tmp_path: Path, monkeypatch, read_back) -> None:
    """Ranges hunted by separate workers: a host hit near the start of every range is followed through
    all of them, so nothing is read again; one never hit in a range leaves that range to read."""
    from tracehound.engines import local_hunt

    f = tmp_path / "access.log"
    n = 90_000
    truth = _log(f, n, contacts=(n * 2 // 100, n * 35 // 100, n * 68 // 100))
    monkeypatch.setattr(local_hunt, "SPLIT_MIN", 1024 * 1024)
    assert len(local_hunt.plan_units(str(f), 3)) == 3
    _, split = hunt(make_pack(tmp_path), [str(f)], jobs=3)
    assert {k: h.first_seen for k, h in split.hosts.items()} == \
        {ip: datetime.fromtimestamp(ts, tz=UTC) for ip, ts in truth.items()}
    assert read_back == []
    _log(f, n)  # hits of A only in the second range, of B only in the first: the others' ranges are read
    # again, in part when a worker learnt of the host from another one before its range's end
    _, split = hunt(make_pack(tmp_path), [str(f)], jobs=3)
    assert {k: h.first_seen for k, h in split.hosts.items()} == \
        {ip: datetime.fromtimestamp(ts, tz=UTC) for ip, ts in truth.items()}
    assert 0 < sum(e - s for s, e in read_back if e is not None) <= f.stat().st_size


def test_hosts_found_in_one_file_are_followed_in_the_next(tmp_path: Path, read_back) -> None:
    """Files hunted one after the other share the hit hosts: a file without hits, read after the one
    with them, is followed from its first block and not read again."""
    hit = tmp_path / "a-hits.log"
    hit.write_text(_line(BASE + 100, "10.9.9.1", "pbxsources.com") + _line(BASE + 101, "10.3.3.3", "www.example.org"))
    quiet = tmp_path / "b-quiet.log"
    quiet.write_text(_line(BASE + 50, "10.4.4.4", "www.example.org") + _line(BASE - 7200, "10.9.9.1", "www.example.net"))
    _, s = hunt(make_pack(tmp_path), [str(hit), str(quiet)], jobs=1)
    assert {k: h.first_seen for k, h in s.hosts.items()} == {"10.9.9.1": datetime.fromtimestamp(BASE - 7200, tz=UTC)}
    assert read_back == []  # both followed from their first byte: nothing read twice


def test_prefilter_cache(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("hyperscan")
    monkeypatch.setattr(hs_cache, "CACHE_MIN", 3)
    lits = {"akamaicontainer.com", "162.0.229.159", "pbxsources.com", "msedgepackageinfo.com"}
    data = b"x www.AkamaiContainer.com y\n162.0.229.159 pbxsources.com\nnothing\n"
    folder = tmp_path / "cache"
    first = Prefilter(lits, cache_dir=str(folder))
    assert first.cache == "compiled, cached"
    entries = list(folder.iterdir())
    assert len(entries) == 1 and entries[0].suffix == ".hsdb" and entries[0].stat().st_mode & 0o077 == 0
    second = Prefilter(lits, cache_dir=str(folder))
    assert second.cache == "loaded"
    assert sorted(second.candidate_ends(data)) == sorted(first.candidate_ends(data)) and len(first.candidate_ends(data)) == 3
    assert Prefilter(lits | {"other.example"}, cache_dir=str(folder)).cache == "compiled, cached"  # another key
    raw = bytearray(entries[0].read_bytes())
    raw[-1] ^= 0xFF
    entries[0].write_bytes(bytes(raw))
    assert Prefilter(lits, cache_dir=str(folder)).cache == "compiled, cached"  # corrupt: rebuilt, rewritten
    assert Prefilter(lits, cache_dir=str(folder)).cache == "loaded"
    os.chmod(folder, 0o777)
    assert Prefilter(lits, cache_dir=str(folder)).cache == "compiled"  # writable by others: neither read nor written
    assert Prefilter(lits, cache_dir="").cache == ""  # no folder: no cache


def test_left_to_read_cut_in_pieces_of_one_size(tmp_path: Path) -> None:
    """What first sightings read again is cut at line starts into pieces of the size asked, covering the
    range exactly; a range under two pieces stays whole; one worker never cuts."""
    from tracehound.engines import first_seen
    from tracehound.engines.hunt_types import WorkUnit

    f = tmp_path / "access.log"
    _log(f, 30_000)
    data = f.read_bytes()
    start = data.index(b"\n", 1000) + 1
    unit = WorkUnit(str(f), start, len(data))
    pieces = first_seen._pieces(unit, 2, 300_000)
    assert len(pieces) == (len(data) - start) // 300_000 >= 4
    assert pieces[0].start == start and pieces[-1].end == len(data)
    assert all(a.end == b.start and data[b.start - 1:b.start] == b"\n" for a, b in zip(pieces, pieces[1:], strict=False))
    assert max(p.end - p.start for p in pieces[:-1]) - min(p.end - p.start for p in pieces[:-1]) < 1000  # one line
    assert first_seen._pieces(WorkUnit(str(f), start, start + 500_000), 2, 300_000) == [WorkUnit(str(f), start, start + 500_000)]
    assert first_seen._pieces(unit, 1, 300_000) == [unit]
