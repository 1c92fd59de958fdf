"""The understanding benchmark's phrases stay out of the bot's training data.

``benchmarks/understanding/`` judges the NLU on phrasing it never saw; a phrase copied
into ``bot/data`` would make that judgement flatter than the truth. Messages are
compared after folding case, entity markup and white space. A message of four words or
more may not appear inside any training example either; shorter ones ("why?") may be
part of longer examples but may not be one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from benchmarks.understanding import SET_DIR, load_set, turns_of

BOT_DATA = Path(__file__).resolve().parent.parent / "bot" / "data"
DEV_SET_DIR = SET_DIR.with_name("understanding_dev")
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """Lower case, entity markup reduced to its text, runs of white space to one space."""
    return " ".join(_ENTITY.sub(r"\1", text).lower().split())


def training_messages(folder: Path = BOT_DATA) -> list[str]:
    """Every NLU example and every user message of a story or rule under ``folder``."""
    found: list[str] = []
    for path in sorted(folder.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    found.append(line.strip()[2:])
        for key in ("stories", "rules"):
            for story in data.get(key) or []:
                found += [str(s["user"]) for s in story.get("steps") or [] if "user" in s]
    return found


def test_the_training_data_is_read() -> None:
    examples = training_messages()
    assert len(examples) > 500
    assert normalise("how is [insta](platform) doing?") == "how is insta doing?"


@pytest.mark.parametrize("folder", [SET_DIR, DEV_SET_DIR], ids=["held-out", "dev"])
def test_no_benchmark_phrase_is_in_the_training_data(folder: Path) -> None:
    # The dev set is tuned on, but a copy of it in bot/data would make it useless too.
    examples = {normalise(e) for e in training_messages()}
    joined = "\n".join(sorted(examples))
    leaked = []
    for turn in turns_of(load_set(folder)):
        phrase = normalise(turn.user)
        if phrase in examples or (len(phrase.split()) >= 4 and phrase in joined):
            leaked.append(f"{turn.key}: {turn.user!r}")
    assert not leaked, "benchmark phrases found in bot/data (rephrase them there):\n" + "\n".join(
        leaked
    )


def test_a_copied_phrase_is_caught(tmp_path: Path) -> None:
    phrase = turns_of(load_set())[0].user
    (tmp_path / "nlu.yml").write_text(
        yaml.safe_dump({"nlu": [{"intent": "x", "examples": f"- {phrase}\n- something else\n"}]})
    )
    assert normalise(phrase) in {normalise(e) for e in training_messages(tmp_path)}


def test_image_post_placeholders_are_filled_from_the_workspace_posts() -> None:
    from benchmarks.understanding import IMAGE_POST, filled

    posts = {"ig": ["ig-000007", "ig-000019"], "fb": ["fb-000003"]}
    assert filled("tag {image_post:ig:2} and {image_post:fb}", posts) == (
        "tag ig-000019 and fb-000003"
    )
    assert filled("whats in {image_post:ig}", None) == "whats in ig-000001"
    with pytest.raises(SystemExit, match="fewer than 3 ig posts"):
        filled("{image_post:ig:3}", posts)
    # Every brace in the sets is a placeholder the benchmark fills.
    for folder in (SET_DIR, DEV_SET_DIR):
        for turn in turns_of(load_set(folder)):
            assert "{" not in IMAGE_POST.sub("", turn.user), turn.key
