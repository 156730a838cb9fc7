"""The seed bulletin (CERT, French): exact extraction and context, and the shipped pack equals a fresh extraction."""

import json

from tracehound.intel.builtin import extract_builtin, load_builtin
from tracehound.intel.extract import ExtractOptions, extract_files
from tracehound.intel.formats.native import dumps
from tracehound.intel.model import IType


def extract(seed):
    return extract_files([str(seed)], ExtractOptions(name="3cx", product="3CX Desktop App")).pack


def test_exact_counts(seed) -> None:
    p = extract(seed)
    c = p.counts()
    assert c["domain"] == 23
    assert c["ipv4"] == 19
    assert c["url"] == 17
    assert c["sha256"] == 11
    assert c["sha1"] == 2
    assert c["cert-sha1"] == 2
    assert {i.value for i in p.of_type(IType.CERT_SHA1)} == {
        "87c6d553a296d7473451d53caa298efa9b4870ad", "7df5ed6d71b296ed073a5b3efbcdc4c916ba41be"}
    assert "cert-sha256" not in c and "md5" not in c


def test_no_false_indicators(seed) -> None:
    p = extract(seed)
    domains = {i.value for i in p.of_type(IType.DOMAIN)}
    assert "msedgeupdate.net" in domains
    assert not {"github.com", "linkedin.com", "almond.eu"} & domains
    assert not any(d.endswith((".dll", ".exe", ".msi", ".dmg")) for d in domains)
    assert not any(i.value.startswith("18.") for i in p.of_type(IType.IPV4))
    assert "https://almond.eu/cybersecurity-insights/explorons-dora/" not in {i.value for i in p.of_type(IType.URL)}
    reasons = {e.value: e.reason for e in p.excluded}
    assert "github.com" in reasons and "hosting" in reasons["github.com"]
    assert any("almond.eu" in v for v in reasons)


def test_table_context_attached_to_the_right_row(seed) -> None:
    p = extract(seed)
    d = p.get(IType.DOMAIN, "azuredeploystore.com")
    assert d is not None
    assert d.context["registrar"] == "Namesilo"
    assert d.context["resolves_to"] == "199.33.112.228"
    assert d.context["asn"] == "AS23498"
    assert d.context["stage"] == "Stage 1"
    assert d.context["created"] == "2022-12-07T00:00"
    ip = p.get(IType.IPV4, "162.213.255.24")
    assert ip is not None and sorted(ip.ctx("resolution_of")) == ["msstorageboxes.com", "officeaddons.com", "visualstudiofactory.com"]
    assert p.get(IType.DOMAIN, "soyoungjun.com") is not None  # 'Soyoungjun[.]com' lower-cased
    asns = {i.value for i in p.of_type(IType.ASN)}
    assert {"AS22612", "AS23498", "AS51177", "AS20278", "AS25369", "AS44901", "AS9009", "AS60117", "AS63949"} == asns


def test_hash_context(seed) -> None:
    p = extract(seed)
    h = p.get(IType.SHA256, "5d99efa36f34aa6b43cd81e77544961c5c8d692c96059fef92c2df2624550734")
    assert h is not None
    assert h.context["file_name"] == "3CXDesktopApp.exe"
    assert h.context["signer"] == "3CX Ltd"
    assert h.context["cert_thumbprint"] == "87c6d553a296d7473451d53caa298efa9b4870ad"
    infostealer = p.get(IType.SHA1, "cad1120d91b812acafef7175f949dd1b09c6c21a")
    assert infostealer is not None and infostealer.context["label"] == "InfoStealer"
    assert infostealer.context["signature"] == "unsigned"
    sha1_exe = p.get(IType.SHA1, "14075c5c8c373be373e51dbea7f6e5cd8087ab0a")
    assert sha1_exe is not None and sha1_exe.context["file_name"] == "3CXDesktopApp.exe"
    # names are context; only version-specific installer names may alert alone
    assert p.get(IType.FILENAME, "ffmpeg.dll").ctx("standalone") == ["no"]
    assert p.get(IType.FILENAME, "3cxdesktopapp-18.12.407.msi").ctx("standalone") == ["yes"]


def test_urls_keep_stage(seed) -> None:
    p = extract(seed)
    assert p.get(IType.URL, "github.com/IconStorages/images").context["stage"] == "Stage 2"
    assert p.get(IType.URL, "msedgeupdate.net/Windows").context["stage"] == "Stage 1"


def test_affected_versions_per_platform(seed) -> None:
    p = extract(seed)
    sw = {i.context["platform"]: i.ctx("versions") for i in p.of_type(IType.SOFTWARE)}
    assert sw == {"windows": ["18.12.407", "18.12.416"], "macos": ["18.11.1213", "18.12.402", "18.12.407", "18.12.416"]}


def test_remediation_and_delay(seed) -> None:
    p = extract(seed)
    actions = {r.action for r in p.remediation}
    assert {"uninstall-affected-software", "use-web-app", "block-signing-certificate", "block-c2-domains",
            "reset-browser-credentials"} <= actions
    assert p.c2_delay_days == 7
    assert p.published == "2023-03-30"


def test_shipped_pack_equals_fresh_extraction(seed) -> None:
    fresh = extract_builtin("3cx", seed.parent)
    shipped = load_builtin("3cx")
    assert json.loads(dumps(fresh)) == json.loads(dumps(shipped))
