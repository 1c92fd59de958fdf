"""Refitting only the calibrator of a trained ensemble (members and stacker stay as they are).

The saved model keeps the stacker's out-of-fold scores and labels from training
(``calibration_scores_`` / ``calibration_labels_``). The new calibrator is fitted on all
of them plus the extra rows: posts whose real outcome arrived after training (weight 1,
like any calibration row) and staff corrections (weighted up, see
:func:`correction_weight`).

A model trained without a calibrator (``calibration="none"``, the default) answers with
its members' own probability scale. Its stored rows then stand for that choice: each
one's target is its own score, so on them alone a Platt fit is the identity, and the
outcomes and corrections pull the Platt map away from it in proportion to their weight.
(Their real labels would pull it towards the out-of-fold members' flatter scale, which
is what training chose not to learn.)

The check is honest about what the extra rows do: every fourth stored row is held out,
and two calibrators are fitted on the other three quarters, one without the extra rows
(*before*, what the current calibrator amounts to) and one with them (*after*); both are
scored on the held-out quarter, which neither saw. (Scoring the current calibrator on
rows it was fitted on would flatter it.) The calibration method (Platt or isotonic)
stays the one the model was trained with, so the map stays monotone and the ranking
(AUC) does not change, except for ties an isotonic step can create.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from analytics.engagement._combine import EPS, Calibrator
from analytics.engagement._metrics import expected_calibration_error
from analytics.engagement._model import EngagementModel
from analytics.exceptions import AnalysisInputError

#: Every ``EVAL_EVERY``-th stored calibration row is held out for the before/after check.
EVAL_EVERY = 4
#: A correction counts as this many ordinary calibration rows: enough that one correction
#: moves the answer on the post it corrects, little enough that held-out calibration does
#: not get worse (both checked on the demo brand by
#: ``tests/actions/test_retrain_engagement.py``) ...
CORRECTION_WEIGHT = 5.0
#: ... but all corrections together at most this share of the refit's total weight.
MAX_CORRECTION_SHARE = 0.1


@dataclass(frozen=True)
class CalibrationCheck:
    """Calibration quality on the evaluation rows."""

    rows: int
    ece: float
    brier: float
    log_loss: float
    roc_auc: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def calibration_check(y: np.ndarray, p: np.ndarray) -> CalibrationCheck:
    """ECE (:func:`expected_calibration_error`), Brier score, log loss and AUC of
    probabilities ``p`` for labels ``y``."""
    from sklearn.metrics import roc_auc_score

    y, p = np.asarray(y, dtype=float), np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")
    return CalibrationCheck(
        rows=len(y),
        ece=expected_calibration_error(y, p),
        brier=float(np.mean((p - y) ** 2)),
        log_loss=float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
        roc_auc=auc,
    )


def correction_weight(n_rows: float, n_corrections: int) -> float:
    """Weight of each correction: :data:`CORRECTION_WEIGHT`, capped so that all corrections
    together carry at most :data:`MAX_CORRECTION_SHARE` of the refit's weight.

    A correction is a person's considered verdict on one post, worth more than one more
    observed outcome, but a handful of them must not override hundreds of outcomes.
    """
    if n_corrections == 0:
        return 0.0
    cap = MAX_CORRECTION_SHARE / (1 - MAX_CORRECTION_SHARE) * n_rows / n_corrections
    return float(min(CORRECTION_WEIGHT, cap))


def calibrator_id(calibrator: Calibrator) -> str:
    """A short content hash of a fitted calibrator (same fit → same id)."""
    parts = [calibrator.method_, f"{calibrator.a_:.8g}", f"{calibrator.b_:.8g}"]
    parts += [f"{v:.8g}" for v in np.concatenate([calibrator.x_, calibrator.y_])]
    return "cal-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Recalibration:
    """A refitted calibrator and how it compares with the current one.

    Attributes:
        model: The model answering through the new calibrator (members unchanged).
        before: Calibration without the extra rows, on the held-out quarter.
        after: Calibration with them, on the same rows.
        fit_rows: Stored calibration rows the new calibrator was fitted on (all).
        eval_rows: Stored rows held out for the check.
        outcome_rows: Rows with an outcome observed after training.
        corrections: Corrected posts.
        correction_weight: Weight each correction got.
    """

    model: EngagementModel
    before: CalibrationCheck
    after: CalibrationCheck
    fit_rows: int
    eval_rows: int
    outcome_rows: int
    corrections: int
    correction_weight: float

    def info(self) -> dict[str, Any]:
        """What is saved with the model (``model.json``'s ``recalibration``)."""
        return dict(self.model.recalibration_ or {})


def recalibrate(
    model: EngagementModel,
    outcome_scores: np.ndarray,
    outcome_labels: np.ndarray,
    correction_scores: np.ndarray,
    correction_labels: np.ndarray,
) -> Recalibration:
    """Refit ``model``'s calibrator on its stored rows plus new outcomes and corrections.

    Args:
        model: A fitted model that kept its calibration rows (trained by this version).
        outcome_scores: Raw stacker scores (:meth:`EngagementModel.raw_scores`) of posts
            whose outcome was observed after training, shape (n,).
        outcome_labels: Their 0/1 top-30% labels, shape (n,).
        correction_scores: Raw stacker scores of corrected posts, shape (m,).
        correction_labels: The corrected 0/1 labels, shape (m,).

    Returns:
        The refitted model and before/after on the evaluation rows. Deterministic: the
        same inputs give the same calibrator and the same id.

    Raises:
        AnalysisInputError: The model has no stored calibration rows (trained before they
            were kept) or there is nothing new to learn from.
    """
    stored = getattr(model, "calibration_scores_", None)
    labels = getattr(model, "calibration_labels_", None)
    if stored is None or labels is None or len(stored) < 2 * EVAL_EVERY:
        raise AnalysisInputError(
            "this engagement model did not keep its calibration rows (it predates "
            "recalibration); retrain it once with `beacon engagement train`, then recalibrate"
        )
    if len(outcome_scores) + len(correction_scores) == 0:
        raise AnalysisInputError(
            "nothing to recalibrate from: no engagement corrections and no posts published "
            "since the engagement model was trained"
        )
    stored, labels = np.asarray(stored, dtype=float), np.asarray(labels, dtype=float)
    extra_scores = np.concatenate([outcome_scores, correction_scores]).astype(float)
    extra_labels = np.concatenate([outcome_labels, correction_labels]).astype(float)
    if model.calibration == "none":
        targets, method = np.clip(stored, EPS, 1 - EPS), "platt"
    else:
        targets, method = labels, model.calibrator_.method_

    def fit(scores: np.ndarray, y: np.ndarray) -> tuple[Calibrator, float]:
        n_plain = len(scores) + len(outcome_scores)
        weight = correction_weight(n_plain, len(correction_scores))
        weights = np.concatenate([np.ones(n_plain), np.full(len(correction_scores), weight)])
        x_all, y_all = np.concatenate([scores, extra_scores]), np.concatenate([y, extra_labels])
        if len(np.unique(y_all)) < 2:
            raise AnalysisInputError("every calibration row has the same label; nothing to fit")
        return Calibrator(method).fit(x_all, y_all, weights), weight

    held = np.arange(len(stored)) % EVAL_EVERY == EVAL_EVERY - 1
    reference = Calibrator(method).fit(stored[~held], targets[~held])
    candidate, _ = fit(stored[~held], targets[~held])
    calibrator, weight = fit(stored, targets)
    info = {
        "id": calibrator_id(calibrator),
        "method": calibrator.method_,
        "fit_rows": len(stored),
        "outcome_rows": len(outcome_scores),
        "corrections": len(correction_scores),
        "correction_weight": weight,
    }
    eval_scores, eval_labels = stored[held], labels[held]
    return Recalibration(
        model=model.with_calibrator(calibrator, info),
        before=calibration_check(eval_labels, reference.transform(eval_scores)),
        after=calibration_check(eval_labels, candidate.transform(eval_scores)),
        fit_rows=len(stored),
        eval_rows=int(held.sum()),
        outcome_rows=len(outcome_scores),
        corrections=len(correction_scores),
        correction_weight=weight,
    )
