"""Dense sentence features for DIET from the packaged MiniLM (``config.yml``).

Sparse features (word and character n-grams) only see the words a message shares with
the training examples; a paraphrase in other words lands nowhere. This featurizer adds
all-MiniLM-L6-v2's sentence embedding (mean-pooled, L2-normalised: the vector the
action server's encoder gives the same text) and one vector per token (the mean of the
token's word pieces), so a paraphrase lands near its intent. The encoder runs in NumPy
(``bot/_minilm.py``), loaded once per process; nothing is downloaded.

Whether it helps is measured by ``python -m benchmarks.understanding --part nlu
--compare-config <config without it>`` (docs/benchmarks/understanding.md).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot._minilm import HIDDEN_SIZE, MiniLM, load_minilm

logger = logging.getLogger(__name__)


def token_features(model: MiniLM, text: str, tokens: list[Token]) -> tuple[np.ndarray, np.ndarray]:
    """Per-token and sentence features of ``text``, split into ``tokens`` by the tokenizer.

    Returns:
        ``(sequence, sentence)``: shape (len(tokens), 384), the mean of the word pieces
        that overlap each token (zeros for a token with none), and shape (1, 384), the
        L2-normalised mean over all word pieces (sentence-transformers' embedding).
    """
    pieces = model.tokenizer.encode(text)
    vectors = model.token_vectors(pieces.ids)
    sequence = np.zeros((len(tokens), HIDDEN_SIZE), dtype=np.float32)
    spans = pieces.spans
    for row, token in enumerate(tokens):
        overlapping = [
            i for i, (start, end) in enumerate(spans) if start < token.end and end > token.start
        ]
        if overlapping:
            sequence[row] = vectors[overlapping].mean(0)
    mean = vectors.mean(0)
    sentence = (mean / max(float(np.linalg.norm(mean)), 1e-12)).reshape(1, -1)
    return sequence, sentence.astype(np.float32)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds MiniLM sentence and token features to each message's text."""

    @classmethod
    def required_components(cls) -> list[type]:
        """A tokenizer must run first: the token features follow its tokens."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (an alias for its features)."""
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        """Creates the component; the encoder loads on first use, once per process."""
        return cls(execution_context.node_name, config)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate beyond the base class's alias."""

    def _featurize(self, message: Message) -> None:
        text = message.get(TEXT)
        tokens = message.get(TOKENS_NAMES[TEXT])
        if not text or not tokens:
            return
        sequence, sentence = token_features(load_minilm(), text, tokens)
        self.add_features_to_message(sequence, sentence, TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example's text."""
        for example in training_data.training_examples:
            self._featurize(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages."""
        for message in messages:
            self._featurize(message)
        return messages
