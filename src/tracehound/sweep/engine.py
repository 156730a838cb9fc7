"""Sweep engine: one walk, each file read at most once, checks in parallel worker processes.

The walk runs in the parent (cheap metadata only); files that some check needs are sent in
batches to workers, which read and hash them once, then run every check of the registry
(sweep/checks/: one module per check) on the same bytes. A bounded number of batches is in flight, so memory
does not grow with the size of the tree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from tracehound import fsutil
from tracehound.findings.ecs import VERDICT_ORDER, strongest
from tracehound.intel.formats.native import loads as load_native
from tracehound.intel.formats.native import to_dict as pack_to_dict
from tracehound.intel.model import CERT_TYPES, IType, Pack
from tracehound.matching.matcher import Matcher
from tracehound.sources.hosts.reading import FileData, NotRegular, read_and_hash
from tracehound.sources.hosts.walk import Entry, WalkStats
from tracehound.sources.targets import Target, open_target
from tracehound.sources.targets.facts import Facts
from tracehound.sources.targets.folder import FolderTarget
from tracehound.sweep import checks, files, installs, software
from tracehound.sweep.checks.base import Context, FileResult, FileView, file_fields, shown
from tracehound.sweep.products import ProductDefs, definitions_for, load_definition_file
from tracehound.sweep.summary import SweepResult, nothing_checked, summary_doc

DEFAULT_MAX_FILE = 1024 * 1024 * 1024
DEFAULT_YARA_MAX = 64 * 1024 * 1024
BATCH = 64
BATCH_BYTES = 16 * 1024 * 1024  # a batch is sent once it holds this much too: large files do not pile up in one


@dataclass
class SweepOptions:
    root: str = "/"
    target: str = ""  # a folder or a collection archive (zip/tar[.gz|.zst]); overrides root when set
    live: bool = False
    host_name: str = ""
    yara: list[str] = field(default_factory=list)
    excludes: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE
    yara_max_size: int = DEFAULT_YARA_MAX
    yara_timeout: int = 30
    rule_cache: bool = True  # compiled YARA rules kept under $XDG_CACHE_HOME/tracehound/yara (--no-rule-cache)
    jobs: int = 0
    one_file_system: bool = False
    product_defs: list[str] = field(default_factory=list)  # extra product definition files (--product-def)


# ---- host identity (kept for callers; the target guesses) ------------------------------------
def guess_os(root: str, live: bool) -> str:
    return FolderTarget(root, live).os_type()


def guess_host_name(root: str, live: bool, os_type: str = "") -> str:
    """The tree's own name for itself. Read through the safe opener: an `etc -> /etc` symlink in
    the tree is not followed (it would name the analyst's machine) and atimes are kept."""
    return FolderTarget(root, live).host_name()


# ---- worker side ---------------------------------------------------------------------------
_W: dict[str, Any] = {}


def _init(pack_json: str, options: SweepOptions, host: str, os_type: str, ruleset: Any = None) -> None:
    pack = load_native(pack_json, "<sweep>")
    ctx = Context(pack=pack, options=options, host=host, os_type=os_type, files=files.FileIndex.build(pack),
                  products=software.ProductIndex.build(pack), matcher=Matcher(pack),
                  certs={i.value: i for i in pack.indicators if i.type in CERT_TYPES},
                  signers={s.lower() for i in pack.indicators for s in i.ctx("signer")},
                  defs=ProductDefs(definitions_for(pack, [load_definition_file(f) for f in options.product_defs])))
    if options.yara or any(r.kind == "yara" for r in pack.rules):  # --yara files and the pack's own rules
        # Workers get the parent's compiled rules, serialized: loading them is not compiling.
        from tracehound.intel.rule_check import pack_yara
        from tracehound.sweep.yara_cache import default_dir
        from tracehound.sweep.yara_rules import YaraScanner, compile_rules

        rs = ctx.ruleset = ruleset.loaded() if ruleset is not None else \
            compile_rules(options.yara, default_dir() if options.rule_cache else None, pack_yara(pack))
        if rs.rules is not None:
            ctx.scanner = YaraScanner(rs, options.yara_timeout)
    enabled = checks.enabled_checks(ctx, options.live)
    _W.update(ctx=ctx, checks=enabled, walkers=[c for c in enabled if type(c).walked is not checks.Check.walked])


def _worker_init(pack_json: str, options: SweepOptions, host: str, os_type: str, ruleset: Any = None) -> None:
    fsutil.noatime_misses(reset=True)  # a forked worker must not report the parent's count again
    inherited = getattr(_W.get("ctx"), "ruleset", None)  # a forked worker has the parent's loaded rules already
    if ruleset is not None and inherited is not None and inherited.rules is not None and inherited.files == ruleset.files:
        ruleset = inherited
    _init(pack_json, options, host, os_type, ruleset)


def wants_content(e: Entry) -> bool:
    """Cheap decision from metadata: does any check need this file's bytes?"""
    ctx = _W["ctx"]
    return any(c.wants(e, ctx) for c in _W["checks"])


def name_findings(e: Entry) -> list[dict[str, Any]]:
    """Findings from names and paths alone: metadata only, no read."""
    ctx = _W["ctx"]
    return [d for c in _W["checks"] for d in c.names(e, ctx)]


def check_file(e: Entry) -> tuple[list[dict[str, Any]], list[dict[str, str]], int, str]:
    """Worker: all content checks of one file, on one read. Returns (findings, installed, bytes read, skip reason)."""
    ctx: Context = _W["ctx"]
    opt: SweepOptions = ctx.options
    enabled: list[checks.Check] = _W["checks"]
    res = FileResult(out=name_findings(e))
    if e.size > opt.max_file_size:
        return res.out, res.installed, 0, f"larger than --max-file-size ({opt.max_file_size} bytes): not read"

    def keep_for(head: bytes) -> int:
        # Content is kept in memory only for the checks that need it (YARA candidates, binaries for
        # signatures and version resources, the small metadata files).
        return max((c.keep(e, head, ctx) for c in enabled), default=0)

    try:
        target: Target | None = _W.get("target")  # the parent's target; workers read folders
        fd: FileData = (target.read_and_hash if target is not None else read_and_hash)(
            e, ctx.files.algos if ctx.files.hashes else (), keep_for)
    except NotRegular:
        return res.out, res.installed, 0, "replaced during the sweep (symlink, special file or other file): not read"
    except FileNotFoundError:
        return res.out, res.installed, 0, "vanished during the sweep"
    except PermissionError:
        return res.out, res.installed, 0, "not readable (permission)"
    except OSError as exc:
        return res.out, res.installed, 0, f"read error ({exc.strerror or exc})"
    ff = file_fields(e)
    view = FileView(e, os.path.basename(e.rel), ff, {**ff, **{f"file.hash.{a}": h for a, h in fd.hashes.items()}},
                    fd.hashes, fd.head, fd.data, fd.size)
    # Every enabled check sees every file read (each decides cheaply whether it applies), and each is
    # isolated: a failure in one (hostile file) must not erase what the others found.
    for c in enabled:
        try:
            c.check(view, ctx, res)
        except Exception as exc:  # noqa: BLE001
            res.out.append(ctx.doc(c.name, "info", f"{c.name} check failed on {shown(view.name)}: "
                                   f"{type(exc).__name__}: {exc}", [], fields=view.fields))
    return res.out, res.installed, fd.size, res.reason()


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
              progress: Callable[[int, int], None] | None = None, target: Target | None = None) -> SweepResult:
    """Sweep options.target (or options.root), or the given already opened target (closed at the end)."""
    fsutil.noatime_misses(reset=True)
    target = target or open_target(options.target or options.root, options.live)
    root = target.display
    os_type = target.os_type()
    host = options.host_name or target.host_name()
    result = SweepResult(host=host, os_type=os_type)
    pack_json = json.dumps(pack_to_dict(pack))
    _init(pack_json, options, host, os_type)
    _W["target"] = target
    ctx: Context = _W["ctx"]
    rs = ctx.ruleset
    if rs is not None:
        result.yara_rules, result.yara_errors = rs.count, rs.errors
        result.not_checked += rs.not_checked()
    for r in pack.rules:
        if r.kind == "yara" and r.error:
            result.skip("pack YARA rule that does not compile, not run (see `tracehound intel show`)")
    verdicts: list[str] = []

    def take(doc: dict[str, Any]) -> None:
        emit(doc)
        result.findings += 1
        v = doc["tracehound"]["verdict"]
        if v in VERDICT_ORDER:
            verdicts.append(v)

    for reason, n in ctx.files.refused_summary().items():  # feed regexes the linear-time engine refused
        result.skip(reason, n)
    stats = WalkStats()
    profile = installs.MtimeProfile()
    facts = Facts()
    # Archive members are read from one forward stream: checked here, as the walk yields them.
    jobs = 1 if target.sequential else max(1, options.jobs or os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(pack_json, options, host, os_type, rs.for_worker() if rs is not None and rs.rules is not None else None)) \
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
        batch_bytes = 0
        for e in target.walk(stats, options.excludes, options.one_file_system):
            result.files_seen += 1
            facts.add(e.rel)
            profile.add(e.mtime)
            for c in _W["walkers"]:  # checks that see every file in walk order, here (folders seen, ...)
                for d in c.walked(e, ctx):
                    take(d)
            if not wants_content(e):
                for d in name_findings(e):
                    take(d)
                continue
            batch.append(e)
            batch_bytes += e.size
            if len(batch) >= BATCH or batch_bytes >= BATCH_BYTES or target.sequential:
                if pool is None:
                    collect(_check_batch(batch))
                else:
                    inflight.add(pool.submit(_check_batch, batch))
                    if len(inflight) >= jobs * 4:
                        done, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                        for f in done:
                            collect(f.result())
                batch, batch_bytes = [], 0
        if batch:
            if pool is None:
                collect(_check_batch(batch))
            else:
                inflight.add(pool.submit(_check_batch, batch))
        for f in inflight:
            collect(f.result())
        inflight = set()
        for c in _W["checks"]:  # once per target (the live-only checks run only when live)
            c.host(ctx, take, result)
    except KeyboardInterrupt:
        result.interrupted = True
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
    finally:
        if pool is not None:
            pool.shutdown()
        target.close()
        _W.pop("target", None)
    result.opened_without_noatime += fsutil.noatime_misses(reset=True)  # walk, host guess, in-process checks
    for k, v in stats.skipped.items():
        result.skip(k, v)
    result.errors = stats.errors
    installs.settle_install_times(result.installed, None if options.live else profile.copy_window())
    for inst in result.installed:
        installs.take_installed(inst, take, ctx.products, ctx.doc)
    nothing_checked(result, pack, rs is not None, root, options.live)
    result.verdict = strongest(verdicts) if verdicts else "clean"
    summary = summary_doc(result, pack.name, root, options.live)
    summary["tracehound"]["target"] = {"kind": target.kind, **facts.as_dict()}  # what the sweep covered
    emit(summary)
    return result


__all__ = ["IType", "shown", "SweepOptions", "SweepResult", "run_sweep", "summary_doc"]
