"""Checks of bot/featurizers.py under Rasa's own Python (run by tests/bot/test_minilm.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot._minilm import load_minilm
from bot.featurizers import MiniLMFeaturizer


def _component(cls: Any, tmp: str) -> Any:
    storage = LocalModelStorage(tmp)
    context = ExecutionContext(graph_schema=None, node_name=cls.__name__)
    return cls.create({**cls.get_default_config()}, storage, Resource(cls.__name__), context)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = _component(WhitespaceTokenizer, tmp)
        featurizer = _component(MiniLMFeaturizer, tmp)
        text = "how's insta doing this week??"
        message = Message(data={TEXT: text})
        tokenizer.process([message])
        featurizer.process([message])
        sequence, sentence = message.get_dense_features(TEXT, [])
        tokens = message.get("text_tokens")
        assert sequence is not None and sentence is not None
        assert sequence.features.shape == (len(tokens), 384), sequence.features.shape
        assert sentence.features.shape == (1, 384)
        # The sentence feature is the embedding the action server would compute.
        expected = load_minilm().embed(text)
        assert np.allclose(sentence.features[0], expected, atol=1e-6)
        assert all(np.abs(row).sum() > 0 for row in sequence.features)

        training = TrainingData([Message(data={TEXT: "show me the top posts", "intent": "x"})])
        tokenizer.process_training_data(training)
        featurizer.process_training_data(training)
        features = training.training_examples[0].get_dense_features(TEXT, [])
        assert features[1] is not None and features[1].features.shape == (1, 384)

        empty = Message(data={TEXT: ""})
        featurizer.process([empty])  # no text: no features, no error
        assert empty.get_dense_features(TEXT, [])[0] is None
    print("all checks passed")


if __name__ == "__main__":
    main()
