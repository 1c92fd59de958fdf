"""Rebuild ``data/imagenet_classes.json``: labels and marketing categories for ImageNet-1k.

Run once by a developer, not at run time (the JSON is committed)::

    apt-get install wordnet-base          # WordNet 3.0, the version ImageNet was built on
    python -m analytics.vision._build_classes \\
        --wordnet /usr/share/wordnet --sample ../shared/data/images/imagenet-sample

For each of the 1,000 classes (index = sorted order of the WordNet ids, as the
classifiers were trained) it records the WordNet id, the label from the sample
file name (``n01440764_tench.JPEG`` → ``tench``), the WordNet lemmas, and every
marketing category whose anchor synset is among the class's WordNet hypernyms
(following ``@`` and ``@i`` pointers in ``data.noun`` to the root), plus the
hand-placed classes in :data:`EXTRA_BY_LABEL` that no anchor reaches.
Nothing here downloads anything.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path

# Marketing categories and their anchor synsets (lemma, sense number in WordNet 3.0).
# A class gets a category when any anchor is the class itself or one of its hypernyms.
CATEGORY_ANCHORS: dict[str, tuple[tuple[str, int], ...]] = {
    "food": (
        ("food", 1),
        ("food", 2),
        ("foodstuff", 2),
        ("dish", 2),
        ("edible_fruit", 1),
        ("vegetable", 1),
        ("beverage", 1),
    ),
    "footwear": (("footwear", 1), ("footwear", 2)),
    "apparel": (("clothing", 1), ("headdress", 1), ("garment", 1)),
    "accessories": (
        ("jewelry", 1),
        ("bag", 4),
        ("bag", 1),
        ("umbrella", 1),
        ("spectacles", 1),
        ("timepiece", 1),
    ),
    "beauty": (("toiletry", 1), ("makeup", 2), ("perfume", 2)),
    "vehicle": (("vehicle", 1), ("craft", 2), ("public_transport", 1), ("train", 1)),
    "electronics": (
        ("electronic_equipment", 1),
        ("electronic_device", 1),
        ("computer", 1),
        ("telephone", 1),
        ("camera", 1),
        ("monitor", 4),
        ("screen", 3),
    ),
    "home_appliance": (("home_appliance", 1),),
    "kitchen": (
        ("kitchen_utensil", 1),
        ("cooking_utensil", 1),
        ("tableware", 1),
        ("crockery", 1),
        ("cutlery", 2),
    ),
    "furniture": (("furniture", 1), ("furnishing", 2)),
    "sports": (("sports_equipment", 1), ("ball", 1), ("athletic_facility", 1)),
    "toys_games": (("toy", 1), ("plaything", 1), ("game_equipment", 1)),
    "music": (("musical_instrument", 1),),
    "tools": (("tool", 1), ("hand_tool", 1), ("power_tool", 1)),
    "animal": (("animal", 1),),
    "pet": (("dog", 1), ("domestic_cat", 1)),
    "plant": (("vascular_plant", 1), ("fungus", 1), ("flower", 1)),
    "nature": (("geological_formation", 1), ("body_of_water", 1)),
    "building": (("building", 1), ("structure", 1)),
    "person": (("person", 1),),
}


# Classes whose WordNet hypernyms reach no anchor above, placed by hand by their label
# (the sample file name). Categories here are added to those WordNet gives.
EXTRA_BY_LABEL: dict[str, tuple[str, ...]] = {
    "electronics": (
        "television",
        "loudspeaker",
        "microphone",
        "projector",
        "remote control",
        "hard disc",
        "photocopier",
        "radio",
        "typewriter keyboard",
        "space bar",
        "cassette",
        "cash machine",
    ),
    "home_appliance": ("electric fan", "space heater", "stove", "hand blower", "vending machine"),
    "kitchen": (
        "pot",
        "ladle",
        "strainer",
        "measuring cup",
        "saltshaker",
        "cocktail shaker",
        "tray",
        "pitcher",
        "coffee mug",
        "goblet",
        "beer glass",
        "water jug",
    ),
    "drinks": (
        "beer bottle",
        "wine bottle",
        "pop bottle",
        "water bottle",
        "whiskey jug",
        "beer glass",
        "goblet",
        "coffee mug",
        "milk can",
    ),
    "home_decor": (
        "pillow",
        "quilt",
        "bath towel",
        "vase",
        "candle",
        "lampshade",
        "doormat",
        "window shade",
        "bathtub",
        "washbasin",
        "soap dispenser",
        "paper towel",
        "toilet tissue",
        "velvet",
        "wool",
    ),
    "accessories": ("wallet", "sunglass", "hair slide", "handkerchief", "buckle", "safety pin"),
    "beauty": ("hair slide",),
    "sports": ("ski", "racket", "puck", "paddle", "snorkel", "parachute", "ski mask"),
    "toys_games": ("pinwheel", "piggy bank", "maze"),
    "office": (
        "ballpoint",
        "fountain pen",
        "binder",
        "envelope",
        "pencil box",
        "pencil sharpener",
        "rubber eraser",
        "rule",
        "quill",
        "paintbrush",
        "comic book",
        "book jacket",
    ),
    "vehicle": (
        "minibus",
        "school bus",
        "trolleybus",
        "bullet train",
        "car wheel",
        "car mirror",
        "disk brake",
        "odometer",
        "oil filter",
        "gas pump",
    ),
    "food": ("corn", "ear"),
    "plant": ("rapeseed", "acorn", "hip", "buckeye", "corn", "ear"),
    "tools": (
        "screw",
        "nail",
        "hook",
        "chain",
        "padlock",
        "combination lock",
        "broom",
        "bucket",
        "carpenter's kit",
        "pick",
        "tripod",
        "scale",
        "magnetic compass",
        "loupe",
    ),
    "health": (
        "Band Aid",
        "pill bottle",
        "stethoscope",
        "syringe",
        "neck brace",
        "crutch",
        "oxygen mask",
        "stretcher",
        "swab",
    ),
    "weapons": (
        "assault rifle",
        "rifle",
        "revolver",
        "cannon",
        "holster",
        "projectile",
        "guillotine",
        "scabbard",
        "breastplate",
        "cuirass",
        "chain mail",
        "shield",
        "pickelhaube",
        "gasmask",
    ),
}


def _read_index(wordnet: Path) -> dict[tuple[str, int], str]:
    """Map (lemma, sense number) to a noun synset offset from ``index.noun``."""
    senses: dict[tuple[str, int], str] = {}
    for line in (wordnet / "index.noun").read_text(encoding="utf-8").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split()
        lemma, synset_cnt, p_cnt = fields[0], int(fields[2]), int(fields[3])
        offsets = fields[6 + p_cnt : 6 + p_cnt + synset_cnt]
        for number, offset in enumerate(offsets, start=1):
            senses[(lemma, number)] = offset
    return senses


def _read_data(wordnet: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Return lemmas and hypernym offsets (``@`` and ``@i``) per noun synset offset."""
    lemmas: dict[str, list[str]] = {}
    hypernyms: dict[str, list[str]] = {}
    for line in (wordnet / "data.noun").read_text(encoding="utf-8").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split(" | ")[0].split()
        offset, w_cnt = fields[0], int(fields[3], 16)
        words = fields[4 : 4 + 2 * w_cnt : 2]
        position = 4 + 2 * w_cnt
        p_cnt = int(fields[position])
        pointers = fields[position + 1 : position + 1 + 4 * p_cnt]
        lemmas[offset] = [word.split("(")[0] for word in words]
        hypernyms[offset] = [
            pointers[i + 1]
            for i in range(0, len(pointers), 4)
            if pointers[i] in ("@", "@i") and pointers[i + 2] == "n"
        ]
    return lemmas, hypernyms


def _category_order() -> list[str]:
    order = list(CATEGORY_ANCHORS)
    order += [name for name in EXTRA_BY_LABEL if name not in order]
    return order


def _closure(offset: str, hypernyms: dict[str, list[str]]) -> set[str]:
    seen = {offset}
    stack = [offset]
    while stack:
        for parent in hypernyms.get(stack.pop(), []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def build(
    wordnet: Path, sample_names: Iterable[str], expected: int = 1000
) -> list[dict[str, object]]:
    """Build the class table from WordNet 3.0 files and the sample file names.

    Args:
        wordnet: Folder with WordNet 3.0's ``index.noun`` and ``data.noun``.
        sample_names: File names ``<wnid>_<label>.<ext>``, one per class.
        expected: Number of classes there must be.

    Returns:
        One dict per class in class-index order: ``index``, ``imagenet_id``, ``label``,
        ``wordnet_lemmas``, ``categories``.
    """
    senses = _read_index(wordnet)
    lemmas, hypernyms = _read_data(wordnet)
    anchors = {
        category: {senses[key] for key in keys} for category, keys in CATEGORY_ANCHORS.items()
    }
    labels: dict[str, str] = {}
    for name in sample_names:
        stem = name.rsplit(".", 1)[0]
        wnid, _, label = stem.partition("_")
        labels[wnid] = label.replace("_", " ")
    if len(labels) != expected:
        raise ValueError(f"expected {expected:,} sample files (one per class), found {len(labels)}")
    table: list[dict[str, object]] = []
    for index, wnid in enumerate(sorted(labels)):
        offset = wnid[1:]
        ancestors = _closure(offset, hypernyms)
        found = {name for name, offsets in anchors.items() if offsets & ancestors}
        found |= {name for name, labels_ in EXTRA_BY_LABEL.items() if labels[wnid] in labels_}
        categories = [name for name in _category_order() if name in found]
        table.append(
            {
                "index": index,
                "imagenet_id": wnid,
                "label": labels[wnid],
                "wordnet_lemmas": [lemma.replace("_", " ") for lemma in lemmas[offset]],
                "categories": categories,
            }
        )
    return table


def main() -> None:
    """Command-line entry: write the JSON next to this module."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--sample", type=Path, required=True)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("data") / "imagenet_classes.json"
    )
    args = parser.parse_args()
    names = [path.name for path in args.sample.iterdir() if path.suffix.upper() == ".JPEG"]
    table = build(args.wordnet, names)
    payload = {
        "source": "WordNet 3.0 (Debian wordnet-base 1:3.0) hypernyms + imagenet-sample file names; "
        "rebuild with `python -m analytics.vision._build_classes`",
        "categories": _category_order(),
        "classes": table,
    }
    args.out.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    uncategorised = sum(1 for row in table if not row["categories"])
    print(f"wrote {args.out} ({len(table)} classes, {uncategorised} without a category)")


if __name__ == "__main__":
    main()
