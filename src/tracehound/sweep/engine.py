"""Sweep engine: one walk, each file read at most once, checks in parallel worker processes.

The walk runs in the parent (cheap metadata only); files that some check needs are sent in
batches to workers, which read and hash them once, then run YARA, the Authenticode check and
the metadata readers on the same bytes. A bounded number of batches is in flight, so memory
does not grow with the size of the tree.
"""

from __future__ import annotations

import json
import os
import platform
import socket
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracehound.findings.ecs import VERDICT_ORDER, strongest
from tracehound.intel.formats.native import loads as load_native
from tracehound.intel.formats.native import to_dict as pack_to_dict
from tracehound.intel.model import CERT_TYPES, Indicator, IType, Pack
from tracehound.matching.matcher import Matcher
from tracehound.sources.hosts.reading import FileData, NotRegular, open_evidence, read_and_hash
from tracehound.sources.hosts.walk import Entry, WalkStats, walk
from tracehound.sweep import browsers, files, resolution, signing, signing_macho, software
from tracehound.sweep.docs import now_iso, sweep_doc

DEFAULT_MAX_FILE = 1024 * 1024 * 1024
DEFAULT_YARA_MAX = 64 * 1024 * 1024
PE_MAX = 256 * 1024 * 1024
BATCH = 64
METADATA_NAMES = {"info.plist", "package.json", "app.asar", "hosts"}


@dataclass
class SweepOptions:
    root: str = "/"
    live: bool = False
    host_name: str = ""
    yara: list[str] = field(default_factory=list)
    excludes: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE
    yara_max_size: int = DEFAULT_YARA_MAX
    yara_timeout: int = 30
    jobs: int = 0
    one_file_system: bool = False


@dataclass
class SweepResult:
    host: str
    os_type: str
    verdict: str = "clean"
    findings: int = 0
    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    yara_rules: int = 0
    yara_errors: list[str] = field(default_factory=list)
    complete: bool = True
    installed: list[dict[str, str]] = field(default_factory=list)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


# ---- host identity ---------------------------------------------------------------------------
def guess_os(root: str, live: bool) -> str:
    if live:
        return {"Windows": "windows", "Darwin": "macos"}.get(platform.system(), "linux")
    r = Path(root)
    def has(*parts: str) -> bool:
        return _ci_exists(r, parts)
    if has("Windows", "System32") or has("Users") and not has("Applications"):
        return "windows"
    if has("Applications") or has("System", "Library") or has("Library", "Preferences"):
        return "macos"
    return "linux"


def _ci_exists(root: Path, parts: tuple[str, ...]) -> bool:
    cur = root
    for part in parts:
        try:
            names = {n.lower(): n for n in os.listdir(cur)}
        except OSError:
            return False
        if part.lower() not in names:
            return False
        cur = cur / names[part.lower()]
    return True


def guess_host_name(root: str, live: bool, os_type: str) -> str:
    if live:
        return socket.gethostname()
    r = Path(root)
    try:
        hn = r / "etc" / "hostname"
        if hn.is_file() and not hn.is_symlink() and hn.stat().st_size < 256:
            name = hn.read_text(encoding="utf-8", errors="replace").strip()
            if name:
                return name
        prefs = r / "Library" / "Preferences" / "SystemConfiguration" / "preferences.plist"
        if prefs.is_file() and not prefs.is_symlink() and prefs.stat().st_size < 1 << 20:
            import plistlib

            data = plistlib.loads(prefs.read_bytes())
            for key in ("System", "System", "ComputerName"):  # each level may be anything in a hostile file
                data = data.get(key) if isinstance(data, dict) else None
            if isinstance(data, str) and data:
                return data
    except Exception:  # noqa: BLE001 - best effort: plistlib raises many types; fall back to the folder name
        pass
    return os.path.basename(os.path.abspath(root).rstrip("/")) or "host"


def shown(path: str) -> str:
    """A path as valid UTF-8 text: undecodable bytes of the on-disk name become \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# ---- worker side ---------------------------------------------------------------------------
_W: dict[str, Any] = {}


def _init(pack_json: str, options: SweepOptions, host: str, os_type: str) -> None:
    pack = load_native(pack_json, "<sweep>")
    _W.update(pack=pack, options=options, host=host, os_type=os_type, files=files.FileIndex.build(pack),
              products=software.ProductIndex.build(pack), matcher=Matcher(pack),
              certs={i.value: i for i in pack.indicators if i.type in CERT_TYPES},
              signers={s.lower() for i in pack.indicators for s in i.ctx("signer")})
    _W["scanner"] = None
    if options.yara:
        from tracehound.sweep.yara_rules import YaraScanner, compile_rules

        rs = compile_rules(options.yara)
        if rs.rules is not None:
            _W["scanner"] = YaraScanner(rs, options.yara_timeout)


def _doc(check: str, verdict: str, message: str, matches: list[tuple[Indicator, str, str]],
         category: str = "file", fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return sweep_doc(_W["host"], _W["os_type"], check, verdict, message, matches, _W["pack"].name, category, fields)


def wants_content(e: Entry, index: files.FileIndex, products: software.ProductIndex, yara: bool, certs: bool) -> bool:
    """Cheap decision from metadata: does any check need this file's bytes?"""
    if index.hashes or yara or certs:
        return True
    name = os.path.basename(e.rel).lower()
    return bool(products) and (name in ("info.plist", "package.json", "app.asar") or name.endswith(".exe")) \
        or bool(browsers.browser_of(e.rel)) or resolution.is_hosts_file(e.rel) or name in ("ntuser.dat", "software")


def name_findings(e: Entry) -> list[dict[str, Any]]:
    """File-name and path-regex indicators: metadata only, no read."""
    index: files.FileIndex = _W["files"]
    out: list[dict[str, Any]] = []
    name = os.path.basename(e.rel)
    file_fields = {"file.path": shown(e.path), "file.name": shown(name), "file.size": e.size, "file.mtime": _iso_mtime(e)}
    name_ind = index.name_hit(name)
    if name_ind is not None and files.name_alerts(name_ind):
        verdict = "exposed" if files.is_installer(name, name_ind) else "suspicious"
        dist = files.is_distribution_point(e.rel)
        out.append(_doc("files", "info" if dist and verdict == "exposed" else verdict,
                        f"file name {name} is an indicator" + (" (served to clients: distribution point)" if dist else ""),
                        [(name_ind, "file.name", name)], fields={**file_fields, "tracehound.distribution_point": dist or None}))
    for rind in index.regex_hits(e.rel):
        if rind.confidence >= files.REGEX_ALERT_CONFIDENCE:
            out.append(_doc("files", "suspicious", f"path matches {rind.ctx('description') or ['a path indicator']}",
                            [(rind, "file.path", e.rel)], fields=file_fields))
    return out


def check_file(e: Entry) -> tuple[list[dict[str, Any]], list[dict[str, str]], int, str]:
    """Worker: all content checks of one file. Returns (findings, installed, bytes read, skip reason)."""
    opt: SweepOptions = _W["options"]
    index: files.FileIndex = _W["files"]
    products: software.ProductIndex = _W["products"]
    out = name_findings(e)
    installed: list[dict[str, str]] = []
    name = os.path.basename(e.rel)
    file_fields = {"file.path": shown(e.path), "file.name": shown(name), "file.size": e.size, "file.mtime": _iso_mtime(e)}
    need_hash = bool(index.hashes)
    if e.size > opt.max_file_size:
        return out, installed, 0, f"larger than --max-file-size ({opt.max_file_size} bytes): not read"
    lname = name.lower()
    meta = software.MAX_META if (lname in METADATA_NAMES or resolution.is_hosts_file(e.rel)) else 0
    yara_keep = opt.yara_max_size if _W["scanner"] else 0
    pe_keep = PE_MAX if (_W["certs"] or _W["signers"] or products) else 0

    def keep_for(head: bytes) -> int:
        # Content is kept in memory only for the checks that need it: YARA candidates, PE files
        # (signatures, version resources) and the small metadata files.
        binary = head[:2] == b"MZ" or signing_macho.is_macho(head)
        return max(meta, yara_keep, pe_keep if binary else 0)

    try:
        fd: FileData = read_and_hash(e.path, index.algos if need_hash else (), keep_for)
    except NotRegular:
        return out, installed, 0, "replaced by a special file during the sweep"
    except FileNotFoundError:
        return out, installed, 0, "vanished during the sweep"
    except PermissionError:
        return out, installed, 0, "not readable (permission)"
    except OSError as exc:
        return out, installed, 0, f"read error ({exc.strerror or exc})"
    fields = {**file_fields, **{f"file.hash.{a}": h for a, h in fd.hashes.items()}}
    # Hashes: one finding per file, one enrichment per matching hash type.
    hash_hits = [(ind, f"file.hash.{algo}", h) for algo, h in fd.hashes.items() if (ind := index.hashes.get(h))]
    if hash_hits:
        ind = hash_hits[0][0]
        dist = files.is_distribution_point(e.rel)
        installer = files.is_installer(name, ind)
        verdict = "info" if dist else "exposed" if installer else "compromised"
        what = ", ".join(ind.ctx("file_name") + ind.ctx("label")) or "a payload"
        msg = (f"{'distribution point: ' if dist else ''}{'affected installer' if installer else 'payload'} on disk "
               f"({'/'.join(f[11:] for _, f, _ in hash_hits)} of {what})")
        out.append(_doc("files", verdict, msg, hash_hits, fields={**fields, "tracehound.distribution_point": dist or None}))
    data = fd.data
    # Each check is isolated: a failure in one (hostile file) must not erase what the others found.
    def guarded(check: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            out.append(_doc(check, "info", f"{check} check failed on {shown(name)}: {type(exc).__name__}: {exc}", [],
                            fields=fields))

    def yara_check() -> None:
        if _W["scanner"] is None or data is None or fd.size > opt.yara_max_size:
            return
        rules, err = _W["scanner"].scan(data, shown(e.path))
        if err:
            out.append(_doc("yara", "info", f"{err}: {shown(name)}", [], fields=fields))
        for rule, tags, meta in rules:
            verdict = "suspicious" if rule.upper().startswith("SUSP_") or "METARULE" in tags else "compromised"
            out.append(_doc("yara", verdict, f"YARA rule {rule} matched", [], fields={
                **fields, "rule.name": rule, "rule.description": str(meta.get("description", "")) or None,
                "rule.reference": str(meta.get("reference", "")) or None, "tags": tags or None}))

    def pe_check() -> None:
        if data is None or fd.head[:2] != b"MZ":
            return
        out.extend(_check_signature(data, shown(name), fields))
        if products and any(k in software.normalize_product(name) for k in products.names() if len(k) >= 5):
            inst = software.from_pe_version(data, e.path)
            if inst:
                installed.append({**inst.__dict__, "installed": _iso_mtime(e)})

    def metadata_check() -> None:
        lname = name.lower()
        if data is not None and products:
            inst = None
            if lname == "info.plist" and "/contents/info.plist" in ("/" + e.rel.lower()):
                inst = software.from_info_plist(data, shown(e.path))
            elif lname == "package.json" and "/resources/app/package.json" in ("/" + e.rel.lower()):
                inst = software.from_package_json(data, shown(e.path), _platform_of_path(e.rel))
            if inst:
                installed.append({**inst.__dict__, "installed": _iso_mtime(e)})
        if lname == "app.asar" and products:
            installed.extend({**i.__dict__, "installed": _iso_mtime(e)} for i in [_asar_version(e, data)] if i)
        if lname in ("ntuser.dat", "software") and products:
            found, _err = software.from_registry_hive(e.path)
            installed.extend(i.__dict__ for i in found)

    def browser_check() -> None:
        b = browsers.browser_of(e.rel)
        if b:
            out.extend(_check_history(e, b))

    def resolution_check() -> None:
        if not resolution.is_hosts_file(e.rel) or data is None:
            return
        for line, ip, host, verdict in resolution.hosts_entries(data.decode("utf-8", errors="replace"), _W["matcher"]):
            ind = _W["matcher"].domain(host) or _W["matcher"].ip(ip)
            out.append(_doc("resolution", verdict, f"hosts file line {line} pins {host} to {ip}",
                            [(ind, "dns.question.name", host)] if ind else [], category="network",
                            fields={**file_fields, "dns.question.name": host, "dns.resolved_ip": [ip]}))

    for check, fn in (("yara", yara_check), ("signing", pe_check), ("software", metadata_check),
                      ("browser", browser_check), ("resolution", resolution_check)):
        guarded(check, fn)
    if (_W["certs"] or _W["signers"]) and signing_macho.is_macho(fd.head):
        if data is None:
            return out, installed, fd.size, "Mach-O larger than the in-memory limit: signature not checked"
        guarded("signing", lambda: out.extend(_check_macho(data, shown(name), fields)))
    return out, installed, fd.size, ""


def _iso_mtime(e: Entry) -> str:
    return datetime.fromtimestamp(e.mtime, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _asar_version(e: Entry, data: bytes | None) -> software.Installed | None:
    """Electron archives are large (about 100 MB): read only the header and package.json."""
    if data is not None:
        return software.from_asar(lambda off, n: data[off : off + n], len(data), shown(e.path), _platform_of_path(e.rel))
    fd = open_evidence(e.path)
    try:
        return software.from_asar(lambda off, n: os.pread(fd, n, off), e.size, shown(e.path), _platform_of_path(e.rel))
    finally:
        os.close(fd)


def _platform_of_path(rel: str) -> str:
    low = "/" + rel.lower()
    if ".app/contents/" in low:
        return "macos"
    if "/appdata/" in low or "/program files" in low or "/windows/" in low:
        return "windows"
    return _W.get("os_type", "")


def _check_signature(data: bytes, name: str, fields: dict[str, Any]) -> list[dict[str, Any]]:
    certs: dict[str, Indicator] = _W["certs"]
    signers: set[str] = _W["signers"]
    loc = signing.certificate_table(data)
    if loc is None:
        return []
    info = signing.inspect_pe(data, verify=False)
    out = []
    subject = info.signers[0].subject if info.signers else ""
    sig_fields = {**fields, "file.code_signature.exists": info.signed,
                  "file.code_signature.subject_name": subject or None,
                  "file.code_signature.thumbprint_sha1": info.signers[0].sha1 if info.signers else None,
                  "file.code_signature.thumbprint_sha256": info.signers[0].sha256 if info.signers else None}
    hit = [(certs[c.sha1], "file.code_signature.thumbprint_sha1", c.sha1) for c in info.certificates if c.sha1 in certs]
    hit += [(certs[c.sha256], "file.code_signature.thumbprint_sha256", c.sha256) for c in info.certificates
            if c.sha256 in certs]
    if hit:
        out.append(_doc("signing", "exposed", f"{name} is signed with a compromised certificate ({subject})", hit,
                        fields=sig_fields))
    if info.anomalies:
        out.append(_doc("signing", "suspicious", f"{name}: signature anomaly: {'; '.join(info.anomalies)}", [],
                        fields={**sig_fields, "file.code_signature.status": info.verified or None}))
    elif signers and subject and any(s in subject.lower() for s in signers):
        checked = signing.inspect_pe(data, verify=True)
        if checked.verified == "digest mismatch":
            out.append(_doc("signing", "suspicious", f"{name}: signed digest does not match the file", [],
                            fields={**sig_fields, "file.code_signature.status": checked.verified}))
    return out


def _check_macho(data: bytes, name: str, fields: dict[str, Any]) -> list[dict[str, Any]]:
    certs: dict[str, Indicator] = _W["certs"]
    found = signing_macho.macho_certificates(data)
    hit = [(certs[c.sha1], "file.code_signature.thumbprint_sha1", c.sha1) for c in found if c.sha1 in certs]
    hit += [(certs[c.sha256], "file.code_signature.thumbprint_sha256", c.sha256) for c in found if c.sha256 in certs]
    if not hit:
        return []
    leaf = found[0]
    return [_doc("signing", "exposed", f"{name} (Mach-O) is signed with a compromised certificate ({leaf.subject})", hit,
                 fields={**fields, "file.code_signature.exists": True, "file.code_signature.subject_name": leaf.subject,
                         "file.code_signature.thumbprint_sha1": leaf.sha1,
                         "file.code_signature.thumbprint_sha256": leaf.sha256})]


def _check_history(e: Entry, browser: str) -> list[dict[str, Any]]:
    matcher: Matcher = _W["matcher"]
    out = []
    try:
        for url, last, count in browsers.history_urls(e.path, browser):
            ind = matcher.url(url)
            fld = "url.full"
            if ind is None:
                from tracehound.matching.normalize import norm_url

                host = norm_url(url)[0]
                ind = matcher.domain(host) or matcher.ip(host)
                fld = "url.domain"
            if ind is None:
                continue
            out.append(_doc("browser", "compromised", f"{browser} history: visit to an indicator ({count} visits)",
                            [(ind, fld, url)], category="web",
                            fields={"url.full": url, "file.path": shown(e.path), "tracehound.last_visit":
                                    last.isoformat() if last else None, "tracehound.browser": browser}))
    except Exception as exc:  # noqa: BLE001 - corrupt or locked databases must not stop the sweep
        out.append(_doc("browser", "info", f"{browser} history unreadable: {type(exc).__name__}: {exc}", [],
                        fields={"file.path": shown(e.path)}))
    return out


def _check_batch(batch: list[Entry]) -> list[tuple[Entry, list[dict[str, Any]], list[dict[str, str]], int, str]]:
    res = []
    for e in batch:
        try:
            docs, inst, n, skip = check_file(e)
        except Exception as exc:  # noqa: BLE001 - one hostile file must not stop the sweep
            docs, inst, n, skip = [], [], 0, f"check failed ({type(exc).__name__})"
        res.append((e, docs, inst, n, skip))
    return res


# ---- parent side ---------------------------------------------------------------------------
def run_sweep(pack: Pack, options: SweepOptions, emit: Callable[[dict[str, Any]], None],
              progress: Callable[[int, int], None] | None = None) -> SweepResult:
    root = os.path.abspath(options.root)
    os_type = guess_os(root, options.live)
    host = options.host_name or guess_host_name(root, options.live, os_type)
    result = SweepResult(host=host, os_type=os_type)
    pack_json = json.dumps(pack_to_dict(pack))
    _init(pack_json, options, host, os_type)
    if options.yara:
        from tracehound.sweep.yara_rules import compile_rules

        rs = compile_rules(options.yara)
        result.yara_rules, result.yara_errors = rs.count, rs.errors
    verdicts: list[str] = []

    def take(doc: dict[str, Any]) -> None:
        emit(doc)
        result.findings += 1
        v = doc["tracehound"]["verdict"]
        if v in VERDICT_ORDER:
            verdicts.append(v)

    index, products = _W["files"], _W["products"]
    for reason, n in index.refused_summary().items():  # feed regexes the linear-time engine refused
        result.skip(reason, n)
    certs = bool(_W["certs"] or _W["signers"])
    stats = WalkStats()
    jobs = max(1, options.jobs or os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(pack_json, options, host, os_type)) \
        if jobs > 1 else None
    inflight: set[Future[Any]] = set()

    def collect(items: list[tuple[Entry, list[dict[str, Any]], list[dict[str, str]], int, str]]) -> None:
        for _e, docs, inst, n, skip in items:
            for d in docs:
                take(d)
            result.installed += inst
            if n or not skip:
                result.files_read += 1  # a file read with a note (e.g. Mach-O) still counts as read
            result.bytes_read += n
            if skip:
                result.skip(skip)
        if progress:
            progress(result.files_read, result.bytes_read)

    try:
        batch: list[Entry] = []
        for e in walk(root, stats, options.excludes, options.one_file_system):
            result.files_seen += 1
            if not wants_content(e, index, products, bool(_W["scanner"]), certs):
                for d in name_findings(e):
                    take(d)
                continue
            batch.append(e)
            if len(batch) >= BATCH:
                if pool is None:
                    collect(_check_batch(batch))
                else:
                    inflight.add(pool.submit(_check_batch, batch))
                    if len(inflight) >= jobs * 4:
                        done, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                        for f in done:
                            collect(f.result())
                batch = []
        if batch:
            if pool is None:
                collect(_check_batch(batch))
            else:
                inflight.add(pool.submit(_check_batch, batch))
        for f in inflight:
            collect(f.result())
        inflight = set()
        if options.live:
            _live_checks(take, result)
    except KeyboardInterrupt:
        result.complete = False
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
    finally:
        if pool is not None:
            pool.shutdown()
    for k, v in stats.skipped.items():
        result.skip(k, v)
    result.errors = stats.errors
    for inst in result.installed:
        take_installed(inst, take)
    result.verdict = strongest(verdicts) if verdicts else "clean"
    emit(summary_doc(result, pack.name, root, options.live))
    return result


def take_installed(inst: dict[str, str], take: Callable[[dict[str, Any]], None]) -> None:
    products: software.ProductIndex = _W["products"]
    i = software.Installed(**inst)
    status, ind = products.assess(i)
    if status == "unrelated":
        return
    fields = {"package.name": i.product, "package.version": i.version, "package.path": i.path,
              "package.type": i.source, "package.installed": i.installed or None, "tracehound.platform": i.platform}
    if status == "affected" and ind is not None:
        take(_doc("software", "exposed", f"{i.product} {i.version} ({i.platform}) is an affected version",
                  [(ind, "package.version", i.version)], category="package", fields=fields))
    else:
        take(_doc("software", "info", f"{i.product} {i.version} ({i.platform or 'unknown platform'}) installed: "
                  f"not an affected version", [], category="package", fields=fields))


def _live_checks(take: Callable[[dict[str, Any]], None], result: SweepResult) -> None:
    from tracehound.sweep import live

    matcher: Matcher = _W["matcher"]
    index: files.FileIndex = _W["files"]
    procs = {}
    for p in live.processes():
        procs[p.pid] = p
        ind = index.name_hit(p.name) if p.name else None
        if ind is not None and files.name_alerts(ind):
            take(_doc("process", "suspicious", f"process {p.name} (pid {p.pid}) has an indicator name",
                      [(ind, "process.name", p.name)], category="process",
                      fields={"process.pid": p.pid, "process.name": p.name, "process.executable": p.exe}))
        if p.exe and index.hashes:
            try:
                fd = read_and_hash(p.exe, index.algos, 0)
            except OSError:
                continue
            for algo, h in fd.hashes.items():
                hi = index.hashes.get(h)
                if hi is not None:
                    take(_doc("process", "compromised", f"running process {p.name} (pid {p.pid}) is a payload",
                              [(hi, f"process.hash.{algo}", h)], category="process",
                              fields={"process.pid": p.pid, "process.name": p.name, "process.executable": p.exe,
                                      f"process.hash.{algo}": h}))
    conns, err = live.connections()
    if err:
        result.skip(err)
    for c in conns:
        ind = matcher.ip(c.raddr_ip)
        if ind is None:
            continue
        proc = procs.get(c.pid or -1)
        verdict = "compromised" if ind.confidence >= 70 else "suspicious"
        take(_doc("network", verdict, f"connection to {c.raddr_ip}:{c.raddr_port} ({c.status})",
                  [(ind, "destination.ip", c.raddr_ip)], category="network",
                  fields={"destination.ip": c.raddr_ip, "destination.port": c.raddr_port, "process.pid": c.pid,
                          "process.name": proc.name if proc else None,
                          "process.executable": proc.exe if proc else None}))


def summary_doc(result: SweepResult, pack_name: str, root: str, live: bool) -> dict[str, Any]:
    return {
        "@timestamp": now_iso(),
        "event": {"kind": "state", "category": ["host"], "type": ["info"], "module": "tracehound",
                  "dataset": "tracehound.sweep"},
        "host": {"name": result.host, "os": {"type": result.os_type}},
        "message": f"sweep of {result.host}: {result.verdict}",
        "tracehound": {
            "source": "sweep", "record": "host-summary", "verdict": result.verdict, "host": result.host,
            "root": root, "mode": "live" if live else "offline", "complete": result.complete, "pack": pack_name,
            "counts": {"files_seen": result.files_seen, "files_read": result.files_read,
                       "bytes_read": result.bytes_read, "findings": result.findings},
            "skipped": result.skipped, "yara": {"rules": result.yara_rules, "errors": result.yara_errors},
        },
    }


__all__ = ["IType", "SweepOptions", "SweepResult", "run_sweep"]
