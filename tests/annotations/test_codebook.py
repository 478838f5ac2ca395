"""Codebooks: the shipped ones are valid; validation errors say exactly what is wrong."""

import json

import pytest

from annotations import BUILTIN, CodebookError, builtin_codebook, load_codebook, parse_codebook


def test_builtin_codebooks():
    vig = builtin_codebook("vig")
    assert [c.label for c in vig.categories] == [
        "Being attentive",
        "Encouraging initiatives",
        "Receiving initiatives",
        "Developing attuned interactions",
        "Guiding",
        "Deepening discussion",
    ]
    assert vig.by_key("2").id == "encouraging"
    assert vig.category_of("receiving.words").id == "receiving"
    assert all(c.prompt for c in vig.categories)
    assert [c.label for c in builtin_codebook("piccolo").categories] == [
        "Affection",
        "Responsiveness",
        "Encouragement",
        "Teaching",
    ]
    assert set(BUILTIN) == {"vig", "piccolo", "pup"}
    assert builtin_codebook("pup").codes()


def good() -> dict:
    return {
        "id": "mine",
        "name": "My codes",
        "categories": [
            {
                "id": "warmth",
                "label": "Warmth",
                "colour": "#aa0000",
                "codes": [
                    {"id": "smile", "label": "Smiling", "key": "a"},
                    {"id": "touch", "label": "Gentle touch", "key": "b"},
                ],
            }
        ],
    }


def test_json_and_toml_files(tmp_path):
    (tmp_path / "mine.json").write_text(json.dumps(good()))
    (tmp_path / "mine.toml").write_text(
        'id = "mine"\nname = "My codes"\n[[categories]]\nid = "warmth"\nlabel = "Warmth"\n'
        'colour = "#aa0000"\n[[categories.codes]]\nid = "smile"\nlabel = "Smiling"\nkey = "a"\n'
    )
    assert load_codebook(tmp_path / "mine.json").code("touch").label == "Gentle touch"
    assert load_codebook(tmp_path / "mine.toml").code("smile").key == "a"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["categories"][0]["codes"][1].update(key="A"), "duplicate key 'A'"),
        (lambda d: d["categories"][0]["codes"][1].update(id="smile"), "duplicate code id 'smile'"),
        (lambda d: d["categories"][0].update(colour="red"), "bad colour 'red'"),
        (lambda d: d["categories"][0]["codes"][0].update(key="s"), "cannot use key 's'"),
        (lambda d: d["categories"][0]["codes"][0].update(key="ab"), "bad key 'ab'"),
        (lambda d: d["categories"][0].update(codes=[]), "non-empty list"),
        (lambda d: d.pop("name"), "needs a 'name'"),
        (
            lambda d: d["categories"].append(
                dict(d["categories"][0], codes=[{"id": "other", "label": "Other"}])
            ),
            "duplicate category id 'warmth'",
        ),
    ],
)
def test_validation_messages(change, message):
    data = good()
    change(data)
    with pytest.raises(CodebookError, match=message):
        parse_codebook(json.dumps(data), "mine.json")


def test_all_problems_in_one_message():
    data = good()
    data["categories"][0]["colour"] = "blue"
    data["categories"][0]["codes"][1]["key"] = "a"
    with pytest.raises(CodebookError) as info:
        parse_codebook(json.dumps(data), "mine.json")
    assert "bad colour" in str(info.value) and "duplicate key" in str(info.value)


def test_unreadable_files():
    with pytest.raises(CodebookError, match="not valid JSON"):
        parse_codebook("{", "x.json")
    with pytest.raises(CodebookError, match="not valid TOML"):
        parse_codebook("= =", "x.toml")
    with pytest.raises(CodebookError, match="unknown codes nope"):
        builtin_codebook("vig").check_codes(["nope"])


def test_a_codebook_from_another_tools_scheme_has_valid_unique_ids():
    from annotations.codebook import codebook_from_scheme

    book = codebook_from_scheme(
        "Étude gestes",
        {"Gesture": ["hold", "Hold", "a b", "a-b", "  "], "gesture": ["x"], "Empty": []},
    )
    assert book.id == "etude-gestes"
    assert [c.id for c in book.categories] == ["gesture", "gesture-2"]
    assert [c.id for c in book.categories[0].codes] == [
        "gesture.hold",
        "gesture.hold-2",
        "gesture.a-b",
        "gesture.a-b-2",
    ]
    assert book.find("Hold") is not None
    with pytest.raises(CodebookError, match="no labels"):
        codebook_from_scheme("x", {"Empty": [""]})


def test_a_second_file_adds_to_a_codebook_made_from_the_first():
    from annotations.codebook import codebook_from_scheme, merged_codebook

    first = codebook_from_scheme("Study", {"Gesture": ["hold", "prep"]})
    second = codebook_from_scheme("Study", {"Gesture": ["stroke", "hold"], "POS": ["n"]})
    merged = merged_codebook(first, second)
    assert [c.id for c in merged.codes()] == [
        "gesture.hold",
        "gesture.prep",
        "gesture.stroke",
        "pos.n",
    ]
