"""The generated chat-style NLU examples (bot/augment.py) match the examples they come from."""

from __future__ import annotations

import yaml

from bot import augment


def test_the_generated_file_is_up_to_date() -> None:
    assert augment.main(["--check"]) == 0, "run: .venv/bin/python -m bot.augment"


def test_each_variant_is_one_example_with_one_lead_in_or_tail() -> None:
    data = yaml.safe_load(augment.OUTPUT.read_text(encoding="utf-8"))
    blocks = {block["intent"]: block["examples"] for block in data["nlu"]}
    assert set(blocks) == set(augment.INTENTS)
    every = augment._examples()
    for intent, text in blocks.items():
        originals = every[intent]
        lines = [line[2:] for line in text.strip().splitlines()]
        assert 0 < len(lines) <= augment.PER_INTENT
        for line in lines:
            assert line not in originals
            heads = [lead for lead in augment.LEAD_INS if line.startswith(lead)]
            tails = [tail for tail in augment.TAILS if line.endswith(tail)]
            assert any(line[len(h) :] in originals for h in heads) or any(
                any(o.rstrip("?!. ") == line[: -len(t)] for o in originals) for t in tails
            ), (intent, line)
