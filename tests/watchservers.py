"""Loopback servers for the watch tests: a real medallion TAXII 2.1 server (memory backend, a JSON data
file written here) and a MISP feed served by http.server that counts requests and answers conditionally."""

from __future__ import annotations

import copy
import email.utils
import hashlib
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "watcher", "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _data_file(port: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    return {
        "/discovery": {"title": "tracehound test TAXII", "description": "", "contact": "",
                       "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
        "api1": {
            "information": {"title": "api1", "description": "", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 9765625},
            "status": [],
            "collections": [{"id": COLLECTION, "title": "watch test", "description": "", "can_read": True,
                             "can_write": True, "media_types": ["application/stix+json;version=2.1"],
                             "objects": [], "manifest": []}],
        },
    }


@contextmanager
def medallion(tmp: Path, page_size: int = 2) -> Iterator[str]:
    """A medallion server on 127.0.0.1; yields the collection URL. Stopped (and waited for) on exit."""
    pytest.importorskip("medallion")
    port = free_port()
    data = tmp / "taxii-data.json"
    data.write_text(json.dumps(_data_file(port)))
    config = tmp / "medallion.json"
    config.write_text(json.dumps({"backend": {"module": "medallion.backends.memory_backend",
                                              "module_class": "MemoryBackend", "filename": str(data)},
                                  "users": {USER: PASSWORD}, "taxii": {"max_page_size": page_size}}))
    proc = subprocess.Popen([sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(port),
                             str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/api1/collections/{COLLECTION}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"medallion did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def taxii_add(url: str, objects: list[dict[str, Any]]) -> None:
    """POST objects to the collection; each first checked by the OASIS STIX 2.1 validator."""
    from stix2validator import ValidationOptions, validate_instance
    from taxii2client.v21 import Collection

    for obj in objects:
        result = validate_instance(obj, ValidationOptions(version="2.1"))
        assert result.is_valid and not result.warnings, [str(e) for e in [*result.errors, *result.warnings]]

    status = Collection(url, user=USER, password=PASSWORD).add_objects(
        {"type": "bundle", "id": "bundle--6a5a1b8e-4a0a-4c7e-9d6b-2a6f3f1e9c01", "objects": objects})
    assert status.success_count == len(objects), status.failures


def stix_indicator(n: int, pattern: str, modified: str = "2026-01-01T00:00:00.000Z", **extra: Any) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
            "created": "2026-01-01T00:00:00.000Z", "modified": modified, "pattern": pattern, "pattern_type": "stix",
            "name": f"test indicator {n}", "description": "served by the watch tests' TAXII server",
            "valid_from": "2026-01-01T00:00:00Z", **extra}


class Feed:
    """A MISP feed folder served over HTTP with ETag/Last-Modified; counts GETs per path; `fail` = status to send."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hits: dict[str, int] = {}
        self.not_modified = 0
        self.fail = 0
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                name = self.path.rsplit("/", 1)[-1]
                feed.hits[name] = feed.hits.get(name, 0) + 1
                if feed.fail:
                    self.send_error(feed.fail)
                    return
                f = feed.root / name
                if not f.is_file():
                    self.send_error(404)
                    return
                body = f.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                modified = email.utils.formatdate(int(f.stat().st_mtime), usegmt=True)
                if self.headers.get("If-None-Match") == etag:
                    feed.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Feed:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def publish(self, events: dict[str, dict[str, Any]]) -> None:
        """Write manifest.json, one UUID.json per event and hashes.csv (MD5 of each value, event UUID)."""
        from pymisp import MISPEvent

        manifest, hashes = {}, []
        for uuid, ev in events.items():
            loaded = MISPEvent()
            loaded.from_dict(**copy.deepcopy(ev))  # PyMISP reads the event the feed serves (and pops keys)
            assert loaded.uuid == uuid
            (self.root / f"{uuid}.json").write_text(json.dumps({"Event": ev}))
            manifest[uuid] = {"info": ev.get("info", ""), "timestamp": ev["timestamp"], "date": "2026-01-01",
                              "analysis": "2", "threat_level_id": "1", "Orgc": {"name": "test"}}
            hashes += [f"{hashlib.md5(a['value'].encode()).hexdigest()},{uuid}" for a in ev["Attribute"]]
        for stale in self.root.glob("*.json"):
            if stale.stem not in events and stale.name != "manifest.json":
                stale.unlink()
        (self.root / "manifest.json").write_text(json.dumps(manifest))
        (self.root / "hashes.csv").write_text("\n".join(hashes) + "\n")


def misp_event(uuid: str, timestamp: int, values: list[tuple[str, str]]) -> dict[str, Any]:
    return {"uuid": uuid, "info": f"event {uuid[:8]}", "date": "2026-01-01", "timestamp": str(timestamp),
            "Attribute": [{"type": t, "value": v, "category": "Network activity", "to_ids": True,
                           "uuid": f"{uuid[:-4]}{n:04d}"} for n, (t, v) in enumerate(values)]}


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback test server
        return json.loads(resp.read())
