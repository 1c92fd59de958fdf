"""Uplift modelling: who responds *because of* the treatment.

Learners (scikit-learn estimators; ``fit(X, treatment, y)``, ``predict(X)`` → uplift):

- :class:`TLearner` — one LightGBM model per arm, uplift = m₁(x) − m₀(x).
- :class:`XLearner` — Künzel et al. (2019): imputed individual effects from the
  T-learner's cross-arm predictions, a second-stage LightGBM regressor per arm, blended
  by the propensity score.
- :class:`ClassTransformationLearner` — Jaskowski & Jaroszewicz (2012): one logistic
  regression on ``Z = Y·T + (1−Y)(1−T)`` with arms reweighted to equal size;
  uplift = 2·P(Z=1|x) − 1. The simple baseline.

Evaluation: Qini and uplift (AUUC) curves on held-out folds, observed uplift by
segment, and a ranking of whom to target next with expected incremental conversions.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from analytics.exceptions import AnalysisInputError, NotFittedError
from analytics.experiments import _core

FloatArray = NDArray[np.float64]


def _arrays(
    X: Any, treatment: ArrayLike, y: ArrayLike
) -> tuple[FloatArray, NDArray[np.bool_], FloatArray]:
    Xa = np.asarray(X, dtype=np.float64)
    t = np.asarray(treatment)
    ya = np.asarray(y, dtype=np.float64)
    if Xa.ndim != 2:
        raise AnalysisInputError(
            f"X must be 2-D of shape (n_samples, n_features) (got shape {Xa.shape})"
        )
    if not (len(Xa) == len(t) == len(ya)):
        raise AnalysisInputError(
            f"X, treatment and y must have the same length (got {len(Xa)}, {len(t)}, {len(ya)})"
        )
    values = set(np.unique(t).tolist())
    if not values <= {0, 1}:
        raise AnalysisInputError(f"treatment must be 0/1 (got values {sorted(values)[:5]})")
    tb = t.astype(bool)
    if tb.all() or not tb.any():
        raise AnalysisInputError("treatment must contain both treated (1) and control (0) units")
    if np.isnan(ya).any():
        raise AnalysisInputError("y has missing values; drop or fill them before fitting")
    return Xa, tb, ya


def _is_binary(y: FloatArray) -> bool:
    return bool(np.all((y == 0.0) | (y == 1.0)))


def _check_fitted(estimator: BaseEstimator, attribute: str) -> None:
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' first."
        )


class _LgbmLearner(BaseEstimator, metaclass=ABCMeta):
    """Base of the LightGBM learners: their shared hyper-parameters (documented on each
    learner), ``fit``'s input checks and the LightGBM model factory."""

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 200,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, treatment: ArrayLike, y: ArrayLike) -> Self:
        """Fit the learner's models.

        Args:
            X: Features, array-like of shape (n_samples, n_features).
            treatment: 0/1 array of shape (n_samples,).
            y: Outcome of shape (n_samples,), 0/1 or continuous.

        Returns:
            self.
        """
        self._fit(*_arrays(X, treatment, y))
        return self

    @abstractmethod
    def _fit(self, X: FloatArray, t: NDArray[np.bool_], y: FloatArray) -> None:
        """Fit on checked arrays: features, treated mask and outcome."""

    def _lgbm(self, classifier: bool) -> Any:
        import lightgbm

        params: dict[str, Any] = dict(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            verbose=-1,
        )
        return lightgbm.LGBMClassifier(**params) if classifier else lightgbm.LGBMRegressor(**params)

    @staticmethod
    def _response(model: Any, X: FloatArray, classifier: bool) -> FloatArray:
        if classifier:
            return np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)
        return np.asarray(model.predict(X), dtype=np.float64)


class TLearner(_LgbmLearner):
    """Two-model uplift learner with LightGBM.

    Args:
        n_estimators: Boosting rounds per model.
        learning_rate: Shrinkage.
        num_leaves: Leaves per tree.
        min_child_samples: Minimum units per leaf (keeps rare-conversion models smooth).
        random_state: Seed.
        n_jobs: LightGBM threads.

    Attributes:
        model_control_: Outcome model fitted on control units.
        model_treated_: Outcome model fitted on treated units.
        binary_: Whether the outcome is 0/1 (classifiers) or continuous (regressors).
    """

    def _fit(self, X: FloatArray, t: NDArray[np.bool_], y: FloatArray) -> None:
        """Fit one outcome model per arm."""
        self.binary_ = _is_binary(y)
        self.model_control_ = self._lgbm(self.binary_).fit(X[~t], y[~t])
        self.model_treated_ = self._lgbm(self.binary_).fit(X[t], y[t])

    def predict_outcomes(self, X: Any) -> tuple[FloatArray, FloatArray]:
        """Predicted outcome without and with treatment, each of shape (n_samples,)."""
        _check_fitted(self, "model_treated_")
        Xa = np.asarray(X, dtype=np.float64)
        return (
            self._response(self.model_control_, Xa, self.binary_),
            self._response(self.model_treated_, Xa, self.binary_),
        )

    def predict(self, X: Any) -> FloatArray:
        """Predicted uplift of shape (n_samples,) (outcome units per unit treated)."""
        m0, m1 = self.predict_outcomes(X)
        return m1 - m0


class XLearner(_LgbmLearner):
    """X-learner (Künzel et al., 2019) with LightGBM at both stages.

    Args:
        n_estimators: Boosting rounds per model.
        learning_rate: Shrinkage.
        num_leaves: Leaves per tree.
        min_child_samples: Minimum units per leaf.
        propensity: Share of treated units used to blend the two effect models;
            None uses the share seen in ``fit`` (right for a randomised test).
        random_state: Seed.
        n_jobs: LightGBM threads.

    Attributes:
        t_learner_: The first-stage outcome models.
        tau_control_: Effect model fitted on control units' imputed effects.
        tau_treated_: Effect model fitted on treated units' imputed effects.
        propensity_: Treated share used for blending.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 200,
        propensity: float | None = None,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(
            n_estimators, learning_rate, num_leaves, min_child_samples, random_state, n_jobs
        )
        self.propensity = propensity

    def _fit(self, X: FloatArray, t: NDArray[np.bool_], y: FloatArray) -> None:
        """Fit both stages."""
        first = TLearner(
            self.n_estimators,
            self.learning_rate,
            self.num_leaves,
            self.min_child_samples,
            self.random_state,
            self.n_jobs,
        ).fit(X, t, y)
        m0_treated, _ = first.predict_outcomes(X[t])
        _, m1_control = first.predict_outcomes(X[~t])
        d_treated = y[t] - m0_treated
        d_control = m1_control - y[~t]
        self.t_learner_ = first
        self.tau_treated_ = self._lgbm(False).fit(X[t], d_treated)
        self.tau_control_ = self._lgbm(False).fit(X[~t], d_control)
        self.propensity_ = float(t.mean()) if self.propensity is None else float(self.propensity)

    def predict(self, X: Any) -> FloatArray:
        """Predicted uplift of shape (n_samples,)."""
        _check_fitted(self, "tau_treated_")
        Xa = np.asarray(X, dtype=np.float64)
        g = self.propensity_
        return g * np.asarray(self.tau_control_.predict(Xa)) + (1.0 - g) * np.asarray(
            self.tau_treated_.predict(Xa)
        )


class ClassTransformationLearner(BaseEstimator):
    """Class-transformation baseline with a logistic regression (binary outcomes only).

    Args:
        C: Inverse regularisation strength of the logistic regression.
        random_state: Seed.

    Attributes:
        model_: Fitted scaler + logistic regression pipeline on ``Z``.
    """

    def __init__(self, C: float = 1.0, random_state: int | None = 0) -> None:
        self.C = C
        self.random_state = random_state

    def fit(self, X: Any, treatment: ArrayLike, y: ArrayLike) -> ClassTransformationLearner:
        """Fit the classifier of the transformed class.

        Args:
            X: Features, array-like of shape (n_samples, n_features).
            treatment: 0/1 array of shape (n_samples,).
            y: 0/1 outcome of shape (n_samples,).

        Returns:
            self.

        Raises:
            AnalysisInputError: The outcome is not 0/1.
        """
        Xa, t, ya = _arrays(X, treatment, y)
        if not _is_binary(ya):
            raise AnalysisInputError(
                "the class-transformation learner needs a 0/1 outcome (got other values); "
                "use TLearner or XLearner for continuous outcomes"
            )
        z = (ya == 1.0) == t
        share = t.mean()
        weight = np.where(t, 0.5 / share, 0.5 / (1.0 - share))
        self.model_ = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=self.C, max_iter=1000, random_state=self.random_state),
        )
        self.model_.fit(Xa, z.astype(int), logisticregression__sample_weight=weight)
        return self

    def predict(self, X: Any) -> FloatArray:
        """Predicted uplift of shape (n_samples,)."""
        _check_fitted(self, "model_")
        p = self.model_.predict_proba(np.asarray(X, dtype=np.float64))[:, 1]
        return np.asarray(2.0 * p - 1.0, dtype=np.float64)


# ----------------------------------------------------------------------------- curves


@dataclass(frozen=True)
class UpliftCurve:
    """A Qini or uplift curve.

    Attributes:
        fraction: Share of the population targeted, shape (n_points,), from 0 to 1.
        gain: Incremental outcome per unit of the whole population when targeting
            that share (best predicted uplift first), shape (n_points,).
    """

    fraction: FloatArray
    gain: FloatArray

    @property
    def area_over_random(self) -> float:
        """Area between the curve and the straight line of random targeting."""
        random = self.fraction * self.gain[-1]
        return float(np.trapezoid(self.gain - random, self.fraction))


def _cumulative(
    y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float]:
    ya = np.asarray(y, dtype=np.float64)
    t = np.asarray(treatment).astype(bool)
    u = np.asarray(uplift, dtype=np.float64)
    order = np.argsort(-u, kind="stable")
    ya, t, u = ya[order], t[order], u[order]
    n_t = np.cumsum(t).astype(float)
    n_c = np.cumsum(~t).astype(float)
    y_t = np.cumsum(ya * t)
    y_c = np.cumsum(ya * ~t)
    # Evaluate only at the end of each run of tied scores, so ties are not ordered arbitrarily.
    last = np.r_[u[1:] != u[:-1], True]
    return (
        n_t[last].astype(np.float64),
        n_c[last].astype(np.float64),
        y_t[last].astype(np.float64),
        y_c[last].astype(np.float64),
        float(len(ya)),
    )


def qini_curve(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> UpliftCurve:
    """Qini curve: ``Y_t(k) − Y_c(k)·N_t(k)/N_c(k)`` per unit of the population.

    Args:
        y: Outcomes, shape (n_samples,).
        treatment: 0/1, shape (n_samples,).
        uplift: Predicted uplift, shape (n_samples,).
    """
    n_t, n_c, y_t, y_c, n = _cumulative(y, treatment, uplift)
    gain = y_t - _core._safe_div(y_c * n_t, n_c)
    gain = np.where(n_c > 0, gain, 0.0)
    fraction = (n_t + n_c) / n
    return UpliftCurve(np.r_[0.0, fraction], np.r_[0.0, gain / n])


def uplift_curve(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> UpliftCurve:
    """Uplift curve: ``(Y_t/N_t − Y_c/N_c)·(N_t + N_c)`` per unit of the population."""
    n_t, n_c, y_t, y_c, n = _cumulative(y, treatment, uplift)
    rate = _core._safe_div(y_t, n_t) - _core._safe_div(y_c, n_c)
    gain = np.where((n_t > 0) & (n_c > 0), rate * (n_t + n_c), 0.0)
    fraction = (n_t + n_c) / n
    return UpliftCurve(np.r_[0.0, fraction], np.r_[0.0, gain / n])


def qini_coefficient(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> float:
    """Area between the Qini curve and random targeting (0 = no better than random)."""
    return qini_curve(y, treatment, uplift).area_over_random


def auuc_score(y: ArrayLike, treatment: ArrayLike, uplift: ArrayLike) -> float:
    """Area between the uplift curve and random targeting (AUUC over random)."""
    return uplift_curve(y, treatment, uplift).area_over_random


# ----------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class UpliftEvaluation:
    """Held-out (cross-fitted) evaluation of one uplift learner.

    Attributes:
        learner: Learner name.
        qini: Qini coefficient on each held-out fold.
        auuc: AUUC over random on each held-out fold.
        oof_uplift: Out-of-fold predicted uplift, shape (n_samples,).
    """

    learner: str
    qini: tuple[float, ...]
    auuc: tuple[float, ...]
    oof_uplift: FloatArray

    @property
    def qini_mean(self) -> float:
        """Mean Qini coefficient over folds."""
        return float(np.mean(self.qini))

    @property
    def auuc_mean(self) -> float:
        """Mean AUUC over folds."""
        return float(np.mean(self.auuc))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the per-unit predictions)."""
        return {
            "learner": self.learner,
            "qini": list(self.qini),
            "qini_mean": self.qini_mean,
            "qini_sd": float(np.std(self.qini, ddof=1)) if len(self.qini) > 1 else None,
            "auuc": list(self.auuc),
            "auuc_mean": self.auuc_mean,
            "auuc_sd": float(np.std(self.auuc, ddof=1)) if len(self.auuc) > 1 else None,
        }


def evaluate_uplift(
    make_learner: Callable[[], Any],
    X: Any,
    treatment: ArrayLike,
    y: ArrayLike,
    *,
    n_splits: int = 5,
    random_state: int = 0,
    name: str | None = None,
) -> UpliftEvaluation:
    """Cross-fitted Qini and AUUC: fit on k−1 folds, score the held-out fold.

    Folds are stratified on treatment × outcome (outcome > 0) so every fold has both arms.

    Args:
        make_learner: Returns a fresh unfitted learner.
        X: Features, shape (n_samples, n_features).
        treatment: 0/1, shape (n_samples,).
        y: Outcome, shape (n_samples,).
        n_splits: Number of folds.
        random_state: Seed of the fold split.
        name: Learner name for the result (default the class name).
    """
    Xa, t, ya = _arrays(X, treatment, y)
    strata = 2 * t.astype(int) + (ya > 0).astype(int)
    oof = np.zeros(len(ya))
    qini: list[float] = []
    auuc: list[float] = []
    learner_name = name
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for train, test in splitter.split(Xa, strata):
        learner = make_learner()
        learner_name = learner_name or type(learner).__name__
        learner.fit(Xa[train], t[train], ya[train])
        pred = np.asarray(learner.predict(Xa[test]), dtype=np.float64)
        oof[test] = pred
        qini.append(qini_coefficient(ya[test], t[test], pred))
        auuc.append(auuc_score(ya[test], t[test], pred))
    return UpliftEvaluation(str(learner_name), tuple(qini), tuple(auuc), oof)


@dataclass(frozen=True)
class SegmentUplift:
    """Observed (and predicted) uplift in one segment.

    Attributes:
        segment: Segment value.
        n_treated: Treated units.
        n_control: Control units.
        mean_treated: Outcome mean of treated units.
        mean_control: Outcome mean of control units.
        uplift: Observed difference of means.
        uplift_ci: Its normal (Wald) interval.
        p_value: Two-sided p-value of the difference (Welch).
        predicted_uplift: Mean predicted uplift in the segment (None without predictions).
    """

    segment: str
    n_treated: int
    n_control: int
    mean_treated: float
    mean_control: float
    uplift: float
    uplift_ci: tuple[float, float]
    p_value: float
    predicted_uplift: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        out = dict(self.__dict__)
        out["uplift_ci"] = list(self.uplift_ci)
        return out


def uplift_by_segment(
    segment: ArrayLike,
    treatment: ArrayLike,
    y: ArrayLike,
    predicted: ArrayLike | None = None,
    *,
    alpha: float = 0.05,
) -> tuple[SegmentUplift, ...]:
    """Observed uplift (treated − control mean) with an interval in each segment.

    Args:
        segment: Segment label per unit, shape (n_samples,).
        treatment: 0/1, shape (n_samples,).
        y: Outcome, shape (n_samples,).
        predicted: Optional predicted uplift per unit, to set beside the observed one.
        alpha: 1 − confidence level.

    Returns:
        One entry per segment that has both treated and control units, sorted by
        observed uplift, largest first.
    """
    seg = pd.Series(np.asarray(segment)).astype(str).to_numpy()
    t = np.asarray(treatment).astype(bool)
    ya = np.asarray(y, dtype=np.float64)
    pred = None if predicted is None else np.asarray(predicted, dtype=np.float64)
    out: list[SegmentUplift] = []
    for s in sorted(set(seg)):
        m = seg == s
        yt, yc = ya[m & t], ya[m & ~t]
        if len(yt) < 2 or len(yc) < 2:
            continue
        diff, lo, hi, p = _core.welch_ttest(
            yt.mean(), yt.var(ddof=1), len(yt), yc.mean(), yc.var(ddof=1), len(yc), alpha
        )
        out.append(
            SegmentUplift(
                segment=s,
                n_treated=len(yt),
                n_control=len(yc),
                mean_treated=float(yt.mean()),
                mean_control=float(yc.mean()),
                uplift=_core.as_float(diff),
                uplift_ci=(_core.as_float(lo), _core.as_float(hi)),
                p_value=_core.as_float(p),
                predicted_uplift=None if pred is None else float(pred[m].mean()),
            )
        )
    return tuple(sorted(out, key=lambda r: -r.uplift))


@dataclass(frozen=True)
class TargetingPlan:
    """Whom to treat next, best predicted uplift first.

    Attributes:
        ranking: One row per candidate: ``id``, ``uplift`` (expected incremental outcome
            if treated), ``rank`` (1 = best), ``cumulative_incremental`` and ``target``
            (whether the candidate is in the recommended group).
        n_targeted: Candidates recommended for the campaign.
        expected_incremental: Expected incremental outcome from treating them.
        expected_incremental_all: Expected incremental outcome from treating everyone.
    """

    ranking: pd.DataFrame
    n_targeted: int
    expected_incremental: float
    expected_incremental_all: float

    def to_dict(self, top: int = 20) -> dict[str, Any]:
        """JSON-ready summary with the ``top`` best candidates."""
        return {
            "n_candidates": len(self.ranking),
            "n_targeted": self.n_targeted,
            "expected_incremental": self.expected_incremental,
            "expected_incremental_all": self.expected_incremental_all,
            "top": self.ranking.head(top).to_dict(orient="records"),
        }


def rank_targets(
    uplift: ArrayLike,
    ids: Sequence[Any] | ArrayLike | None = None,
    *,
    budget: int | None = None,
    cost_per_unit: float = 0.0,
    value_per_outcome: float = 1.0,
) -> TargetingPlan:
    """Rank candidates by predicted uplift and pick whom to target.

    Without a budget, everyone whose expected incremental value exceeds the cost
    (``uplift × value_per_outcome > cost_per_unit``) is targeted; with a budget, at
    most that many of those.

    Args:
        uplift: Predicted uplift per candidate, shape (n_candidates,).
        ids: Candidate ids (default 0..n−1).
        budget: Most candidates to target.
        cost_per_unit: Cost of treating one candidate, in value units.
        value_per_outcome: Value of one incremental outcome.

    Returns:
        The plan.
    """
    u = np.asarray(uplift, dtype=np.float64)
    ident = np.arange(len(u)) if ids is None else np.asarray(ids)
    if len(ident) != len(u):
        raise AnalysisInputError(
            f"ids and uplift must have the same length (got {len(ident)}, {len(u)})"
        )
    if budget is not None and budget < 0:
        raise AnalysisInputError(f"budget must be non-negative (got {budget})")
    order = np.argsort(-u, kind="stable")
    frame = pd.DataFrame({"id": ident[order], "uplift": u[order]})
    frame["rank"] = np.arange(1, len(u) + 1)
    frame["cumulative_incremental"] = frame["uplift"].cumsum()
    worth = frame["uplift"].to_numpy() * value_per_outcome > cost_per_unit
    n_target = int(worth.sum())
    if budget is not None:
        n_target = min(n_target, budget)
    frame["target"] = frame["rank"] <= n_target
    expected = float(frame["uplift"].iloc[:n_target].sum())
    return TargetingPlan(frame, n_target, expected, float(u.sum()))
