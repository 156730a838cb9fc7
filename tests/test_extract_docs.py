"""Extraction from other document kinds and languages, flattened tables, exclusion rules."""

from pathlib import Path

import pytest

from tracehound.errors import InputError
from tracehound.intel.extract import ExtractOptions, extract_files
from tracehound.intel.model import IType

ENGLISH = """Security Advisory - ExampleApp Supply Chain Compromise
2024-05-02

Affected products
ExampleApp for Windows versions 2.1.4 and 2.1.5 are affected. Fixed in 2.1.6.

Indicators
Domain
Registrar
IP
ASN
bad-updates[.]net
Namecheap
203[.]0.113.10
AS64500
cdn-example(.)org
Gandi
203[.]0.113.11
64501

SHA256 hashes of the payload (loader.dll):
e3b0c44298fc1c149afbf4c8996fb924 27ae41e4649b934ca495991b7852b855

Signing certificate thumbprint: AB12CD34EF56AB12CD34 EF56AB12CD34EF56AB12
Contact: actor[at]bad-updates[.]net
Payload URL: hxxps://bad-updates[.]net/api/v2/fetch?id=1
Stage 2 hosted on hxxps://raw.githubusercontent[.]com/evil/repo/main/p.bin
Reference: https://vendor.example/blog/post-mortem
The installer setup.zip and README.md were also seen. Please upgrade to version 2.1.6.
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_english_advisory(tmp_path: Path) -> None:
    p = extract_files([write(tmp_path, "adv.txt", ENGLISH)], ExtractOptions(product="ExampleApp")).pack
    domains = {i.value for i in p.of_type(IType.DOMAIN)}
    assert domains == {"bad-updates.net", "cdn-example.org"}
    d = p.get(IType.DOMAIN, "cdn-example.org")
    assert d.context["registrar"] == "Gandi" and d.context["asn"] == "AS64501"
    assert {i.value for i in p.of_type(IType.IPV4)} == {"203.0.113.10", "203.0.113.11"}
    assert p.get(IType.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") is not None
    assert {i.value for i in p.of_type(IType.CERT_SHA1)} == {"ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"}
    assert {i.value for i in p.of_type(IType.EMAIL)} == {"actor@bad-updates.net"}
    urls = {i.value for i in p.of_type(IType.URL)}
    assert "https://bad-updates.net/api/v2/fetch?id=1" in urls
    assert "https://raw.githubusercontent.com/evil/repo/main/p.bin" in urls
    assert "raw.githubusercontent.com" not in domains  # legitimate hosting: URL only
    assert not any("vendor.example" in u for u in urls)  # reference link
    sw = p.of_type(IType.SOFTWARE)
    assert len(sw) == 1 and sw[0].ctx("versions") == ["2.1.4", "2.1.5"] and sw[0].ctx("fixed_versions") == ["2.1.6"]
    assert "setup.zip" not in domains and "readme.md" not in domains


def test_html_table_and_defang(tmp_path: Path) -> None:
    html = """<html><head><style>.x{}</style><script>var a="evil.com";</script></head><body>
    <h2>IOC (Stage 1)</h2><table><tr><th>Domain</th><th>IP</th></tr>
    <tr><td>one[.]example-c2.com</td><td>198.51[.]100.1</td></tr>
    <tr><td>two[.]example-c2.com</td><td>198.51[.]100.2</td></tr></table>
    <p>Hash (sha-256): <code>e3b0c44298fc1c149afbf4c8996fb924</code> <code>27ae41e4649b934ca495991b7852b855</code></p>
    </body></html>"""
    p = extract_files([write(tmp_path, "a.html", html)], ExtractOptions()).pack
    assert {i.value for i in p.of_type(IType.DOMAIN)} == {"one.example-c2.com", "two.example-c2.com"}
    assert p.get(IType.DOMAIN, "two.example-c2.com").context["resolves_to"] == "198.51.100.2"
    assert p.get(IType.DOMAIN, "one.example-c2.com").context["stage"] == "Stage 1"
    assert len(p.of_type(IType.SHA256)) == 1
    assert "evil.com" not in {i.value for i in p.of_type(IType.DOMAIN)}  # script content ignored


def test_markdown_pipe_table(tmp_path: Path) -> None:
    md = "# IOCs\n\n| Domain | IP | ASN |\n|---|---|---|\n| `c2[.]example.net` | 192.0.2[.]5 | AS64496 |\n"
    p = extract_files([write(tmp_path, "a.md", md)], ExtractOptions()).pack
    d = p.get(IType.DOMAIN, "c2.example.net")
    assert d is not None and d.context["resolves_to"] == "192.0.2.5" and d.context["asn"] == "AS64496"


def _pdf(lines: list[str]) -> bytes:
    """A minimal valid PDF with one text line per input line (Helvetica)."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = "BT /F1 11 Tf 14 TL 50 780 Td " + " ".join(f"({esc(line)}) Tj T*" for line in lines) + " ET"
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{o}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_pdf_with_hash_broken_over_lines(tmp_path: Path) -> None:
    f = tmp_path / "adv.pdf"
    f.write_bytes(_pdf(["Indicators of compromise", "C2: evil-cdn[.]com", "SHA-256: 5d99efa36f34aa6b43cd81e77544961",
                        "c5c8d692c96059fef92c2df2624550734"]))
    p = extract_files([str(f)], ExtractOptions()).pack
    assert {i.value for i in p.of_type(IType.DOMAIN)} == {"evil-cdn.com"}
    assert {i.value for i in p.of_type(IType.SHA256)} == {"5d99efa36f34aa6b43cd81e77544961c5c8d692c96059fef92c2df2624550734"}


@pytest.mark.parametrize("content,message", [
    (b"", "empty"), (b"   \n\n", "empty"), (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00binary" * 20, "binary"),
    (b"%PDF-1.4\ngarbage", "PDF"),
])
def test_bad_documents_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(InputError) as exc:
        extract_files([str(f)], ExtractOptions())
    assert message in str(exc.value) and str(f) in str(exc.value)


def test_undecodable_bytes_are_read_with_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "latin.txt"
    f.write_bytes("Domaine : évil[.]example-c2.com\n".encode("latin-1") + b"bad[.]example-c2.net \xff\xfe\n")
    r = extract_files([str(f)], ExtractOptions())
    assert {i.value for i in r.pack.of_type(IType.DOMAIN)} >= {"bad.example-c2.net"}
    assert any("UTF-8" in w for w in r.warnings)


def test_huge_file_refused_without_reading(tmp_path: Path) -> None:
    f = tmp_path / "huge.txt"
    with f.open("wb") as fh:
        fh.truncate(500 * 1024 * 1024)  # sparse: 500 MB, costs no disk
    with pytest.raises(InputError, match="too large"):
        extract_files([str(f)], ExtractOptions())


def test_malformed_html_found_by_fuzzing(tmp_path: Path) -> None:
    # atheris: '<!<![' made CPython's html.parser raise AssertionError at close()
    f = tmp_path / "bad.html"
    f.write_bytes(b"<html><body><p>C2: evil-cdn[.]com</p><!<![\xff\xff\x92\x01m and more: other-c2[.]net</body></html>")
    p = extract_files([str(f)], ExtractOptions()).pack
    assert {i.value for i in p.of_type(IType.DOMAIN)} == {"evil-cdn.com", "other-c2.net"}


# --- metadata: title and published date from the document's own header --------------------------

def _meta(tmp_path: Path, name: str, text: str) -> tuple[str, str]:
    p = extract_files([write(tmp_path, name, text)], ExtractOptions()).pack
    return p.title, p.published


def test_metadata_html_meta(tmp_path: Path) -> None:
    html = """<!doctype html><html><head>
<title>Threat Research | ExampleSec</title>
<meta property="og:title" content="Operation Quartz: a macOS backdoor in a fake updater">
<meta property="article:published_time" content="2024-03-12T08:00:00+00:00">
</head><body><nav>Home</nav><p>Last modified 2024-04-01</p>
<h1>Operation Quartz: a macOS backdoor in a fake updater</h1><p>The updater contacts hxxps://quartz-cdn[.]com/u.</p>
</body></html>"""
    assert _meta(tmp_path, "post.html", html) == ("Operation Quartz: a macOS backdoor in a fake updater", "2024-03-12")


def test_metadata_markdown_h1_not_a_section_heading(tmp_path: Path) -> None:
    md = """# Lazarus targets crypto exchanges with a trojanised trading app

Posted on April 2, 2024

## Security recommendations: patch and hunt

## Indicators
- `trade-sync[.]net`
"""
    assert _meta(tmp_path, "report.md", md) == ("Lazarus targets crypto exchanges with a trojanised trading app", "2024-04-02")


def test_metadata_front_matter(tmp_path: Path) -> None:
    md = '---\ntitle: "Cobalt Strike beacons on exposed ESXi"\ndate: 2023-11-20\n---\n\n## Summary: what we saw\n'
    assert _meta(tmp_path, "post.md", md) == ("Cobalt Strike beacons on exposed ESXi", "2023-11-20")


def test_metadata_asciidoc_header(tmp_path: Path) -> None:
    adoc = "= IOC bulletin: GhostUpdate campaign\nCERT Example <cert@example.org>\nv1.2, 2024-05-07: indicators added\n\n== Indicators\n"
    assert _meta(tmp_path, "bulletin.adoc", adoc) == ("IOC bulletin: GhostUpdate campaign", "2024-05-07")


def test_metadata_publie_le_not_yara_meta(tmp_path: Path) -> None:
    text = """Avis de sécurité – porte dérobée dans un module de mise à jour
rule Backdoor_Update {
    meta:
        author = "CERT"
        created = "2022-11-03"
        date = "2022-11-03"
    strings:
        $a = "update-check"
    condition:
        $a
}
Publié le 1er avril 2023, mis à jour le 5 avril 2023
"""
    title, published = _meta(tmp_path, "avis.txt", text)
    assert published == "2023-04-01"
    assert title.startswith("Avis de sécurité")
