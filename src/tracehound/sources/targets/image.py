"""A disk image read in place with the dissect libraries (dissect.target's containers, volume
systems and file systems: Fox-IT's forensic framework, pure Python, no mount, no root).

The image file is opened once through the safe opener and only ever read. Containers: raw/dd,
E01 (dissect.evidence), VMDK, VHD/VHDX, QCOW2 (dissect.hypervisor), detected from the content.
Why dissect: one pure-Python stack (PyPI wheels, no C bindings to build) covering containers,
volume systems and file systems, maintained for forensics. Partition tables: MBR, GPT (dissect.volume); an image without one is a single volume.
File systems: ext2/3/4 (dissect.extfs), FAT (dissect.fat), NTFS (dissect.ntfs). With several
file systems, the one holding the OS (`Windows`, `etc`, `Users`) is the evidence root and the
others are walked under `volN/`.

A hostile image ends with counted skips: a volume or file system that cannot be read (truncated,
a partition past the end) is skipped with its reason, a folder already walked (a directory loop)
is not walked again, a looping FAT cluster chain is stopped, each listing or read is stopped after
OP_TIME_LIMIT seconds, folders deeper than 256 levels are not walked, links and special files are
not followed; the files are checked in the sweep's own process, as the walk yields them.
"""

from __future__ import annotations

import fnmatch
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any

from tracehound.sources.hosts.reading import CHUNK, FileData, hash_chunks
from tracehound.sources.hosts.walk import MAX_DEPTH, Entry, WalkStats
from tracehound.sources.targets.base import Target, TargetError, base_name, open_container
from tracehound.sources.targets.members import MemberEntry, activate, deactivate

MEMBER_MEMORY = 256 * 1024 * 1024
OS_TOP = ("windows", "etc", "users", "applications")
NTFS_META = {"$mft", "$mftmirr", "$logfile", "$volume", "$attrdef", "$badclus", "$bitmap", "$boot", "$upcase", "$secure",
             "$extend"}  # the file system's own records, hidden when NTFS is mounted; not user files


def _why(what: str, exc: BaseException) -> str:
    """The counted reason: a loop or a time limit is said as such, other errors by their type."""
    text = str(exc)
    if "chain loops" in text:
        return f"{what}: cluster chain loop in the file system (not read)"
    if isinstance(exc, TimeoutError):
        return f"{what}: stopped at the time limit ({OP_TIME_LIMIT} s)"
    return f"{what} ({type(exc).__name__})"


def _errors() -> tuple[type[BaseException], ...]:
    return (OSError, EOFError, ValueError, KeyError, IndexError, NotImplementedError, RuntimeError, AttributeError,
            TypeError, OverflowError)


OP_TIME_LIMIT = 60  # seconds for one folder listing or one file read inside an image (a loop the guards miss)


def _guard_fat() -> None:
    """dissect.fat follows a FAT cluster chain until its end mark: a chain that loops (a cluster
    pointing back into its own chain) never ends. Every chain is followed with the clusters seen so
    far and stops, raising, at the first repeat (memory bounded by the FAT's size)."""
    try:
        from dissect.fat import fat as fatmod
    except ImportError:
        return
    original = fatmod.FAT.chain
    if getattr(original, "tracehound_guard", False):
        return

    def chain(self: Any, cluster: int) -> Iterator[int]:
        seen: set[int] = set()
        for c in original(self, cluster):
            if c in seen:
                raise ValueError(f"FAT cluster chain loops at cluster {c}")
            seen.add(c)
            yield c

    chain.tracehound_guard = True  # type: ignore[attr-defined]
    fatmod.FAT.chain = chain


class _TimeLimit:
    """SIGALRM after OP_TIME_LIMIT seconds (main thread, Unix): raises TimeoutError (an OSError,
    counted like any unreadable entry) out of a reader stuck in a loop no guard catches."""

    def __enter__(self) -> None:
        self.armed = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
        if self.armed:
            self.old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, OP_TIME_LIMIT)

    @staticmethod
    def _fire(_sig: int, _frame: Any) -> None:
        raise TimeoutError(f"stopped after {OP_TIME_LIMIT} s (time limit)")

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)


class _Named:
    """The image opened by the safe opener, named by its path (dissect's VMDK/VHDX readers use the
    name of the file object; read-only: no write method exists)."""

    def __init__(self, fh: IO[bytes], name: str) -> None:
        self._fh, self.name = fh, name

    def read(self, n: int = -1) -> bytes:
        return self._fh.read(n)

    def readinto(self, b: Any) -> int:
        return self._fh.readinto(b)  # type: ignore[attr-defined]

    def seek(self, off: int, whence: int = 0) -> int:
        return self._fh.seek(off, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._fh.close()


CONTAINERS = (("vmdk", "VmdkContainer"), ("vhdx", "VhdxContainer"), ("vhd", "VhdContainer"),
              ("qcow2", "QCow2Container"), ("ewf", "EwfContainer"))


def _open_container(fh: Any, container: Any) -> Any:
    """The image's container (E01, VMDK, VHD/VHDX, QCOW2, else raw), detected from the open file:
    each format's own detection from the content, the file position reset before each try."""
    import importlib

    for module, name in CONTAINERS:
        try:
            cls = getattr(importlib.import_module(f"dissect.target.containers.{module}"), name)
            fh.seek(0)
            if cls.detect(fh):
                fh.seek(0)
                return cls(fh)
        except (ImportError, AttributeError):
            continue
    fh.seek(0)
    return container.open(fh)


class ImageTarget(Target):
    kind = "image"
    sequential = True

    def __init__(self, path: str) -> None:
        try:
            from dissect.target import container, filesystem, volume
        except ImportError:
            raise TargetError(f"{path}: disk images need the 'dissect.target' package") from None
        _guard_fat()
        self.path, self.fh = open_container(path)
        self.display = self.path
        self.problems: dict[str, int] = {}
        self.errors: list[str] = []
        try:
            disk = _open_container(_Named(self.fh, self.path), container)
        except Exception as exc:  # noqa: BLE001 - dissect raises many types on unknown or broken images
            self.fh.close()
            raise TargetError(f"{self.path}: not a disk image dissect can read ({type(exc).__name__}: {exc})") from None
        sources: list[Any] = []
        try:
            vs = volume.open(disk)
            sources = list(vs.volumes)
        except Exception:  # noqa: BLE001 - no partition table: the whole disk is one volume
            sources = [disk]
        self.filesystems: list[tuple[str, Any]] = []
        for n, vol in enumerate(sources):
            try:
                fs = filesystem.open(vol)
            except Exception as exc:  # noqa: BLE001
                self._problem("volume without a readable file system (skipped)", f"volume {n}: {type(exc).__name__}: {exc}")
                continue
            self.filesystems.append((f"vol{n}", fs))
        if not self.filesystems:
            self.fh.close()
            details = "; ".join(e.removeprefix(f"{self.path}: ") for e in self.errors[:3])
            raise TargetError(f"{self.path}: not a folder, zip or tar collection, nor a disk image with a file system "
                              f"dissect reads ({details})")
        main = next((i for i, (_n, fs) in enumerate(self.filesystems) if self._has_os(fs)), 0)
        self.roots = [("" if i == main else name, fs) for i, (name, fs) in enumerate(self.filesystems)]
        self._current: tuple[str, bytes | None] = ("", None)
        activate(self)

    def _problem(self, reason: str, detail: str) -> None:
        self.problems[reason] = self.problems.get(reason, 0) + 1
        if len(self.errors) < 50:
            self.errors.append(f"{self.path}: {detail}")

    @staticmethod
    def _has_os(fs: Any) -> bool:
        try:
            return any(e.name.lower() in OS_TOP for e in fs.get("/").scandir())
        except Exception:  # noqa: BLE001
            return False

    def _fs_of(self, member: str) -> tuple[Any, str]:
        prefix, _, inner = member.partition(":")
        for name, fs in self.roots:
            if name == prefix:
                return fs, inner
        raise FileNotFoundError(member)

    def walk(self, stats: WalkStats, excludes: tuple[str, ...] = (), one_file_system: bool = False) -> Iterator[Entry]:
        for reason, n in self.problems.items():
            stats.skipped[reason] = stats.skipped.get(reason, 0) + n
        stats.errors.extend(self.errors)
        for prefix, fs in self.roots:
            yield from self._walk_fs(prefix, fs, stats, excludes)

    def _walk_fs(self, prefix: str, fs: Any, stats: WalkStats, excludes: tuple[str, ...]) -> Iterator[Entry]:
        seen: set[Any] = set()
        stack: list[tuple[str, int]] = [("", 0)]
        errors = _errors()
        while stack:
            rel_dir, depth = stack.pop()
            try:
                d = fs.get("/" + rel_dir)
                key = d.lstat().st_ino
            except errors as exc:
                stats.skip(_why("directory not readable", exc), f"{self.path}:{rel_dir}")
                continue
            if key and key in seen:
                stats.skip("directory loop in the file system (not walked twice)", f"{self.path}:{rel_dir}")
                continue
            seen.add(key)
            stats.dirs += 1
            try:
                with _TimeLimit():
                    listing = sorted(d.scandir(), key=lambda x: x.name)
            except errors as exc:
                stats.skip(_why("directory listing failed", exc), f"{self.path}:{rel_dir}")
                continue
            subdirs: list[str] = []
            for ent in listing:
                name = ent.name
                if name in (".", "..") or "/" in name or not name:
                    continue
                rel = f"{rel_dir}/{name}" if rel_dir else name
                shown_rel = f"{prefix}/{rel}" if prefix else rel
                if not rel_dir and name.lower() in NTFS_META and getattr(fs, "__type__", "") == "ntfs":
                    stats.skip("NTFS metadata file (not swept)")
                    continue
                if excludes and any(fnmatch.fnmatch(shown_rel, p) or fnmatch.fnmatch(name, p) for p in excludes):
                    stats.skip("excluded by --exclude")
                    continue
                try:
                    if ent.is_symlink():
                        stats.skip("symlink (not followed)")
                        continue
                    if ent.is_dir(follow_symlinks=False):
                        if depth + 1 >= MAX_DEPTH:
                            stats.skip(f"deeper than {MAX_DEPTH} levels (not walked)", f"{self.path}:{rel}")
                        else:
                            subdirs.append(rel)
                        continue
                    st = ent.stat(follow_symlinks=False)
                except errors as exc:
                    stats.skip(_why("cannot stat", exc), f"{self.path}:{rel}")
                    continue
                if st.st_mode and not stat.S_ISREG(st.st_mode):
                    stats.skip("special file (FIFO, socket or device)")
                    continue
                stats.files += 1
                yield MemberEntry(f"{self.path}!{shown_rel}", shown_rel, int(st.st_size or 0), float(st.st_mtime or 0),
                                  0, 0, self.path, f"{prefix}:{rel}")
            stack.extend((sub, depth + 1) for sub in reversed(subdirs))

    def _open(self, member: str) -> Any:
        fs, inner = self._fs_of(member)
        return fs.get("/" + inner).open()

    def read_and_hash(self, e: Entry, algos: tuple[str, ...], keep_max: int | Callable[[bytes], int]) -> FileData:
        member = getattr(e, "member", "")
        def chunks() -> Iterator[bytes]:  # every read inside the image under the time limit; never past the listed size
            with _TimeLimit():
                f = self._open(member)
            size = 0
            while size <= e.size:
                with _TimeLimit():
                    chunk = f.read(min(CHUNK, e.size - size + 1))
                if not chunk:
                    return
                size += len(chunk)
                yield chunk

        try:
            fd, whole = hash_chunks(chunks(), algos, keep_max, remember=MEMBER_MEMORY if e.size <= MEMBER_MEMORY else -1)
        except FileNotFoundError:
            raise
        except _errors() as exc:
            raise OSError(f"file in the image unreadable: {type(exc).__name__}: {exc}") from None
        self._current = (member, whole)
        return fd

    def member_bytes(self, member: str) -> bytes:
        if self._current[0] == member and self._current[1] is not None:
            return self._current[1]
        try:
            with _TimeLimit():
                f = self._open(member)
                data: bytes = f.read(MEMBER_MEMORY + 1)
        except FileNotFoundError:
            raise
        except _errors() as exc:
            if "not found" in str(exc).lower() or type(exc).__name__ == "FileNotFoundError":
                raise FileNotFoundError(member) from None
            raise OSError(f"file in the image unreadable: {type(exc).__name__}: {exc}") from None
        if len(data) > MEMBER_MEMORY:
            raise OSError(f"{member}: larger than {MEMBER_MEMORY} bytes: not read a second time")
        return data

    def exists_ci(self, parts: tuple[str, ...]) -> bool:
        fs = next(f for p, f in self.roots if not p)  # the OS volume
        cur = fs.get("/")
        try:
            for part in parts:
                nxt = next((e for e in cur.scandir() if e.name.lower() == part.lower()), None)
                if nxt is None:
                    return False
                cur = nxt
            return True
        except _errors():
            return False

    def read_small(self, rel: str, max_bytes: int) -> bytes | None:
        try:
            data = self.member_bytes(f":{rel}")
        except OSError:
            return None
        return data if len(data) <= max_bytes else None

    def default_host_name(self) -> str:
        return base_name(self.path).split(".", 1)[0] or "host"

    def close(self) -> None:
        deactivate(self)
        self.fh.close()
