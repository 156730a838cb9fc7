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
from typing import Any

from tracehound import fsutil
from tracehound.findings.ecs import VERDICT_ORDER, strongest
from tracehound.intel.formats.native import loads as load_native
from tracehound.intel.formats.native import to_dict as pack_to_dict
from tracehound.intel.model import CERT_TYPES, Indicator, IType, Pack
from tracehound.matching.matcher import Matcher
from tracehound.sources.hosts.reading import (
    FileData,
    NotRegular,
    open_evidence,
    read_and_hash,
    release_folder,
)
from tracehound.sources.hosts.walk import Entry, WalkStats, walk
from tracehound.sweep import (
    browsers,
    files,
    installs,
    live_checks,
    package_check,
    resolution,
    signature_checks,
    signing_macho,
    software,
)
from tracehound.sweep.docs import sweep_doc
from tracehound.sweep.products import ProductDefs, definitions_for, load_definition_file
from tracehound.sweep.summary import SweepResult, summary_doc

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
    product_defs: list[str] = field(default_factory=list)  # extra product definition files (--product-def)


# ---- host identity ---------------------------------------------------------------------------
def guess_os(root: str, live: bool) -> str:
    if live:
        return {"Windows": "windows", "Darwin": "macos"}.get(platform.system(), "linux")

    def has(*parts: str) -> bool:  # listed through the safe opener: no symlink followed, atimes kept
        return fsutil.ci_exists(root, parts)
    if has("Windows", "System32") or has("Users") and not has("Applications"):
        return "windows"
    if has("Applications") or has("System", "Library") or has("Library", "Preferences"):
        return "macos"
    return "linux"


def guess_host_name(root: str, live: bool, os_type: str) -> str:
    """The tree's own name for itself. Read through the safe opener: an `etc -> /etc` symlink in
    the tree is not followed (it would name the analyst's machine) and atimes are kept."""
    if live:
        return socket.gethostname()
    raw = fsutil.read_beneath(root, "etc/hostname", 255)
    name = raw.decode("utf-8", errors="replace").strip() if raw else ""
    if name:
        return name
    prefs = fsutil.read_beneath(root, "Library/Preferences/SystemConfiguration/preferences.plist", (1 << 20) - 1)
    if prefs:
        try:
            import plistlib

            data: Any = plistlib.loads(prefs)
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
              signers={s.lower() for i in pack.indicators for s in i.ctx("signer")},
              defs=ProductDefs(definitions_for(pack, [load_definition_file(f) for f in options.product_defs])))
    _W["scanner"] = _W["ruleset"] = None
    if options.yara:
        from tracehound.sweep.yara_rules import YaraScanner, compile_rules

        rs = _W["ruleset"] = compile_rules(options.yara)
        if rs.rules is not None:
            _W["scanner"] = YaraScanner(rs, options.yara_timeout)


def _worker_init(pack_json: str, options: SweepOptions, host: str, os_type: str) -> None:
    fsutil.noatime_misses(reset=True)  # a forked worker must not report the parent's count again
    _init(pack_json, options, host, os_type)


def _doc(check: str, verdict: str, message: str, matches: list[tuple[Indicator, str, str]],
         category: str = "file", fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return sweep_doc(_W["host"], _W["os_type"], check, verdict, message, matches, _W["pack"].name, category, fields)


def wants_content(e: Entry, index: files.FileIndex, products: software.ProductIndex, yara: bool, certs: bool,
                  defs: ProductDefs | None = None) -> bool:
    """Cheap decision from metadata: does any check need this file's bytes?"""
    if index.hashes or yara or certs:
        return True
    name = os.path.basename(e.rel).lower()
    return bool(products) and (name in ("info.plist", "package.json", "app.asar") or name.endswith(".exe")) \
        or bool(browsers.browser_of(e.rel)) or resolution.is_hosts_file(e.rel) or name in ("ntuser.dat", "software") \
        or bool(products) and installs.is_receipt(e.rel) \
        or bool(defs and products and defs.packages(os.path.basename(e.rel)))


def name_findings(e: Entry) -> list[dict[str, Any]]:
    """File-name and path-regex indicators: metadata only, no read."""
    index: files.FileIndex = _W["files"]
    out: list[dict[str, Any]] = []
    name = os.path.basename(e.rel)
    file_fields = {"file.path": shown(e.path), "file.name": shown(name), "file.size": e.size, "file.mtime": _iso_mtime(e)}
    name_ind = index.name_hit(name)
    if name_ind is not None and files.name_alerts(name_ind):
        verdict = "exposed" if files.is_installer(name, name_ind) else "suspicious"
        dist = files.is_distribution_point(e.rel, _W["defs"])
        out.append(_doc("files", verdict,
                        f"file name {name} is an indicator" + (f" (served to clients: distribution point, {dist})"
                                                               if dist else ""),
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
    meta = software.MAX_META if (lname in METADATA_NAMES or resolution.is_hosts_file(e.rel)
                                 or installs.is_receipt(e.rel)) else 0
    yara_keep = opt.yara_max_size if _W["scanner"] else 0
    pe_keep = PE_MAX if (_W["certs"] or _W["signers"] or products) else 0

    def keep_for(head: bytes) -> int:
        # Content is kept in memory only for the checks that need it: YARA candidates, PE files
        # (signatures, version resources) and the small metadata files.
        binary = head[:2] == b"MZ" or signing_macho.is_macho(head)
        return max(meta, yara_keep, pe_keep if binary else 0)

    try:
        fd: FileData = read_and_hash(e, index.algos if need_hash else (), keep_for)
    except NotRegular:
        return out, installed, 0, "replaced during the sweep (symlink, special file or other file): not read"
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
        dist = files.is_distribution_point(e.rel, _W["defs"])
        installer = files.is_installer(name, ind)
        verdict = "exposed" if dist or installer else "compromised"  # served to clients, not run here
        what = ", ".join(ind.ctx("file_name") + ind.ctx("label")) or ("a listed installer" if installer else "a payload")
        kinds = "/".join(f.removeprefix("file.hash.") for _, f, _ in hash_hits)
        msg = (f"{f'distribution point ({dist}): served to clients: ' if dist else ''}"
               f"{'affected installer' if installer else 'payload'} on disk ({kinds} of {what})")
        out.append(_doc("files", verdict, msg, hash_hits, fields={**fields, "tracehound.distribution_point": dist or None}))
    data = fd.data
    note: list[str] = []  # why a check could not read what it needed (counted in the summary)
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
        out.extend(signature_checks.check_pe(data, shown(name), fields, _W["certs"], _W["signers"], _doc))
        if products and any(k in software.normalize_product(name) for k in products.names() if len(k) >= 5):
            inst = software.from_pe_version(data, e.path)
            if inst:
                installed.append({**inst.__dict__, "installed": _iso_mtime(e), "installed_source": "file mtime"})

    def metadata_check() -> None:
        lname = name.lower()
        if data is not None and products:
            inst = None
            if lname == "info.plist" and "/contents/info.plist" in ("/" + e.rel.lower()):
                inst = software.from_info_plist(data, shown(e.path))
            elif lname == "package.json" and "/resources/app/package.json" in ("/" + e.rel.lower()):
                inst = software.from_package_json(data, shown(e.path), _platform_of_path(e.rel))
            if inst:
                installed.append({**inst.__dict__, "installed": _iso_mtime(e), "installed_source": "file mtime"})
        if lname == "app.asar" and products:
            installed.extend({**i.__dict__, "installed": _iso_mtime(e), "installed_source": "file mtime"} for i in [_asar_version(e, data)] if i)
        if lname in ("ntuser.dat", "software") and products:
            found, err = software.from_registry_hive(e)
            installed.extend(i.__dict__ for i in found)
            if err:  # a hive swapped for a FIFO or a symlink, or malformed: counted and said, not silent
                note.append(err)
                out.append(_doc("software", "info", f"{shown(name)}: {err}", [], fields=fields))
        if data is not None and products and installs.is_receipt(e.rel):
            installed.extend(i.__dict__ for i in installs.from_receipt(data, shown(e.path)))

    def browser_check() -> None:
        b = browsers.browser_of(e.rel)
        if b:
            out.extend(_check_history(e, b, note))

    def resolution_check() -> None:
        if not resolution.is_hosts_file(e.rel) or data is None:
            return
        for line, ip, host, verdict in resolution.hosts_entries(data.decode("utf-8", errors="replace"), _W["matcher"]):
            ind = _W["matcher"].domain(host) or _W["matcher"].ip(ip)
            out.append(_doc("resolution", verdict, f"hosts file line {line} pins {host} to {ip}",
                            [(ind, "dns.question.name", host)] if ind else [], category="network",
                            fields={**file_fields, "dns.question.name": host, "dns.resolved_ip": [ip]}))

    def packages_check() -> None:
        for hit in _W["defs"].packages(name) if products else []:
            out.extend(package_check.check_package(e.path, fd.size, data, shown(e.path), shown(name), hit,
                                                   files.is_distribution_point(e.rel, _W["defs"]), products,
                                                   index.hashes, fields, _doc))

    for check, fn in (("yara", yara_check), ("signing", pe_check), ("software", metadata_check),
                      ("browser", browser_check), ("resolution", resolution_check), ("packages", packages_check)):
        guarded(check, fn)
    if (_W["certs"] or _W["signers"]) and signing_macho.is_macho(fd.head):
        if data is None:
            return out, installed, fd.size, "Mach-O larger than the in-memory limit: signature not checked"
        guarded("signing", lambda: out.extend(signature_checks.check_macho(data, shown(name), fields, _W["certs"],
                                                                           _doc)))
    if _W["scanner"] is not None and fd.size > opt.yara_max_size:
        note.append(f"read, but larger than --yara-max-size ({opt.yara_max_size} bytes): no YARA scan")
    return out, installed, fd.size, note[0] if note else ""


def _iso_mtime(e: Entry) -> str:
    return datetime.fromtimestamp(e.mtime, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _asar_version(e: Entry, data: bytes | None) -> software.Installed | None:
    """Electron archives are large (about 100 MB): read only the header and package.json."""
    if data is not None:
        return software.from_asar(lambda off, n: data[off : off + n], len(data), shown(e.path), _platform_of_path(e.rel))
    fd = open_evidence(e)
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


def _check_history(e: Entry, browser: str, note: list[str]) -> list[dict[str, Any]]:
    matcher: Matcher = _W["matcher"]
    out = []
    try:
        for url, last, count in browsers.history_urls(e, browser):
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
    except browsers.HistoryLimit as exc:  # hostile database: refused or stopped, counted in the summary
        note.append(f"browser history {exc.kind}")
        out.append(_doc("browser", "info", f"{browser} history {exc.kind}: {exc}", [], fields={"file.path": shown(e.path)}))
    except Exception as exc:  # noqa: BLE001 - corrupt or locked databases must not stop the sweep
        note.append("browser history unreadable")
        out.append(_doc("browser", "info", f"{browser} history unreadable: {type(exc).__name__}: {exc}", [],
                        fields={"file.path": shown(e.path)}))
    return out


def _check_batch(batch: list[Entry]) -> tuple[list[tuple[Entry, list[dict[str, Any]], list[dict[str, str]], int, str]], int]:
    """The checks of a batch, and how many opens of it could not use O_NOATIME."""
    res = []
    for e in batch:
        try:
            docs, inst, n, skip = check_file(e)
        except Exception as exc:  # noqa: BLE001 - one hostile file must not stop the sweep
            docs, inst, n, skip = [], [], 0, f"check failed ({type(exc).__name__})"
        res.append((e, docs, inst, n, skip))
    return res, fsutil.noatime_misses(reset=True)


# ---- parent side ---------------------------------------------------------------------------
def run_sweep(pack: Pack, options: SweepOptions, emit: Callable[[dict[str, Any]], None],
              progress: Callable[[int, int], None] | None = None) -> SweepResult:
    root = os.path.abspath(options.root)
    fsutil.noatime_misses(reset=True)
    os_type = guess_os(root, options.live)
    host = options.host_name or guess_host_name(root, options.live, os_type)
    result = SweepResult(host=host, os_type=os_type)
    pack_json = json.dumps(pack_to_dict(pack))
    _init(pack_json, options, host, os_type)
    rs = _W["ruleset"]
    if rs is not None:
        result.yara_rules, result.yara_errors = rs.count, rs.errors
        result.not_checked += rs.not_checked()
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
    profile = installs.MtimeProfile()
    jobs = max(1, options.jobs or os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(pack_json, options, host, os_type)) \
        if jobs > 1 else None
    inflight: set[Future[Any]] = set()

    def collect(batch_result: tuple[list[tuple[Entry, list[dict[str, Any]], list[dict[str, str]], int, str]], int]) -> None:
        items, result_misses = batch_result
        result.opened_without_noatime += result_misses
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
            profile.add(e.mtime)
            if not wants_content(e, index, products, bool(_W["scanner"]), certs, _W["defs"]):
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
            live_checks.run(take, result, _W["matcher"], _W["files"], _doc)
    except KeyboardInterrupt:
        result.interrupted = True
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
    finally:
        if pool is not None:
            pool.shutdown()
        release_folder()
    result.opened_without_noatime += fsutil.noatime_misses(reset=True)  # walk, host guess, in-process checks
    for k, v in stats.skipped.items():
        result.skip(k, v)
    result.errors = stats.errors
    installs.settle_install_times(result.installed, None if options.live else profile.copy_window())
    for inst in result.installed:
        installs.take_installed(inst, take, products, _doc)
    result.verdict = strongest(verdicts) if verdicts else "clean"
    emit(summary_doc(result, pack.name, root, options.live))
    return result


__all__ = ["IType", "SweepOptions", "SweepResult", "run_sweep", "summary_doc"]
