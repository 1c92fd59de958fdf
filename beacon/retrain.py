"""``beacon retrain``: learn from the corrections people gave in chat.

A staff member who reads "… e.g. "My order is late. Not happy" (fb-m000324)" in a
sentiment answer and replies "fb-m000324 is negative, not positive" leaves a
*sentiment correction* in the ``feedback`` table: ``target`` = ``sentiment``,
``post_id`` and ``label`` in their own columns, ``audience`` = ``staff``. Only the action
server writes those columns, from a staff turn (:func:`feedback_row`); what anyone
types is kept in ``text``/``correction`` and never read as a correction, so a customer
cannot steer the models however they shape a message. Retraining joins every corrected
post to the sentiment stacker's training rows
(:meth:`BeaconSentimentModel.learn_corrections`), reports accuracy before and after on
the corrected examples and on the held-out TweetEval split (when ../shared/data is
there), and saves the result to ``<home>/models/sentiment``, which
:func:`beacon.scoring.current_scorer` prefers over the committed model from then on.

*Engagement* is recalibrated, not retrained (:func:`retrain_engagement`). A staff member
who says "ig-000045 actually did badly" or "tw-000123 should have been a top post" leaves
``target`` = ``engagement`` with ``label`` ``top`` or ``not_top`` (the post's place
against its account's recent posts: in the top 30% or not, the model's own target).
Posts published after the model was trained are the other source: their real outcome
is in the workspace. Only the calibrator of the saved ensemble
(``<home>/models/engagement``) is refitted, on the model's stored calibration rows plus
those, and adopted only when calibration on the held-out rows does not get worse by
more than :data:`MAX_ECE_INCREASE` / :data:`MAX_BRIER_INCREASE`; the model version then
gains a ``+cal-…`` suffix.

A stored correction that can't be learned (a label outside its target's labels, not
from staff, a post no longer in the workspace, or written before schema v2, when
corrections were JSON in ``feedback.correction`` and who wrote them is unknown) is
skipped, counted by reason (:class:`Corrections`) and logged; it never stops a retrain.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from foundation.channel_metadata import STAFF, Audience
from foundation.exceptions import InputError
from foundation.settings import Settings
from foundation.workspace import BATCH_LOCK_WAIT_SECONDS, Workspace, record_audit, utc_now

logger = logging.getLogger(__name__)

#: ``feedback.target`` of a sentiment correction.
SENTIMENT_TARGET = "sentiment"
#: ``feedback.target`` of an engagement correction.
ENGAGEMENT_TARGET = "engagement"
#: The labels of an engagement correction: in its account's top 30% or not.
ENGAGEMENT_LABELS = ("top", "not_top")
#: Largest rise in held-out ECE / Brier score a recalibrated engagement model may show
#: and still replace the current one. Brier (a proper score) is the tight one; 15-bin ECE
#: on the ~140 held-out rows of a brand like the demo's moves by several points when
#: probabilities shift by one or two, so its allowance is wider.
MAX_ECE_INCREASE = 0.03
MAX_BRIER_INCREASE = 0.003
#: Largest drop in macro recall (on the stacker's own rows, and on held-out tweets when
#: they are there) a retrained model may show and still replace the current one.
MAX_REGRESSION = 0.02

#: Why a stored correction was not learned (the keys of :attr:`Corrections.skipped`),
#: in the words ``beacon retrain`` prints after a count.
SKIP_REASONS = {
    "label": "with an unknown label",
    "audience": "not from staff",
    "post": "about a post no longer in the workspace",
    "legacy": "stored before corrections had their own columns, so who wrote them is "
    "unknown (give them again in chat to have them learned)",
}


def sentiment_model_dir(settings: Settings) -> Path:
    """Where a retrained sentiment model lives (``<home>/models/sentiment``)."""
    return settings.home / "models" / "sentiment"


def correction_labels(target: str) -> tuple[str, ...]:
    """The labels a correction of ``target`` may carry.

    Raises:
        InputError: ``target`` is neither ``sentiment`` nor ``engagement``.
    """
    if target == SENTIMENT_TARGET:
        from analytics.sentiment import LABELS  # the model's own label set, not a copy

        return LABELS
    if target == ENGAGEMENT_TARGET:
        return ENGAGEMENT_LABELS
    raise InputError(
        f"a correction's target is {SENTIMENT_TARGET!r} or {ENGAGEMENT_TARGET!r}, got {target!r}"
    )


@dataclass(frozen=True)
class StructuredCorrection:
    """What a staff correction teaches: post ``post_id`` is ``label`` for ``target``.

    Build it with :func:`sentiment_correction` or :func:`engagement_correction`, which
    check the label.
    """

    target: str
    post_id: str
    label: str


def _checked(target: str, post_id: str, label: str) -> StructuredCorrection:
    labels = correction_labels(target)
    if label not in labels:
        raise InputError(
            f"a {target} correction's label is one of {', '.join(labels)}; got {label!r}"
        )
    return StructuredCorrection(target, post_id, label)


def sentiment_correction(post_id: str, label: str) -> StructuredCorrection:
    """ "Post ``post_id`` is ``label``" (negative, neutral or positive).

    Raises:
        InputError: ``label`` is not a sentiment label.
    """
    return _checked(SENTIMENT_TARGET, post_id, label)


def engagement_correction(post_id: str, label: str) -> StructuredCorrection:
    """ "Post ``post_id`` was (``top``) or was not (``not_top``) a top post".

    Raises:
        InputError: ``label`` is not ``top`` or ``not_top``.
    """
    return _checked(ENGAGEMENT_TARGET, post_id, label)


def feedback_row(
    *,
    feedback_id: str,
    conversation_id: str | None,
    audit_id: str | None,
    verdict: str,
    text: str,
    audience: Audience,
    correction: StructuredCorrection | None = None,
    created_at: datetime | None = None,
) -> list[Any]:
    """One ``feedback`` row in the table's column order (for ``Workspace.keep``).

    The user's words go in ``text`` (and in ``correction`` when the verdict is a
    correction) and are never parsed again; only ``correction`` fills the structured
    columns the models learn from.

    Raises:
        ValueError: A structured correction from someone who is not staff (a bug in
            the caller: customers never teach the models).
    """
    if correction is not None and audience != STAFF:
        raise ValueError(f"only staff corrections teach the models, got one from {audience!r}")
    return [
        feedback_id,
        created_at or utc_now(),
        conversation_id,
        audit_id,
        verdict,
        text if verdict == "correction" else None,
        text,
        audience,
        correction.target if correction else None,
        correction.post_id if correction else None,
        correction.label if correction else None,
    ]


@dataclass(frozen=True)
class Correction:
    """One post's corrected label for a target (the latest correction of a post wins)."""

    post_id: str
    label: str
    text: str
    feedback_id: str


@dataclass(frozen=True)
class Corrections:
    """The learnable corrections of one target, and how many stored ones were not.

    Attributes:
        target: ``sentiment`` or ``engagement``.
        learned: The latest valid staff correction of each post, oldest first.
        skipped: Corrections left out, by reason (keys of :data:`SKIP_REASONS`).
    """

    target: str
    learned: tuple[Correction, ...]
    skipped: dict[str, int] = field(default_factory=dict)

    def skipped_text(self) -> str:
        """ "sentiment: 1 with an unknown label, 1 not from staff" ("" when none was skipped)."""
        reasons = ", ".join(f"{n} {SKIP_REASONS[why]}" for why, n in self.skipped.items())
        return f"{self.target}: {reasons}" if reasons else ""


def sentiment_corrections(con: duckdb.DuckDBPyConnection) -> list[Correction]:
    """Every post whose sentiment staff corrected, with its text, oldest first."""
    return list(read_corrections(con, SENTIMENT_TARGET).learned)


def engagement_corrections(con: duckdb.DuckDBPyConnection) -> list[Correction]:
    """Every post whose engagement outcome staff corrected (latest per post), oldest first."""
    return list(read_corrections(con, ENGAGEMENT_TARGET).learned)


def read_corrections(con: duckdb.DuckDBPyConnection, target: str) -> Corrections:
    """The structured staff corrections of ``target`` that can be learned, and the rest counted.

    A workspace not yet migrated to schema v2 (only read so far, never opened for
    writing by this version) has no structured corrections, only legacy ones.
    """
    labels = correction_labels(target)
    structured = _has_structured_columns(con)
    skipped: Counter[str] = Counter()
    legacy = _legacy_corrections(con, target, structured)
    if legacy:
        skipped["legacy"] = legacy
    if not structured:
        return Corrections(target, (), dict(skipped))
    rows = con.execute(
        """
        SELECT f.feedback_id, f.audience, f.post_id, f.label, p.text FROM feedback f
        LEFT JOIN posts p ON p.post_id = f.post_id
        WHERE f.verdict = 'correction' AND f.target = ?
        ORDER BY f.created_at, f.feedback_id
        """,
        [target],
    ).fetchall()
    latest: dict[str, Correction] = {}
    for feedback_id, audience, post_id, label, text in rows:
        why = (
            "audience"
            if audience != STAFF
            else "label"
            if label not in labels
            else "post"
            if text is None
            else None
        )
        if why:
            skipped[why] += 1
            continue
        latest.pop(post_id, None)  # keep the order of the newest correction
        latest[post_id] = Correction(post_id, label, text, feedback_id)
    return Corrections(target, tuple(latest.values()), dict(skipped))


def _has_structured_columns(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'feedback' "
        "AND column_name = 'target'"
    ).fetchone()
    return bool(row and row[0])


def _legacy_corrections(con: duckdb.DuckDBPyConnection, target: str, structured: bool) -> int:
    """Schema v1 corrections of ``target`` (JSON in ``correction``); never learned.

    Their author was not recorded, and a customer's message shaped like one was stored
    the same way, so none can be trusted.
    """
    audience_unknown = "audience IS NULL AND " if structured else ""
    row = con.execute(
        f"""
        SELECT count(*) FROM feedback
        WHERE {audience_unknown}verdict = 'correction'
          AND CASE WHEN json_valid(correction)
                   THEN json_extract_string(correction, '$.target') END = ?
        """,
        [target],
    ).fetchone()
    return int(row[0]) if row else 0


def skipped_line(found: list[Corrections]) -> str:
    """One line on the stored corrections left out, for people ("" when none was).

    E.g. "Skipped 2 stored correction(s) — sentiment: 1 with an unknown label, 1 not
    from staff."
    """
    parts = [c.skipped_text() for c in found if c.skipped]
    if not parts:
        return ""
    total = sum(sum(c.skipped.values()) for c in found)
    return f"Skipped {total} stored correction(s) — {'; '.join(parts)}."


def log_skipped(corrections: Corrections) -> None:
    """Log the corrections a retrain leaves out (none: nothing)."""
    if corrections.skipped:
        logger.warning("retrain skips stored corrections: %s", corrections.skipped_text())


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
    with workspace.connect(read_only=True) as con:
        found = read_corrections(con, SENTIMENT_TARGET)
    log_skipped(found)
    corrections = list(found.learned)
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
        new.save(
            staging,
            {
                "retrained_from": base.version,
                "corrections": {
                    "count": len(corrections),
                    "weight": weight,
                    "feedback_ids": [c.feedback_id for c in corrections],
                },
            },
        )
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    report = RetrainReport(
        corrections=len(corrections),
        weight=weight,
        base_version=base.version,
        new_version=new.version,
        examples=examples,
        heldout_split=split_name,
        heldout_before=heldout_before,
        heldout_after=heldout_after,
        guard_before=guard_before,
        guard_after=guard_after,
        accepted=accepted,
        model_dir=str(target),
    )
    with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
        record_audit(
            con,
            kind="retrain",
            inputs={
                "target": SENTIMENT_TARGET,
                "corrections": len(corrections),
                "skipped": found.skipped,
            },
            sources=[f"feedback:{c.feedback_id}" for c in corrections],
            output=report.to_dict(),
            model_version=new.version,
        )
    return report


def last_retrain(
    con: duckdb.DuckDBPyConnection, target: str = SENTIMENT_TARGET
) -> dict[str, Any] | None:
    """The latest retrain report for ``target`` recorded in the audit table, or None."""
    row = con.execute(
        "SELECT output FROM audit WHERE kind = 'retrain' "
        "AND json_extract_string(inputs, '$.target') = ? ORDER BY created_at DESC LIMIT 1",
        [target],
    ).fetchone()
    return json.loads(row[0]) if row else None


@dataclass(frozen=True)
class EngagementExample:
    """The calibrated probability of a top-30% post for one corrected post, before and after."""

    post_id: str
    text: str
    corrected_to: str
    before: float
    after: float

    @property
    def moved_right(self) -> bool:
        """Whether the probability moved toward the corrected outcome."""
        return self.after > self.before if self.corrected_to == "top" else self.after < self.before


@dataclass(frozen=True)
class EngagementRetrainReport:
    """The outcome of :func:`retrain_engagement`.

    Attributes:
        corrections: Corrected posts used (own posts the model can score).
        correction_weight: Weight each correction got against one ordinary calibration row.
        outcome_rows: Posts published after training whose outcome is now known.
        fit_rows: Stored calibration rows (the stacker's out-of-fold scores) in the refit.
            A quarter of them is held out for ``before``/``after``: both are calibrators
            fitted on the other three quarters, without and with the new rows
            (:func:`analytics.engagement.recalibrate`).
        skipped: Corrected post ids left out (not one of the brand's own posts any more).
        base_version: The model recalibrated.
        new_version: The recalibrated model's version.
        examples: Before/after on each corrected post.
        before: Calibration on the held-out evaluation rows before (ece, brier, log_loss,
            roc_auc, rows).
        after: The same after.
        accepted: Whether the new calibrator now answers; refused when held-out ECE rose
            by more than :data:`MAX_ECE_INCREASE` or Brier by more than
            :data:`MAX_BRIER_INCREASE`.
        changed: Whether the adopted calibrator differs from the one already in use.
        model_dir: The engagement model folder.
    """

    corrections: int
    correction_weight: float
    outcome_rows: int
    fit_rows: int
    skipped: tuple[str, ...]
    base_version: str
    new_version: str
    examples: tuple[EngagementExample, ...]
    before: dict[str, float]
    after: dict[str, float]
    accepted: bool
    changed: bool
    model_dir: str

    @property
    def moved_right(self) -> int:
        """Corrected posts whose probability moved toward the correction."""
        return sum(e.moved_right for e in self.examples)

    def refusal(self) -> str:
        """Why the recalibration was not adopted ("" when it was)."""
        if self.accepted:
            return ""
        return (
            f"held-out calibration got worse (ECE {self.before['ece']:.3f} → "
            f"{self.after['ece']:.3f}, allowed +{MAX_ECE_INCREASE:.3f}; Brier "
            f"{self.before['brier']:.4f} → {self.after['brier']:.4f}, allowed "
            f"+{MAX_BRIER_INCREASE:.3f})"
        )

    def text(self) -> str:
        """A plain summary for people."""
        lines = [
            f"Recalibrated the engagement model on its {self.fit_rows} out-of-fold training "
            f"rows, {self.outcome_rows} post(s) published since training and "
            f"{self.corrections} correction(s) (each weighted as {self.correction_weight:g} "
            "posts)."
        ]
        for e in self.examples:
            lines.append(
                f"- {e.post_id} (corrected to {e.corrected_to.replace('_', ' ')}): chance of a "
                f"top-30% post {e.before:.0%} → {e.after:.0%}"
            )
        if self.skipped:
            lines.append(f"Left out (not one of our own posts): {', '.join(self.skipped)}.")
        b, a = self.before, self.after
        lines.append(
            f"Check on {int(b['rows'])} held-out rows, calibrated without → with the new "
            f"rows: ECE {b['ece']:.3f} → {a['ece']:.3f}, Brier "
            f"{b['brier']:.4f} → {a['brier']:.4f}, log loss {b['log_loss']:.3f} → "
            f"{a['log_loss']:.3f}, AUC {b['roc_auc']:.3f} → {a['roc_auc']:.3f}."
        )
        if not self.accepted:
            lines.append(
                f"Not adopted: {self.refusal()}. {self.base_version} keeps answering; check "
                "the corrections (a wrong correction is often the cause)."
            )
        elif self.changed:
            lines.append(
                f"Model {self.base_version} → {self.new_version}, saved in {self.model_dir}."
            )
        else:
            lines.append(f"Nothing new: {self.new_version} already answers with this calibration.")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["moved_right"] = self.moved_right
        return data


def _own_rows(con: duckdb.DuckDBPyConnection) -> Any:
    """The brand's own posts with context and label (:func:`add_context`), keyed by account@platform."""
    from analytics.engagement import add_context, keyed_posts

    return add_context(keyed_posts(con))


def retrain_engagement(
    settings: Settings, *, model_dir: Path | None = None, cache_dir: Path | None = None
) -> EngagementRetrainReport:
    """Refit the saved engagement model's calibrator on corrections and new outcomes.

    Args:
        settings: Beacon settings (workspace and home).
        model_dir: The engagement model folder (default ``settings.engagement_model_dir``).
        cache_dir: Its embedding cache (default ``settings.engagement_cache_dir``).

    Returns:
        The report; the new calibrator is saved (and the version changes) only when
        ``report.accepted`` and it differs from the current one.

    Raises:
        ConfigError: There is no trained engagement model.
        InputError: Nothing to learn from, or the model predates recalibration.
    """
    import pandas as pd

    from analytics.engagement import EngagementModel, recalibrate
    from analytics.exceptions import AnalysisInputError, ModelLoadError
    from foundation.exceptions import ConfigError

    folder = model_dir or settings.engagement_model_dir
    try:
        model = EngagementModel.load(folder, cache_dir=cache_dir or settings.engagement_cache_dir)
    except ModelLoadError as error:
        raise ConfigError(
            f"{error}; run `beacon engagement train` (or `beacon demo`) first"
        ) from None
    workspace = Workspace(settings.workspace_path)
    with workspace.connect(read_only=True) as con:
        found = read_corrections(con, ENGAGEMENT_TARGET)
        rows = _own_rows(con)
    log_skipped(found)
    corrections = list(found.learned)
    by_id = {str(pid): i for i, pid in enumerate(rows["post_id"])}
    usable = [c for c in corrections if c.post_id in by_id]
    skipped = tuple(c.post_id for c in corrections if c.post_id not in by_id)
    corrected = {c.post_id for c in usable}
    until = model.trained_until()
    after_training = pd.Series(
        [
            account in until and stamp > pd.Timestamp(until[account], unit="s")
            for account, stamp in zip(rows["account"], rows["posted_at"], strict=True)
        ],
        index=rows.index,
    )
    fresh = rows[after_training & rows["label"].notna() & ~rows["post_id"].isin(corrected)]
    picked = rows.iloc[[by_id[c.post_id] for c in usable]]
    both = pd.concat([fresh, picked], ignore_index=True)
    raw = model.raw_scores(model.features(both)) if len(both) else np.zeros(0)
    fresh_raw, picked_raw = raw[: len(fresh)], raw[len(fresh) :]
    wanted = np.array([float(c.label == "top") for c in usable])
    try:
        result = recalibrate(
            model, fresh_raw, fresh["label"].to_numpy(dtype=float), picked_raw, wanted
        )
    except AnalysisInputError as error:
        hint = (
            " In chat, tell Beacon e.g. 'ig-000045 actually did badly' or 'tw-000123 should "
            "have been a top post'."
            if not usable
            else ""
        )
        raise InputError(f"{error}.{hint}") from None
    new = result.model
    before_p = model.calibrator_.transform(picked_raw)
    after_p = new.calibrator_.transform(picked_raw)
    examples = tuple(
        EngagementExample(c.post_id, c.text, c.label, float(b), float(a))
        for c, b, a in zip(usable, before_p, after_p, strict=True)
    )
    accepted = (
        result.after.ece <= result.before.ece + MAX_ECE_INCREASE
        and result.after.brier <= result.before.brier + MAX_BRIER_INCREASE
    )
    changed = accepted and new.version != model.version
    if changed:
        _swap_in(folder, new)
    report = EngagementRetrainReport(
        corrections=len(usable),
        correction_weight=result.correction_weight,
        outcome_rows=result.outcome_rows,
        fit_rows=result.fit_rows,
        skipped=skipped,
        base_version=model.version,
        new_version=new.version,
        examples=examples,
        before=result.before.to_dict(),
        after=result.after.to_dict(),
        accepted=accepted,
        changed=changed,
        model_dir=str(folder),
    )
    with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
        record_audit(
            con,
            kind="retrain",
            inputs={
                "target": ENGAGEMENT_TARGET,
                "corrections": len(usable),
                "outcome_rows": result.outcome_rows,
                "skipped": found.skipped,
            },
            sources=[f"feedback:{c.feedback_id}" for c in usable],
            output=report.to_dict(),
            model_version=new.version if accepted else model.version,
        )
    return report


def _swap_in(folder: Path, model: Any) -> None:
    """Replace ``folder`` with a copy holding ``model``'s new calibrator (members untouched)."""
    staging = folder.with_name(folder.name + ".new")
    old = folder.with_name(folder.name + ".old")
    for path in (staging, old):
        shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(folder, staging)
    model.save_ensemble(staging)
    folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
