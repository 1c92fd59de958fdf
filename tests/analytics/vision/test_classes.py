"""The committed ImageNet class table and its WordNet-derived marketing categories."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.vision import category_names, imagenet_classes
from analytics.vision._build_classes import CATEGORY_ANCHORS, build


def test_table_has_1000_classes_in_wordnet_id_order() -> None:
    classes = imagenet_classes()
    assert len(classes) == 1000
    assert [cls.index for cls in classes] == list(range(1000))
    ids = [cls.imagenet_id for cls in classes]
    assert ids == sorted(ids) and len(set(ids)) == 1000
    assert (classes[0].imagenet_id, classes[0].label) == ("n01440764", "tench")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("running shoe", {"footwear"}),
        ("pizza", {"food"}),
        ("sports car", {"vehicle"}),
        ("golden retriever", {"animal", "pet"}),
        ("laptop", {"electronics"}),
        ("jersey", {"apparel"}),
        ("lipstick", {"beauty"}),
        ("school bus", {"vehicle"}),
        ("espresso", {"food"}),
    ],
)
def test_known_classes_have_their_categories(label: str, expected: set[str]) -> None:
    by_label = {cls.label: cls for cls in imagenet_classes()}
    assert expected <= set(by_label[label].categories)
    assert set(by_label[label].categories) <= set(category_names())


def test_animals_are_the_first_398_classes() -> None:
    animal = [i for i, cls in enumerate(imagenet_classes()) if "animal" in cls.categories]
    assert animal == list(range(398))


def _data_line(offset: str, words: list[str], hypernyms: list[str]) -> str:
    word_part = " ".join(f"{word} 0" for word in words)
    pointers = " ".join(f"@ {parent} n 0000" for parent in hypernyms)
    return f"{offset} 05 n {len(words):02x} {word_part} {len(hypernyms):03d} {pointers} | gloss"


def test_builder_follows_hypernyms_to_anchors(tmp_path: Path) -> None:
    # A miniature WordNet: entity <- clothing <- footwear <- shoe <- running_shoe; entity <- rock.
    synsets = {
        "00000001": (["entity"], []),
        "00000002": (["clothing"], ["00000001"]),
        "00000003": (["footwear"], ["00000002"]),
        "00000004": (["shoe"], ["00000003"]),
        "00000005": (["running_shoe", "trainer"], ["00000004"]),
        "00000006": (["rock"], ["00000001"]),
    }
    (tmp_path / "data.noun").write_text(
        "  licence header\n"
        + "\n".join(_data_line(o, w, h) for o, (w, h) in synsets.items())
        + "\n"
    )
    # index.noun: every anchor the builder looks up; unknown senses point at an unused synset.
    senses: dict[str, list[str]] = {words[0]: [o] for o, (words, _h) in synsets.items()}
    for lemma, number in {key for keys in CATEGORY_ANCHORS.values() for key in keys}:
        offsets = senses.setdefault(lemma, [])
        offsets += ["99999999"] * (number - len(offsets))
    (tmp_path / "index.noun").write_text(
        "  licence header\n"
        + "\n".join(
            f"{lemma} n {len(o)} 0 {len(o)} 0 {' '.join(o)}" for lemma, o in sorted(senses.items())
        )
        + "\n"
    )
    names = ["n00000005_running_shoe.JPEG", "n00000006_rock.JPEG", "n00000001_entity.JPEG"]
    table = build(tmp_path, names, expected=3)
    assert [row["imagenet_id"] for row in table] == ["n00000001", "n00000005", "n00000006"]
    by_id = {row["imagenet_id"]: row for row in table}
    assert by_id["n00000005"]["label"] == "running shoe"
    assert by_id["n00000005"]["wordnet_lemmas"] == ["running shoe", "trainer"]
    assert by_id["n00000005"]["categories"] == ["footwear", "apparel"]
    assert by_id["n00000006"]["categories"] == []
    with pytest.raises(ValueError, match=r"expected 1,000 sample files .* found 3"):
        build(tmp_path, names)
