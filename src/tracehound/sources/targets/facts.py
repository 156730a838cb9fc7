"""OS facts read off the walk of any target: the users (their profile folders) and the registry
hives present, said in the host summary so a reader sees what the sweep covered."""

from __future__ import annotations

from dataclasses import dataclass, field

PROFILE_ROOTS = ("users", "home", "documents and settings")
NOT_USERS = {"public", "default", "default user", "all users", "shared", "guest", ".localized"}
USER_HIVES = ("ntuser.dat", "usrclass.dat")
SYSTEM_HIVES = ("windows/system32/config/software", "windows/system32/config/system", "windows/system32/config/sam",
                "windows/system32/config/security", "windows/appcompat/programs/amcache.hve")
MAX_LISTED = 1000


@dataclass
class Facts:
    users: dict[str, str] = field(default_factory=dict)  # user name -> profile folder (relative)
    hives: list[str] = field(default_factory=list)

    def add(self, rel: str) -> None:
        low = rel.lower()
        parts = rel.split("/")
        if len(parts) >= 3 and parts[0].lower() in PROFILE_ROOTS and parts[1].lower() not in NOT_USERS \
                and len(self.users) < MAX_LISTED:
            self.users.setdefault(parts[1], f"{parts[0]}/{parts[1]}")
        if len(self.hives) < MAX_LISTED and (low in SYSTEM_HIVES or (
                len(parts) == 3 and parts[0].lower() in PROFILE_ROOTS and parts[2].lower() in USER_HIVES)
                or low.endswith("/appdata/local/microsoft/windows/usrclass.dat")):
            self.hives.append(rel)

    def as_dict(self) -> dict[str, object]:
        return {"users": [{"name": n, "profile": p} for n, p in sorted(self.users.items())], "hives": sorted(self.hives)}
