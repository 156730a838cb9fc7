"""Browser evidence as the browser left it: visits still in the -wal, Chromium downloads; originals unchanged."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from hosttree import snapshot
from tracehound.findings.ecs import matched_indicators
from tracehound.intel.builtin import load_intel
from tracehound.sweep.engine import SweepOptions, run_sweep

C2 = "https://akamaicontainer.com/wal-only"
BENIGN = "https://www.debian.org/"
WHEN = datetime(2023, 3, 29, 9, 15, tzinfo=UTC)


def firefox_profile_mid_session(tmp_path: Path) -> Path:
    """A profile copied while Firefox ran: the last visit is committed in places.sqlite-wal only."""
    live = tmp_path / "live"
    live.mkdir()
    db = live / "places.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, "
                "visit_count INTEGER, last_visit_date INTEGER)")
    con.execute("INSERT INTO moz_places VALUES (1, ?, '', 3, ?)", (BENIGN, int(WHEN.timestamp() * 1e6)))
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")  # as Firefox runs places.sqlite
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("INSERT INTO moz_places VALUES (2, ?, '', 1, ?)", (C2, int(WHEN.timestamp() * 1e6)))
    con.commit()
    profile = tmp_path / "host" / "home" / "alice" / ".mozilla" / "firefox" / "abcd1234.default-release"
    profile.mkdir(parents=True)
    for suffix in ("", "-wal"):  # the triage copy, taken while the connection is open
        shutil.copyfile(str(db) + suffix, profile / ("places.sqlite" + suffix))
    con.close()
    return tmp_path / "host"


def visits(path: Path, immutable: bool) -> list[str]:
    uri = f"file:{path}?mode=ro&immutable=1" if immutable else f"file:{path}?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        return [r[0] for r in con.execute("SELECT url FROM moz_places ORDER BY id")]
    finally:
        con.close()


def sweep(root: Path) -> tuple[list[dict], object]:
    docs: list[dict] = []
    result = run_sweep(load_intel(["3cx"]), SweepOptions(root=str(root), jobs=1), docs.append)
    return docs, result


def test_visit_only_in_the_wal_is_reported(tmp_path: Path) -> None:
    root = firefox_profile_mid_session(tmp_path)
    places = next(root.rglob("places.sqlite"))
    # The shape of the evidence: the main file alone does not hold the visit; SQLite with the WAL does.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    shutil.copyfile(places, scratch / "places.sqlite")
    assert visits(scratch / "places.sqlite", immutable=True) == [BENIGN]
    shutil.copyfile(str(places) + "-wal", scratch / "places.sqlite-wal")
    assert visits(scratch / "places.sqlite", immutable=False) == [BENIGN, C2]
    before = snapshot(root)
    docs, result = sweep(root)
    assert snapshot(root) == before  # database and WAL unchanged, no -shm or journal created beside them
    assert sorted(p.name for p in places.parent.iterdir()) == ["places.sqlite", "places.sqlite-wal"]
    [hit] = [d for d in docs if d["tracehound"].get("check") == "browser"]
    assert hit["url"]["full"] == C2 and hit["tracehound"]["verdict"] == "compromised"
    [m] = matched_indicators(hit)
    assert m["field"] == "url.domain" and m["value"] == "akamaicontainer.com"
    assert result.verdict == "compromised"


def chromium_profile(tmp_path: Path) -> Path:
    prof = tmp_path / "host" / "Users" / "bob" / "AppData" / "Local" / "Google" / "Chrome" / "User Data" / "Default"
    prof.mkdir(parents=True)
    con = sqlite3.connect(prof / "History")
    con.execute("CREATE TABLE urls (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, visit_count INTEGER, "
                "typed_count INTEGER, last_visit_time INTEGER, hidden INTEGER)")
    con.execute("INSERT INTO urls VALUES (1, ?, '', 1, 0, 13324000000000000, 0)", (BENIGN,))
    con.execute("CREATE TABLE downloads (id INTEGER PRIMARY KEY, guid VARCHAR, current_path LONGVARCHAR, "
                "target_path LONGVARCHAR, start_time INTEGER, tab_url VARCHAR, referrer VARCHAR, site_url VARCHAR)")
    con.execute("CREATE TABLE downloads_url_chains (id INTEGER, chain_index INTEGER, url LONGVARCHAR, "
                "PRIMARY KEY (id, chain_index))")
    con.execute("INSERT INTO downloads VALUES (1, 'g', 'C:\\\\Users\\\\bob\\\\Downloads\\\\x.crdownload', "
                "'C:\\\\Users\\\\bob\\\\Downloads\\\\3CXDesktopApp-18.12.416.msi', 13324000000000000, ?, '', '')",
                (BENIGN,))
    con.execute("INSERT INTO downloads_url_chains VALUES (1, 0, 'https://www.debian.org/redirect')")
    con.execute("INSERT INTO downloads_url_chains VALUES (1, 1, 'https://azureonlinestorage.com/dl/setup.msi')")
    con.execute("INSERT INTO downloads VALUES (2, 'h', '', 'C:\\\\Users\\\\bob\\\\Downloads\\\\fine.zip', "
                "13324000000000000, ?, '', '')", (BENIGN,))
    con.commit()
    con.close()
    return tmp_path / "host"


def test_chromium_download_from_an_indicator(tmp_path: Path) -> None:
    root = chromium_profile(tmp_path)
    before = snapshot(root)
    docs, _result = sweep(root)
    assert snapshot(root) == before
    hits = [d for d in docs if d["tracehound"].get("check") == "browser"]
    assert len(hits) == 1  # the benign visit, benign chain link and the other download are not findings
    [d] = hits
    assert d["url"]["full"] == "https://azureonlinestorage.com/dl/setup.msi"
    assert d["tracehound"]["download_path"].endswith("3CXDesktopApp-18.12.416.msi")
    assert d["tracehound"]["download_time"].startswith("2023-")
    assert "downloads" in d["message"]


def test_hot_journal_is_rolled_back_on_the_copy(tmp_path: Path) -> None:
    """A copy taken mid-transaction: pages already overwritten in places.sqlite, the originals in
    places.sqlite-journal. Read alone (immutable) the file is torn; with its journal it is whole."""
    n = 300
    live = tmp_path / "live"
    live.mkdir()
    db = live / "places.sqlite"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, "
                "visit_count INTEGER, last_visit_date INTEGER)")
    con.execute("BEGIN")
    for i in range(n):
        con.execute("INSERT INTO moz_places VALUES (?, ?, ?, 1, 0)", (i, f"https://akamaicontainer.com/{i}", "t" * 200))
    con.execute("COMMIT")
    con.execute("PRAGMA cache_size=1")  # the uncommitted update spills into the database file
    con.execute("BEGIN")
    con.execute("UPDATE moz_places SET url = 'https://www.debian.org/'")
    profile = tmp_path / "host" / ".mozilla" / "firefox" / "p.default"
    profile.mkdir(parents=True)
    for suffix in ("", "-journal"):
        shutil.copyfile(str(db) + suffix, profile / ("places.sqlite" + suffix))
    con.execute("ROLLBACK")
    con.close()
    scratch = tmp_path / "scratch.sqlite"
    shutil.copyfile(profile / "places.sqlite", scratch)
    torn = [u for u in visits(scratch, immutable=True) if "akamaicontainer" in u]
    assert len(torn) < n  # the shape: without its journal the copy has lost committed visits
    root = tmp_path / "host"
    before = snapshot(root)
    docs, _ = sweep(root)
    assert snapshot(root) == before  # the journal beside the evidence is not rolled back there
    hits = [d for d in docs if d["tracehound"].get("check") == "browser"]
    assert len(hits) == n


def test_safari_history_db(tmp_path: Path) -> None:
    """macOS Safari: History.db (history_items and history_visits, as Safari creates them), with its WAL."""
    safari = tmp_path / "host" / "Users" / "carol" / "Library" / "Safari"
    safari.mkdir(parents=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    db = scratch / "History.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL UNIQUE, "
                "domain_expansion TEXT NULL, visit_count INTEGER NOT NULL, daily_visit_counts BLOB NOT NULL, "
                "weekly_visit_counts BLOB NULL, autocomplete_triggers BLOB NULL, should_recompute_derived_visit_counts "
                "INTEGER NOT NULL, visit_count_score INTEGER NOT NULL)")
    con.execute("CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT, history_item INTEGER NOT NULL "
                "REFERENCES history_items(id) ON DELETE CASCADE, visit_time REAL NOT NULL, title TEXT NULL, "
                "load_successful BOOLEAN NOT NULL DEFAULT 1, http_non_get BOOLEAN NOT NULL DEFAULT 0, synthesized "
                "BOOLEAN NOT NULL DEFAULT 0, redirect_source INTEGER NULL UNIQUE, redirect_destination INTEGER NULL "
                "UNIQUE, origin INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0, attributes INTEGER "
                "NOT NULL DEFAULT 0, score INTEGER NOT NULL DEFAULT 0)")
    con.execute("INSERT INTO history_items (id, url, visit_count, daily_visit_counts, should_recompute_derived_visit_counts,"
                " visit_count_score) VALUES (1, 'https://www.apple.com/', 4, x'', 0, 0)")
    con.execute("INSERT INTO history_visits (history_item, visit_time) VALUES (1, 701000000.0)")
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("INSERT INTO history_items (id, url, visit_count, daily_visit_counts, should_recompute_derived_visit_counts,"
                " visit_count_score) VALUES (2, 'https://glcloudservice.com/x', 2, x'', 0, 0)")
    con.execute("INSERT INTO history_visits (history_item, visit_time) VALUES (2, 701500000.5)")
    con.execute("INSERT INTO history_visits (history_item, visit_time) VALUES (2, 701600000.25)")
    con.commit()
    for suffix in ("", "-wal"):
        shutil.copyfile(str(db) + suffix, safari / ("History.db" + suffix))
    con.close()
    root = tmp_path / "host"
    before = snapshot(root)
    docs, _ = sweep(root)
    assert snapshot(root) == before
    [hit] = [d for d in docs if d["tracehound"].get("check") == "browser"]
    assert hit["url"]["full"] == "https://glcloudservice.com/x" and hit["tracehound"]["browser"] == "safari"
    assert hit["tracehound"]["last_visit"] == "2023-03-27T08:53:20.250000+00:00"  # the latest of its two visits
    assert "(2 visits)" in hit["message"]
