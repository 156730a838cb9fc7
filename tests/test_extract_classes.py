"""Indicator quality by class (issue 13), each on text shaped like the real advisories it came from:
reference links in undefanged articles, table/CSV column meaning, hash forms, network forms."""

from __future__ import annotations

from pathlib import Path

from tracehound.intel.extract import ExtractOptions, extract_files, extract_text
from tracehound.intel.model import IType, Pack


def vals(pack: Pack, itype: IType) -> set[str]:
    return {i.value for i in pack.of_type(itype)}


def excluded(pack: Pack) -> dict[str, str]:
    return {e.value: e.reason for e in pack.excluded}


# --- articles without defanging: links classified by role --------------------------------------

FRENCH_ARTICLE = """Publié le 12 mars 2024

Campagne d'hameçonnage ciblant les collectivités territoriales

Selon les chercheurs de Sekoia (https://blog.sekoia.io/campagne-collectivites/), le groupe utilise des documents piégés envoyés depuis des comptes légitimes compromis. L'article de LeMagIT https://www.lemagit.fr/actualites/366571234/Collectivites-une-campagne détaille la chaîne d'infection, qui correspond à la technique https://attack.mitre.org/techniques/T1566/001/ décrite par MITRE ATT&CK.
Le chercheur l'a signalé sur https://twitter.com/chercheur_secu/status/1767000000000000000 et sur https://www.linkedin.com/posts/chercheur-secu_activity-7173000000000000000 avec plusieurs captures.
Un retour d'expérience est également publié sur https://www.orangecyberdefense.com/fr/insights/blog/campagne-collectivites/ par les équipes de réponse.
La charge utile est téléchargée depuis https://github.com/fake-updater/assets/releases/download/v1/loader.zip puis contacte son serveur C2 https://cdn-metrics-sync.com/api/beacon toutes les dix minutes.

Sources
https://www.bleepingcomputer.com/news/security/new-phishing-campaign-targets-french-cities/
https://thehackernews.com/2024/03/french-cities-phishing.html
"""


def test_undefanged_article_reference_links_are_not_indicators() -> None:
    p = extract_text(FRENCH_ARTICLE, "article.txt")
    assert vals(p, IType.URL) == {
        "https://github.com/fake-updater/assets/releases/download/v1/loader.zip",
        "https://cdn-metrics-sync.com/api/beacon",
    }
    assert vals(p, IType.DOMAIN) == {"cdn-metrics-sync.com"}
    reasons = excluded(p)
    assert "reference site" in reasons["https://attack.mitre.org/techniques/T1566/001/"]
    assert "references heading" in reasons["https://thehackernews.com/2024/03/french-cities-phishing.html"]
    assert "article page" in reasons["https://www.orangecyberdefense.com/fr/insights/blog/campagne-collectivites/"] \
        or "reference site" in reasons["https://www.orangecyberdefense.com/fr/insights/blog/campagne-collectivites/"]
    assert "hosting" in reasons["github.com"]  # the staging host stays a URL indicator only


def test_ioc_section_live_values_are_indicators() -> None:
    text = """Threat report: StealthyLoader

We observed the loader in three intrusions; see our earlier post at https://www.welivesecurity.com/2023/11/loader/ for background.

Indicators of compromise
https://raw.githubusercontent.com/stage-repo/tools/main/update.ps1
update-telemetry.net
185.220.101.45
"""
    p = extract_text(text, "report.txt")
    assert vals(p, IType.URL) == {"https://raw.githubusercontent.com/stage-repo/tools/main/update.ps1"}
    assert vals(p, IType.DOMAIN) == {"update-telemetry.net"}
    assert vals(p, IType.IPV4) == {"185.220.101.45"}


def test_citation_lines() -> None:
    text = "Initial access used a fake installer.\nSource: https://securelist.com/some-apt/112233/\n[1] https://example-news.org/story\n"
    p = extract_text(text, "a.txt")
    assert not vals(p, IType.URL) and not vals(p, IType.DOMAIN)
    assert len(p.excluded) == 2


# --- tables and CSV: column meaning decides ----------------------------------------------------

def test_csv_ip_column_in_defanged_document(tmp_path: Path) -> None:
    doc = tmp_path / "iocs.csv"
    doc.write_text(
        "# Campaign IOCs, domains defanged: evil-cdn[.]com\n"
        "ip,port,description\n"
        "185.220.101.4,443,C2 server (Cobalt Strike)\n"
        "45.61.136.130,8080,payload staging\n"
        "8.8.8.8,53,legitimate resolver used during attacker testing\n", encoding="utf-8")
    p = extract_files([str(doc)], ExtractOptions()).pack
    assert vals(p, IType.IPV4) == {"185.220.101.4", "45.61.136.130"}
    assert "context" in excluded(p)["8.8.8.8"]
    assert vals(p, IType.DOMAIN) == {"evil-cdn.com"}


def test_markdown_table_rows_marked_benign_and_hash_kinds() -> None:
    sha = "093e394933c4545ba7019f511961b9a5ab91156cf791f45de074acad03d1a44a"
    text = f"""# IOC list

| Indicator | Type | Comment |
|---|---|---|
| {sha} | SHA256 | dropper |
| 18ddf28a71089acdbab5038f58044c0a | imphash | dropper import hash |
| 3f1b149d07e7e8636636b8b7f7043c40ed64a10b28986181fb046c498432c2d4 | authentihash | signed loader |
| update.microsoft.com | domain | benign, contacted for connectivity checks |
| bad-sync-cdn.com | domain | C2 |
"""
    p = extract_text(text, "iocs.md", ".md")
    assert vals(p, IType.SHA256) == {sha}
    assert not vals(p, IType.MD5)
    assert vals(p, IType.DOMAIN) == {"bad-sync-cdn.com"}
    r = excluded(p)
    assert "imphash" in r["18ddf28a71089acdbab5038f58044c0a"]
    assert "authentihash" in r["3f1b149d07e7e8636636b8b7f7043c40ed64a10b28986181fb046c498432c2d4"]


def test_thumbprint_and_serial_columns() -> None:
    text = """Code-signing certificates

Signer
Thumbprint
Serial number
Shenzhen Example Technology Co., Ltd.
7df5ed6d71b296ed073a5b3efbcdc4c916ba41be
0a3c5b6d7e8f90123456789abcdef012
"""
    p = extract_text(text, "certs.txt")
    assert vals(p, IType.CERT_SHA1) == {"7df5ed6d71b296ed073a5b3efbcdc4c916ba41be"}
    assert not vals(p, IType.MD5) and not vals(p, IType.SHA1)
    assert "serial" in excluded(p)["0a3c5b6d7e8f90123456789abcdef012"]


def test_serial_and_imphash_labels_in_prose() -> None:
    text = ("Certificate serial number: 0a3c5b6d7e8f90123456789abcdef012\n"
            "Dropper imphash: 18ddf28a71089acdbab5038f58044c0a\n"
            "MD5: 68b329da9893e34099c7d8ad5cb9c940\n")
    p = extract_text(text, "a.txt")
    assert vals(p, IType.MD5) == {"68b329da9893e34099c7d8ad5cb9c940"}
    assert not vals(p, IType.CERT_SHA1)


# --- hash forms ---------------------------------------------------------------------------------

SHA512 = ("be688838ca8686e5c90689bf2ab585cef1137c999b48c70b92f67a5c34dc1569"
          "7b5d11c982ed6d71be1e1e7f7b4e0733884aa97c3f7a339a8ed03577cf74be09")


def test_sha512() -> None:
    p = extract_text(f"SHA-512 of the implant: {SHA512}\n", "a.txt")
    assert vals(p, IType.SHA512) == {SHA512}
    assert not vals(p, IType.SHA256)


def test_sha256_split_by_pdf_line_wrap() -> None:
    # pypdf output of a narrow table cell: 40 hex characters, then the rest on the next line.
    sha = "5d99efa36f34aa6b43cd81e77544961c5c8d692c96059fef92c2df2624550734"
    text = f"Hash (SHA-256) of the second stage, dropped as ffmpeg.dll:\n{sha[:40]}\n{sha[40:]}\nThe loader then"
    p = extract_text(text, "a.pdf.txt")
    assert vals(p, IType.SHA256) == {sha}
    assert not vals(p, IType.SHA1) and not vals(p, IType.MD5)


def test_hashes_glued_to_words_and_0x() -> None:
    text = ("00236a2ae558018ed13b5222ef1bd987hash -something-hash=00236a2ae558018ed13b5222ef1bd988hash "
            "-something -hash=00236a2ae558018ed13b5222ef1bd989\n"
            "registry value 0x1a1db93766e31994507511c9c70a1dd94465cf6d\n")
    p = extract_text(text, "a.txt")
    assert vals(p, IType.MD5) == {f"00236a2ae558018ed13b5222ef1bd98{d}" for d in "789"}
    assert vals(p, IType.SHA1) == {"1a1db93766e31994507511c9c70a1dd94465cf6d"}


# --- network forms ------------------------------------------------------------------------------

def test_ip_after_punctuation() -> None:
    p = extract_text("seen from ...185.220.101[.]4 and .!@..1[.]1[.]1[.]1!@#- too\n", "a.txt")
    assert vals(p, IType.IPV4) == {"185.220.101.4", "1.1.1.1"}
    p = extract_text("version .18.12.15.14 and 1.1.1.1.a\n", "a.txt")
    assert not vals(p, IType.IPV4)


def test_ip_port_path_is_also_a_url() -> None:
    p = extract_text("The beacon posts to 45.61.136[.]130:8080/gate.php every minute.\n", "a.txt")
    assert vals(p, IType.URL) == {"45.61.136.130:8080/gate.php"}
    assert vals(p, IType.IPV4) == {"45.61.136.130"}
    p = extract_text("C2 IP: 210.209.127.8:443\n", "a.txt")
    assert not vals(p, IType.URL) and vals(p, IType.IPV4) == {"210.209.127.8"}


def test_url_with_port_then_comma_and_ipv6_host() -> None:
    p = extract_text("Callbacks: hxxp://203.0.113[.]7:8443/api/v1, hxxps://[2001:db8::5]:8443/x and hxxps://[2001:db8::6]/y\n",
                     "a.txt")
    assert vals(p, IType.URL) == {"http://203.0.113.7:8443/api/v1", "https://[2001:db8::5]:8443/x", "https://[2001:db8::6]/y"}
    assert {"2001:db8::5", "2001:db8::6"} <= vals(p, IType.IPV6)


def test_other_defang_styles() -> None:
    text = "C2 domains: evil-c2\\.com, example-bad [.] com\nPayload: hxxp://drop-site[.com/payload.bin\n"
    p = extract_text(text, "a.txt")
    assert vals(p, IType.DOMAIN) == {"evil-c2.com", "example-bad.com", "drop-site.com"}
    assert vals(p, IType.URL) == {"http://drop-site.com/payload.bin"}


def test_other_schemes() -> None:
    # Not defanged at all: a live value in a document without any defanging is believed.
    p = extract_text("Exfiltration to sftp://files.exfil-store.net/upload\nRelay tcp://relay.bad-tunnel.org:4444/\n", "a.txt")
    assert vals(p, IType.URL) == {"sftp://files.exfil-store.net/upload", "tcp://relay.bad-tunnel.org:4444/"}
    assert vals(p, IType.DOMAIN) == {"files.exfil-store.net", "relay.bad-tunnel.org"}


def test_numeric_and_hyphenated_subdomains() -> None:
    p = extract_text("Tunnel: hxxps://8f3a-203-0-113-9.ngrok-free[.]app/x and 12.123.bad-host[.]com\n", "a.txt")
    assert "8f3a-203-0-113-9.ngrok-free.app" in vals(p, IType.DOMAIN)
    assert "12.123.bad-host.com" in vals(p, IType.DOMAIN)


def test_detection_names_are_not_domains() -> None:
    text = "ESET detects it as Win32/Winnti.AG and Kaspersky as Trojan.Win64.Agent.ab; C2 is bad-updates.com.\n"
    p = extract_text(text, "a.txt")
    assert vals(p, IType.DOMAIN) == {"bad-updates.com"}
    assert "detection" in excluded(p)["Winnti.AG"]


def test_encoded_urls() -> None:
    p = extract_text("powershell -enc ... IEX aHR0cDovL2V4YW1wbGUuY29tL3NvbWUvdXJs\n", "a.txt")
    [ind] = p.of_type(IType.URL)
    assert ind.value == "http://example.com/some/url" and ind.ctx("encoding") == ["base64"]


def test_one_megabyte_advisory_linear(seed) -> None:
    """Issue 13: a 1 MB advisory is extracted with the indicators of one copy of the bulletin, at a CPU cost
    linear in its size (a quarter of it vs all of it, scaling.py); the figures themselves are in bench/."""
    from scaling import assert_linear

    text = seed.read_text(encoding="utf-8")
    doc = (text * (1_000_000 // len(text) + 1))[:1_000_000]
    extract_text("warm-up hxxps://a-b[.]com/x 1.2.3[.]4", "w.txt")  # lists and public suffixes load once per process
    pack = assert_linear(lambda d: extract_text(d, "big.txt"), lambda n: doc[:n], 250_000, what="1 MB advisory")
    assert len(pack.of_type(IType.DOMAIN)) == 23  # same indicators as one copy of the bulletin


def test_benign_words_that_do_not_mark_a_row_benign() -> None:
    text = """| Domain | Description |
|---|---|
| update-office365-cdn.com | masquerades as a legitimate Microsoft update server |
| files.legit-share.net | legitimate file-sharing service abused for payload staging |
| time.windows.com | legitimate, contacted by the sample for a time check |
"""
    p = extract_text(text, "t.md", ".md")
    assert vals(p, IType.DOMAIN) == {"update-office365-cdn.com", "files.legit-share.net"}
    assert "context" in excluded(p)["time.windows.com"]


def test_hostile_lines_stay_fast() -> None:
    """Each hostile shape: CPU time at 4x the size within 10x (scaling.py), then at 100,000 characters."""
    from scaling import assert_linear

    for shape in (lambda k: "@ " + "a-" * (k // 2), lambda k: "% " + "a" * k, lambda k: "A" * k, lambda k: "[" * k + ".",
                  lambda k: "a." * (k // 2), lambda k: "1." * (k // 2), lambda k: "x" * (k - 1) + "@example.com"):
        assert_linear(lambda line: extract_text(line, "hostile.txt"), shape, 2_500, what=shape(20)[:20])
        extract_text(shape(100_000), "hostile.txt")


ESET_STYLE = """# Operation Jacana: spotlight on a cyberespionage campaign

ESET researchers discovered a campaign targeting a governmental entity.

## IoCs

### Files

| SHA-1 | Filename | ESET detection name | Description |
|---|---|---|---|
| 2D2A0A07B3B5F6E8DF5D2F26D2F3C7B4A2F0E8D1 | DinodasRAT.exe | Win32/Agent.AFNN | DinodasRAT backdoor. |

### Network

| IP | Domain | Hosting provider | First seen | Details |
|---|---|---|---|---|
| 45.61.136.130 | update.centre-ok.com | Vultr | 2023-01-02 | DinodasRAT C&C server. |
| 192.0.2.44 | N/A | OVH | 2023-02-11 | Download server. |

## MITRE ATT&CK techniques

This table was built using [version 14](https://attack.mitre.org/resources/updates/updates-october-2023/) of the MITRE ATT&CK framework.

| Tactic | ID | Name | Description |
|---|---|---|---|
| Command and Control | [T1071.001](https://attack.mitre.org/techniques/T1071/001/) | Application Layer Protocol: Web Protocols | DinodasRAT uses HTTP for C&C. |

For any inquiries about our research published on WeLiveSecurity, please contact us at threatintel@eset.com.
"""


def test_vendor_ioc_readme_shape() -> None:
    """The shape of ESET's malware-ioc READMEs: IoC tables, an ATT&CK table of links, a contact line."""
    p = extract_text(ESET_STYLE, "README.md", ".md")
    assert vals(p, IType.SHA1) == {"2d2a0a07b3b5f6e8df5d2f26d2f3c7b4a2f0e8d1"}
    assert vals(p, IType.IPV4) == {"45.61.136.130", "192.0.2.44"}  # a row with domain N/A keeps its IP
    assert vals(p, IType.DOMAIN) == {"update.centre-ok.com"}
    assert not vals(p, IType.URL) and not vals(p, IType.EMAIL)
    assert "contact" in excluded(p)["threatintel@eset.com"]


def test_pointer_to_an_ioc_repository_is_a_reference() -> None:
    text = ("Cisco Talos observed the actor since 2021. The IOCs for this research can also be found at our "
            "GitHub repository here https://github.com/Cisco-Talos/IOCs/tree/main/2024/03 and the full write-up "
            "at https://blog.talosintelligence.com/new-actor-2024/.\n\n"
            "Indicators of compromise\n"
            "http://update-sync.org/load.php\n")
    p = extract_text(text, "talos.txt")  # nothing defanged: only roles decide
    assert vals(p, IType.URL) == {"http://update-sync.org/load.php"}
    assert "github.com" not in vals(p, IType.DOMAIN)


def test_short_reference_urls_keep_their_heading() -> None:
    text = ("The loader was described before.\n\nReferences\nhttps://t.co/abc123\nhttps://bit.ly/3xYz\n"
            "https://example-news.org/a\n\nIndicators\nhttps://bad-drop.net/x.bin\n")
    p = extract_text(text, "a.txt")
    assert vals(p, IType.URL) == {"https://bad-drop.net/x.bin"}


def test_link_to_the_source_the_sentence_names() -> None:
    text = ("D'après Harfang Lab et Intrinsec, le groupe réutilise son outillage ; Vade Secure a publié son analyse "
            "https://www.vadesecure.com/fr/analyse-campagne le même jour, reprise par Numerama.\n"
            "The attackers registered the domain microsoft-update-center.com two weeks earlier, as Microsoft noted.\n"
            "Microsoft Update Center lookalike https://microsoft-update-center.com/kb5034441 was seen by Microsoft.\n")
    p = extract_text(text, "a.txt")
    assert vals(p, IType.URL) == {"https://microsoft-update-center.com/kb5034441"}
    assert "source the sentence names" in excluded(p)["https://www.vadesecure.com/fr/analyse-campagne"]
    assert vals(p, IType.DOMAIN) == {"microsoft-update-center.com"}
