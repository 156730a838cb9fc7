from tracehound.intel.hashes import find_hex_values

SHA = "5d99efa36f34aa6b43cd81e77544961c5c8d692c96059fef92c2df2624550734"


def values(text: str, hint: str = "") -> list[str]:
    return [h.value for h in find_hex_values(text, hint)]


def test_split_sha256_rejoined() -> None:
    assert values("5d99efa36f34aa6b43cd81e77544961 c5c8d692c96059fef92c2df2624550734") == [SHA]


def test_split_thumbprint_rejoined_any_split_point() -> None:
    for text in ("87C6D553A296D7473451D53C AA298EFA9B4870AD", "87C6D553A296D7473451D53CA A298EFA9B4870AD",
                 "87C6D553A296D7473451D53 CAA298EFA9B4870AD"):
        assert values(text) == ["87c6d553a296d7473451d53caa298efa9b4870ad"]


def test_split_across_line_break() -> None:
    assert values("hash: 5d99efa36f34aa6b43cd81e77544961\nc5c8d692c96059fef92c2df2624550734 end") == [SHA]


def test_complete_value_not_extended_onto_next_line() -> None:
    text = "87C6D553A296D7473451D53C AA298EFA9B4870AD\n14075C5C8C373BE373E51DBE A7F6E5CD8087AB0A"
    assert values(text) == ["87c6d553a296d7473451d53caa298efa9b4870ad", "14075c5c8c373be373e51dbea7f6e5cd8087ab0a"]


def test_two_md5_on_one_line_are_not_glued() -> None:
    a, b = "d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661"
    assert values(f"{a} {b}") == [a, b]
    assert values(f"MD5: {a} {b}", hint="md5") == [a, b]


def test_two_halves_joined_only_when_context_says_sha256() -> None:
    a, b = "dde03348075512796241389dfea5560c", "20a3d2a2eac95c894e7bbed5e85a0acc"
    assert values(f"{a} {b}", hint="Hash (sha-256 ou sha-1)") == [a + b]
    assert values(f"{a} {b}", hint="sha256 or md5") == [a, b]


def test_near_miss_complete_value_next_to_fragment() -> None:
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    assert values(f"{md5} 12ab34cd") == [md5]  # 32 + 8 = 40 but the MD5 is complete


def test_near_miss_case_mismatch() -> None:
    # same lengths as a split SHA-1, but one fragment upper and one lower case: two unrelated tokens
    assert values("87C6D553A296D7473451D53C aa298efa9b4870ad") == []


def test_hex_looking_words_not_joined() -> None:
    assert values("deadbeefcafebabedeadbeefcafe facade") == []


def test_invalid_total_length_not_joined() -> None:
    assert values("5d99efa36f34aa6b43cd81e77544961 c5c8d692c96059fef92c2df26245507") == []


SHA512 = ("be688838ca8686e5c90689bf2ab585cef1137c999b48c70b92f67a5c34dc1569"
          "7b5d11c982ed6d71be1e1e7f7b4e0733884aa97c3f7a339a8ed03577cf74be09")


def test_sha512_found_and_split_sha512_rejoined_under_header() -> None:
    assert values(f"SHA-512: {SHA512}") == [SHA512]
    # two 64-hex halves: two SHA-256 unless the text says SHA-512
    assert values(f"{SHA512[:64]} {SHA512[64:]}", hint="SHA-512") == [SHA512]
    assert values(f"{SHA512[:64]} {SHA512[64:]}", hint="SHA-256") == [SHA512[:64], SHA512[64:]]


def test_labelled_values_carry_their_label() -> None:
    found = find_hex_values("imphash: 18ddf28a71089acdbab5038f58044c0a MD5 68b329da9893e34099c7d8ad5cb9c940")
    assert [(h.value[:4], h.label) for h in found] == [("18dd", "imphash"), ("68b3", "")]


def test_sha512_through_every_pack_format(tmp_path) -> None:
    import json

    from stix2validator import ValidationOptions, validate_string

    from tracehound.intel.formats import read_pack, write_pack
    from tracehound.intel.model import Indicator, IType, Pack

    pack = Pack(name="s512")
    pack.add(Indicator(IType.SHA512, SHA512, {"file_name": "implant.bin"}))
    for fmt in ("json", "stix", "misp", "csv"):
        out = tmp_path / f"p.{fmt}"
        write_pack(pack, fmt, str(out))
        back = read_pack(str(out))
        assert [(i.type, i.value) for i in back.indicators] == [(IType.SHA512, SHA512)], fmt
        if fmt == "stix":
            text = out.read_text(encoding="utf-8")
            assert "file:hashes.'SHA-512'" in text
            result = validate_string(text, ValidationOptions(version="2.1", strict=True))
            assert result.is_valid, json.dumps(result.as_dict())[:500]
