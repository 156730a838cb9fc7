"""Where the evidence tree starts inside a triage collection, per collector.

- KAPE and CyLR: `<anything>/C/Windows/...` (the drive letter as a folder: `C`, `C:`; KAPE also
  writes `%3A`-escaped names in some modes).
- Velociraptor's offline collector: `uploads/<accessor>/<drive>/...` with URL-escaped names
  (`uploads/auto/C%3A/Users/...`, `uploads/ntfs/%5C%5C.%5CC%3A/...`; Unix paths as
  `uploads/auto/etc/...`).
- UAC (Unix-like Artifacts Collector): `uac-<host>-<os>-<time>/[root]/etc/...`.
- Anything else: the member path as it is.

Drives other than C keep their letter as the first folder (`D/Data/...`). A name with a `..`
component or an absolute name is refused (counted by the caller), never joined to any path.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

WINDOWS_TOP = {"windows", "users", "programdata", "program files", "program files (x86)", "$recycle.bin",
               "documents and settings", "$mft", "$extend", "$logfile", "inetpub", "pagefile.sys", "$secure"}
DRIVE = re.compile(r"^(?:\\\\[.?]\\)?([A-Za-z]):?$")
COLLECTOR_NAMES = (re.compile(r"^uac-(?P<host>[^-]+)-"), re.compile(r"^Collection-(?P<host>.+?)-\d{4}-\d\d-\d\d"))


def evidence_rel(name: str) -> tuple[str | None, str]:
    """(path relative to the evidence root, '' | why refused) of one archive member name."""
    text = name.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:/", text):
        return None, "absolute member name (not read)"
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, "member name with '..' (path traversal, not read)"
    if not parts:
        return None, "empty member name"
    if "[root]" in parts:  # UAC
        rest = parts[parts.index("[root]") + 1:]
        return ("/".join(rest), "") if rest else (None, "empty member name")
    if parts[0] == "uploads" and len(parts) >= 3:  # Velociraptor
        decoded = [unquote(p) for p in parts[2:]]
        if any(p in ("..", "") or "/" in p for p in decoded):
            return None, "member name with '..' (path traversal, not read)"
        m = DRIVE.match(decoded[0])
        if m:
            rest = decoded[1:]
            drive = m.group(1).upper()
            return ("/".join(rest if drive == "C" else [drive, *rest]), "") if rest else (None, "empty member name")
        return "/".join(decoded), ""
    for i, p in enumerate(parts[:-1]):  # KAPE, CyLR
        m = DRIVE.match(unquote(p))
        if m and parts[i + 1].lower() in WINDOWS_TOP:
            drive, rest = m.group(1).upper(), parts[i + 1:]
            return "/".join(rest if drive == "C" else [drive, *rest]), ""
    return "/".join(parts), ""


def host_from_archive_name(file_name: str) -> str:
    """The host a collector wrote into the archive's name (UAC, Velociraptor), else ''."""
    for rx in COLLECTOR_NAMES:
        m = rx.match(file_name)
        if m:
            return m.group("host")
    return ""
