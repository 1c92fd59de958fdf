"""``beacon retrain``: learn from the corrections people gave in chat.

A staff member who reads "… e.g. "My order is late. Not happy" (fb-m000324)" in a
sentiment answer and replies "fb-m000324 is negative, not positive" leaves a
*sentiment correction* in the ``feedback`` table (``correction`` holds
``{"target": "sentiment", "post_id": …, "label": …}``). Retraining joins every
corrected post to the sentiment stacker's training rows
(:meth:`BeaconSentimentModel.learn_corrections`), reports accuracy before and after on
the corrected examples and on the held-out TweetEval split (when ../shared/data is
there), and saves the result to ``<home>/models/sentiment``, which
:func:`beacon.scoring.current_scorer` prefers over the committed model from then on.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from beacon.exceptions import InputError
from beacon.settings import Settings
from beacon.workspace import Workspace, record_audit

#: ``feedback.correction`` marker of a structured sentiment correction.
SENTIMENT_TARGET = "sentiment"
#: Largest drop in macro recall (on the stacker's own rows, and on held-out tweets when
#: they are there) a retrained model may show and still replace the current one.
MAX_REGRESSION = 0.02


def sentiment_model_dir(settings: Settings) -> Path:
    """Where a retrained sentiment model lives (``<home>/models/sentiment``)."""
    return settings.home / "models" / "sentiment"


def sentiment_correction(post_id: str, label: str) -> str:
    """The ``feedback.correction`` value for "post ``post_id`` is ``label``"."""
    return json.dumps({"target": SENTIMENT_TARGET, "post_id": post_id, "label": label})


@dataclass(frozen=True)
class Correction:
    """One post's corrected sentiment (the latest correction of a post wins)."""

    post_id: str
    label: str
    text: str
    feedback_id: str


def sentiment_corrections(con: duckdb.DuckDBPyConnection) -> list[Correction]:
    """Every post whose sentiment someone corrected, with its text, oldest first."""
    rows = con.execute(
        """
        SELECT f.feedback_id, f.correction, p.text FROM feedback f
        JOIN posts p ON p.post_id = json_extract_string(f.correction, '$.post_id')
        WHERE f.verdict = 'correction' AND json_valid(f.correction)
          AND json_extract_string(f.correction, '$.target') = ?
        ORDER BY f.created_at, f.feedback_id
        """,
        [SENTIMENT_TARGET],
    ).fetchall()
    latest: dict[str, Correction] = {}
    for feedback_id, correction, text in rows:
        data = json.loads(correction)
        latest.pop(data["post_id"], None)  # keep the order of the newest correction
        latest[data["post_id"]] = Correction(data["post_id"], data["label"], text, feedback_id)
    return list(latest.values())


@dataclass(frozen=True)
class ExampleChange:
    """What the model said about one corrected post before and after retraining."""

    post_id: str
    text: str
    corrected_to: str
    before: str
    after: str


@dataclass(frozen=True)
class RetrainReport:
    """The outcome of :func:`retrain_sentiment`.

    Attributes:
        corrections: Corrected posts learned from.
        weight: Sample weight each correction got (see ``learn_corrections``).
        base_version: The model retrained from.
        new_version: The saved model's version.
        examples: Before/after on each corrected post.
        heldout_split: Name of the held-out split, or None when ../shared/data is absent.
        heldout_before: Macro recall on it before (None without the split).
        heldout_after: Macro recall on it after (None without the split).
        guard_before: Macro recall on the stacker's own rows (texts the encoder never
            saw, always available) before.
        guard_after: The same after.
        accepted: Whether the retrained model was saved and now answers; it is refused
            when no correction was learned or either macro recall dropped by more than
            :data:`MAX_REGRESSION`, and the corrections then stay waiting.
        model_dir: Where the retrained model was (or would have been) saved.
    """

    corrections: int
    weight: float
    base_version: str
    new_version: str
    examples: tuple[ExampleChange, ...]
    heldout_split: str | None
    heldout_before: float | None
    heldout_after: float | None
    guard_before: float
    guard_after: float
    accepted: bool
    model_dir: str

    @property
    def fixed_before(self) -> int:
        """Corrected posts the old model already got right."""
        return sum(e.before == e.corrected_to for e in self.examples)

    @property
    def fixed_after(self) -> int:
        """Corrected posts the new model gets right."""
        return sum(e.after == e.corrected_to for e in self.examples)

    def text(self) -> str:
        """A plain summary for people."""
        lines = [
            f"Learned {self.corrections} sentiment correction(s): the corrected posts are now "
            f"{self.fixed_after}/{len(self.examples)} right (were {self.fixed_before}/"
            f"{len(self.examples)}).",
        ]
        for example in self.examples:
            if example.before != example.after:
                lines.append(
                    f"- {example.post_id}: {example.before} → {example.after} "
                    f"(corrected to {example.corrected_to})"
                )
        lines.append(
            f"Stacker's own held-out rows: macro recall {self.guard_before:.3f} → "
            f"{self.guard_after:.3f}."
        )
        if self.heldout_split is not None and self.heldout_before is not None:
            lines.append(
                f"Held-out {self.heldout_split}: macro recall {self.heldout_before:.3f} → "
                f"{self.heldout_after:.3f}."
            )
        else:
            lines.append("No held-out split to check against (../shared/data is absent).")
        if self.accepted:
            lines.append(
                f"Model {self.base_version} → {self.new_version}, saved in {self.model_dir}."
            )
        else:
            lines.append(
                f"Not adopted: {self.refusal()}. {self.base_version} keeps answering and the "
                "corrections stay waiting; check them (a wrong correction is often the cause)."
            )
        return "\n".join(lines)

    def refusal(self) -> str:
        """Why the retrained model was not adopted ("" when it was)."""
        if self.accepted:
            return ""
        if self.fixed_after <= self.fixed_before:
            return "it did not learn any of the corrections"
        return f"macro recall dropped by more than {MAX_REGRESSION:.2f}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fixed_before"], data["fixed_after"] = self.fixed_before, self.fixed_after
        return data


def retrain_sentiment(
    settings: Settings,
    *,
    data_dir: Path | None = None,
    eval_sample: int | None = None,
) -> RetrainReport:
    """Learn the workspace's sentiment corrections and save the retrained model.

    Args:
        settings: Beacon settings (workspace and home).
        data_dir: ../shared/data, for the held-out check; None skips it.
        eval_sample: Score only this many held-out tweets (a random, seeded sample).

    Returns:
        The report; the model is saved (and answers from then on) only when
        ``report.accepted``.

    Raises:
        InputError: There are no sentiment corrections to learn from.
    """
    from analytics.sentiment import LABELS, load_default_scorer
    from analytics.sentiment._metrics import score_split
    from analytics.sentiment._train import read_tweeteval_val

    workspace = Workspace(settings.workspace_path)
    with workspace.connect() as con:
        corrections = sentiment_corrections(con)
    if not corrections:
        raise InputError(
            "no sentiment corrections to learn from yet; in chat, reply to a sentiment answer "
            "with e.g. 'fb-m000324 is negative, not positive'"
        )
    # Always start from the committed model, so corrections never compound on themselves.
    base = load_default_scorer()
    texts = [c.text for c in corrections]
    labels = [c.label for c in corrections]
    new, weight = base.learn_corrections(texts, labels)
    before, after = base.predict(texts), new.predict(texts)
    examples = tuple(
        ExampleChange(c.post_id, c.text, c.label, b, a)
        for c, b, a in zip(corrections, before, after, strict=True)
    )
    split_name = heldout_before = heldout_after = None
    if data_dir is not None:
        split = read_tweeteval_val(data_dir)
        gold, split_texts = list(split.labels), list(split.texts)
        if eval_sample is not None and eval_sample < len(split_texts):
            keep = np.random.default_rng(0).choice(len(split_texts), eval_sample, replace=False)
            gold, split_texts = [gold[i] for i in keep], [split_texts[i] for i in keep]
        split_name = split.name
        heldout_before = score_split(split.name, gold, base.predict(split_texts)).macro_recall
        heldout_after = score_split(split.name, gold, new.predict(split_texts)).macro_recall
    guard_gold = [LABELS[i] for i in base.stack_targets_]
    guard_before = score_split("stack", guard_gold, base.predict_stack_rows()).macro_recall
    guard_after = score_split("stack", guard_gold, new.predict_stack_rows()).macro_recall
    drops = [guard_before - guard_after]
    if heldout_before is not None and heldout_after is not None:
        drops.append(heldout_before - heldout_after)
    learned_more = sum(e.after == e.corrected_to for e in examples) > sum(
        e.before == e.corrected_to for e in examples
    )
    accepted = learned_more and max(drops) <= MAX_REGRESSION
    target = sentiment_model_dir(settings)
    if accepted:
        staging = target.with_name(target.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        new.save(staging, {"retrained_from": base.version,
                           "corrections": {"count": len(corrections), "weight": weight,
                                           "feedback_ids": [c.feedback_id for c in corrections]}})  # fmt: skip
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    report = RetrainReport(
        corrections=len(corrections), weight=weight, base_version=base.version,
        new_version=new.version, examples=examples, heldout_split=split_name,
        heldout_before=heldout_before, heldout_after=heldout_after, guard_before=guard_before,
        guard_after=guard_after, accepted=accepted, model_dir=str(target),
    )  # fmt: skip
    with workspace.connect() as con:
        record_audit(
            con,
            kind="retrain",
            inputs={"target": SENTIMENT_TARGET, "corrections": len(corrections)},
            sources=[f"feedback:{c.feedback_id}" for c in corrections],
            output=report.to_dict(),
            model_version=new.version,
        )
    return report


def last_retrain(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The latest retrain report recorded in the audit table, or None."""
    row = con.execute(
        "SELECT output FROM audit WHERE kind = 'retrain' ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    return json.loads(row[0]) if row else None
