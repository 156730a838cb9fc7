"""Affected versions per platform and remediation sentences, from the advisory's prose."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from tracehound.intel.model import IType, Remediation, normalize_platform
from tracehound.intel.network import VERSION, valid_ip

if TYPE_CHECKING:
    from tracehound.intel.extract import DocumentExtractor

_PLATFORM = re.compile(r"\b(windows|win32|win64|mac\s*os|macos|mac|os\s*x|osx|linux|ios|android)\b", re.I)
_AFFECTED_WORDS = re.compile(
    r"affect|concern|vuln[ée]rable|impact|compromi|trojan|malicious|malveillant|backdoor|produits? affect", re.I)
_FIXED_WORDS = re.compile(r"\b(fixed|corrig|patched|clean|not affected|non affect|safe)\b", re.I)

REMEDIATION_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("uninstall-affected-software", re.compile(r"d[ée]sinstaller|uninstall|remove the (?:desktop )?app", re.I)),
    ("use-web-app", re.compile(r"application web|web ?app\b|web client|progressive web", re.I)),
    ("block-signing-certificate", re.compile(
        r"(?:blacklist|bloquer|block|r[ée]voquer|revoke|untrust|deny).{0,80}certific|certific.{0,80}(?:blacklist|bloqu|block|revok)",
        re.I)),
    ("block-c2-domains", re.compile(r"(?:bloquer|block).{0,80}(?:domain|domaine|c2|communication)", re.I)),
    ("deploy-network-detection", re.compile(r"r[èe]gles de d[ée]tection|detection rules|d[ée]tection.{0,40}flux", re.I)),
    ("identify-affected-versions", re.compile(r"num[ée]ros? de version|version numbers?|identifier le p[ée]rim[èe]tre|check (?:the )?versions?|identify (?:the )?(?:affected|impacted)", re.I)),
    ("check-payload", re.compile(r"charge utile|payload|info-?stealer", re.I)),
    ("hunt-proxy-logs", re.compile(r"proxy", re.I)),
    ("reset-browser-credentials", re.compile(
        r"(?:info-?stealer|stealer|vol).{0,120}(?:navigateur|browser)|(?:navigateur|browser).{0,80}(?:mot de passe|password|credential|login)",
        re.I)),
    ("c2-delay", re.compile(r"(?:d[ée]lai|delay|wait|dormant|sleep).{0,80}\d+\s*(?:jours|days?)", re.I)),
]


def read_versions(x: DocumentExtractor, in_table: set[int], product: str) -> None:
    if not product:
        return
    per_platform: dict[str, tuple[list[str], list[int], str]] = {}
    for i, ln in enumerate(x.lines):
        if i in in_table or not VERSION.search(ln):
            continue
        scope = x.headings[i] + " " + " ".join(x.lines[max(0, i - 3): i + 1])
        if not _AFFECTED_WORDS.search(scope):
            continue
        carried = ""  # a sentence without a platform inherits the previous sentence's
        for sentence in re.split(r"(?<=[.;!?])\s+", ln):
            platforms = _PLATFORM.findall(sentence)
            if platforms:
                carried = normalize_platform(re.sub(r"\s+", " ", platforms[0]))
            versions = [v for v in VERSION.findall(sentence) if not valid_ip(v)]
            if not versions or not carried:
                continue
            status = "fixed" if _FIXED_WORDS.search(sentence) else "affected"
            vs, lines, _ = per_platform.setdefault(f"{carried}:{status}", ([], [], status))
            vs += [v for v in versions if v not in vs]
            lines.append(i + 1)
    for key, (vs, lines, status) in sorted(per_platform.items()):
        platform = key.split(":")[0]
        if status != "affected":
            continue
        fixed = per_platform.get(f"{platform}:fixed", ([], [], ""))[0]
        x.emit(IType.SOFTWARE, product, lines[0], {
            "platform": platform, "versions": sorted(vs, key=_vkey), "fixed_versions": sorted(fixed, key=_vkey),
        }, 90, tuple(lines))


# Cheap gate: a line without any of these words cannot match a remediation rule.
_REMEDIATION_GATE = re.compile(
    r"install|remove the|web|certific|bloqu|block|r[èe]gles|d[ée]tection|detection|version|identif|charge utile|"
    r"payload|stealer|proxy|navigateur|browser|d[ée]lai|delay|wait|dormant|sleep", re.I)


def read_remediation(x: DocumentExtractor, in_table: set[int]) -> None:
    known = {(r.action, r.text) for r in x.pack.remediation}
    for i, ln in enumerate(x.lines):
        if i in in_table or not ln.strip() or not _REMEDIATION_GATE.search(ln):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", ln.strip()):
            if len(sentence) < 20:
                continue
            for action in _actions(sentence):
                if (action, sentence) not in known:
                    known.add((action, sentence))
                    x.pack.remediation.append(Remediation(action, sentence, x.name, i + 1))
                    if action == "c2-delay":
                        m = re.search(r"(\d+)\s*(?:jours|days?)", sentence, re.I)
                        if m:
                            x.pack.c2_delay_days = max(x.pack.c2_delay_days or 0, int(m.group(1)))


# Per rule, words one of which its pattern needs: the pattern runs only on sentences that have one.
_NEEDS: dict[str, tuple[str, ...]] = {
    "uninstall-affected-software": ("install", "remove the"), "use-web-app": ("web",),
    "block-signing-certificate": ("certific",), "block-c2-domains": ("bloqu", "block"),
    "deploy-network-detection": ("tection",), "identify-affected-versions": ("version", "identif"),
    "check-payload": ("charge utile", "payload", "stealer"), "hunt-proxy-logs": ("proxy",),
    "reset-browser-credentials": ("navigateur", "browser"), "c2-delay": ("lai", "delay", "wait", "dormant", "sleep"),
}


@lru_cache(maxsize=4096)
def _actions(sentence: str) -> tuple[str, ...]:
    low = sentence.lower()
    return tuple(action for action, pattern in REMEDIATION_RULES
                 if any(w in low for w in _NEEDS.get(action, ("",))) and pattern.search(sentence))


def platform_of(name: str) -> str:
    n = name.lower()
    if re.search(r"\.(dmg|pkg|app|dylib)$|mac", n):
        return "macos"
    if re.search(r"\.(exe|msi|dll|sys|msix)$", n):
        return "windows"
    return ""


def product_from(campaign: str) -> str:
    words = re.sub(r"(?i)\b(supply[- ]chain|attack|attaque|compromise|compromission|campaign|campagne|vulnerability|"
                   r"vuln[ée]rabilit[ée]|backdoor|incident|alert|alerte)\b", "", campaign)
    return re.sub(r"\s+", " ", words).strip(" -–—:")


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))
