"""Combining members: stacking (a logistic meta-learner), Bayesian model combination, calibration.

Each is fitted on out-of-fold member predictions from time-ordered folds
(see :meth:`analytics.engagement.EngagementModel.fit`), never on the rows a
member was trained on; the ensemble's default calibration is none (see
:class:`StackingCombiner`).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-4
#: What :class:`Calibrator` accepts.
CALIBRATION_METHODS = ("none", "platt", "isotonic", "auto")


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities clipped to [:data:`EPS`, 1 − :data:`EPS`]."""
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=float), -30, 30)))


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    l2: float = 0.0,
    nonnegative: bool | np.ndarray = True,
) -> tuple[np.ndarray, float]:
    """Weighted logistic regression with optionally non-negative coefficients.

    Minimises the weighted mean log-loss plus ``l2 * ||coef||²`` (the intercept
    is not penalised) with L-BFGS-B.

    Args:
        X: Inputs, shape (n, d).
        y: 0/1 labels, shape (n,).
        sample_weight: Row weights, shape (n,); ``None`` weighs rows equally.
        l2: Strength of the L2 penalty on the coefficients.
        nonnegative: Constrain every coefficient to be >= 0, or a boolean mask of shape
            (d,) saying which ones.

    Returns:
        The coefficients, shape (d,), and the intercept.
    """
    from scipy.optimize import minimize

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    w = w / w.sum()
    d = X.shape[1]
    rate = float(np.clip((w * y).sum(), EPS, 1 - EPS))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        coef, intercept = params[:d], params[d]
        z = X @ coef + intercept
        # log(1 + e^z) - y z, written to stay finite for large |z|.
        value = float((w * (np.logaddexp(0.0, z) - y * z)).sum() + l2 * coef @ coef)
        residual = w * (sigmoid(z) - y)
        return value, np.append(residual @ X + 2 * l2 * coef, residual.sum())

    start = np.append(np.zeros(d), np.log(rate / (1 - rate)))
    bounded = np.broadcast_to(np.asarray(nonnegative, dtype=bool), (d,))
    bounds = [(0.0, None) if b else (None, None) for b in bounded] + [(None, None)]
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return result.x[:d].astype(float), float(result.x[d])


class StackingCombiner:
    """A log-linear pool of the members: ``sigmoid(Σ w_j · logit p_j)``, ``w >= 0``, ``Σ w = 1``.

    The weights come from a logistic meta-learner on out-of-fold log-odds, with one
    intercept per time fold and non-negative coefficients, then rescaled to sum to one.

    - *Non-negative*: a member can only add evidence, never count against itself; with
      the small, noisy out-of-fold sets of early folds an unconstrained meta-learner
      learns negative weights for correlated members that do not hold on later posts
      (Breiman, "Stacked regressions", 1996).
    - *One intercept per fold*: fold *k*'s members learnt from the posts before it only,
      so each fold has its own offset (the members under- or over-shoot as the account
      drifts); fold intercepts absorb that, and the weights say only how much each
      member's ranking is worth.
    - *Sum to one*: out-of-fold members learnt from the earlier folds' posts only and
      are flatter and shifted against the final members, which learnt from all of them.
      So the out-of-fold rows decide *which* member to trust, and the final members' own
      probability scale (fitted on every training post) is kept. Fitting a slope and an
      intercept on out-of-fold rows instead mis-calibrates the final model under drift
      (``python -m benchmarks.engagement`` reports it as the
      ``stacking_platt_on_out_of_fold_rows`` combiner, docs/benchmarks/engagement.md).
    - When no member helps on the out-of-fold rows (all weights 0, e.g. a few hundred
      posts), the members count equally: no evidence is no reason to prefer one.

    Args:
        C: Inverse L2 strength of the meta-learner (as in scikit-learn, per row).
    """

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def fit(
        self,
        member_proba: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> StackingCombiner:
        """Fit the weights.

        Args:
            member_proba: Out-of-fold member probabilities, shape (n, n_members).
            y: 0/1 labels, shape (n,).
            sample_weight: Row weights, shape (n,), e.g. later folds more.
            groups: Time fold of each row, shape (n,); each gets its own intercept.
        """
        scores = logit(member_proba)
        n_members = scores.shape[1]
        folds = np.unique(groups) if groups is not None else np.zeros(1)
        # One indicator per fold after the first (the shared intercept is the first's).
        dummies = (
            (np.asarray(groups)[:, None] == folds[None, 1:]).astype(float)
            if groups is not None
            else np.zeros((len(y), 0))
        )
        free = np.r_[np.zeros(n_members, dtype=bool), np.ones(dummies.shape[1], dtype=bool)]
        l2 = 1.0 / (2.0 * self.C * len(y))
        coef, _ = fit_logistic(np.hstack([scores, dummies]), y, sample_weight, l2, ~free)
        raw = coef[:n_members]
        self.raw_coef_ = raw
        self.coef_ = raw / raw.sum() if raw.sum() > 1e-9 else np.full(n_members, 1.0 / n_members)
        self.intercept_ = 0.0
        return self

    def predict_proba(self, member_proba: np.ndarray) -> np.ndarray:
        """Combined probability, shape (n,)."""
        return sigmoid(logit(member_proba) @ self.coef_ + self.intercept_)


class BayesianCombiner:
    """Bayesian model combination (Monteith et al., 2011) over linear mixtures of the members.

    Weight vectors are drawn from a flat Dirichlet; each is weighted by the
    likelihood of the out-of-fold labels under its mixture; the result is the
    posterior-mean mixture.

    Args:
        n_samples: Dirichlet draws.
        random_state: Seed of the draws.
    """

    def __init__(self, n_samples: int = 2000, random_state: int = 0) -> None:
        self.n_samples = n_samples
        self.random_state = random_state

    def fit(self, member_proba: np.ndarray, y: np.ndarray) -> BayesianCombiner:
        """Fit on ``member_proba`` of shape (n, n_members) and labels of shape (n,)."""
        rng = np.random.default_rng(self.random_state)
        weights = rng.dirichlet(np.ones(member_proba.shape[1]), size=self.n_samples)
        mixed = np.clip(member_proba @ weights.T, EPS, 1 - EPS)  # (n, n_samples)
        y = np.asarray(y, dtype=float)[:, None]
        loglik = (y * np.log(mixed) + (1 - y) * np.log(1 - mixed)).sum(axis=0)
        posterior = np.exp(loglik - loglik.max())
        posterior /= posterior.sum()
        self.weights_ = posterior @ weights
        return self

    def predict_proba(self, member_proba: np.ndarray) -> np.ndarray:
        return np.clip(member_proba @ self.weights_, 0.0, 1.0)


class Calibrator:
    """Platt scaling or isotonic regression of a score in [0, 1]; both keep the ranking.

    Args:
        method: ``"platt"``, ``"isotonic"``, ``"auto"`` or ``"none"``. ``"auto"`` picks
            Platt or isotonic by the lower leave-one-group-out log-loss when ``groups``
            are given to :meth:`fit` (time folds), else isotonic from 1,000 rows on.
            ``"none"`` is the identity: the score is already a probability on the scale
            wanted, and :meth:`fit` learns nothing.
    """

    def __init__(self, method: str = "auto") -> None:
        self.method = method

    def fit(
        self,
        p: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> Calibrator:
        """Fit on scores ``p`` and labels ``y``, both of shape (n,).

        Args:
            p: Scores, shape (n,).
            y: 0/1 labels, shape (n,).
            sample_weight: Optional row weights, shape (n,).
            groups: Optional fold of each row, shape (n,); lets ``"auto"`` choose
                the method by held-out log-loss.
        """
        method = self.method
        if method not in CALIBRATION_METHODS:
            raise ValueError(
                f"calibration must be one of {', '.join(CALIBRATION_METHODS)} (got {method!r})"
            )
        if method == "auto":
            method = _choose_method(p, y, groups)
        self.method_ = method
        if method == "none":
            self.a_, self.b_ = 1.0, 0.0
            self.x_ = self.y_ = np.zeros(0)
        elif method == "platt":
            # Slope >= 0: calibration may flatten a score but never reverse its ranking.
            (a,), b = fit_logistic(logit(p)[:, None], y, sample_weight, l2=1e-4)
            self.a_, self.b_ = float(a), float(b)
            self.x_ = self.y_ = np.zeros(0)
        else:
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(
                p, y, sample_weight=sample_weight
            )
            self.x_ = np.asarray(iso.X_thresholds_, dtype=float)
            self.y_ = np.asarray(iso.y_thresholds_, dtype=float)
            self.a_, self.b_ = 1.0, 0.0
        return self

    def transform(self, p: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape (n,)."""
        if self.method_ == "none":
            return np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
        if self.method_ == "platt":
            return sigmoid(self.a_ * logit(p) + self.b_)
        # Keep probabilities strictly inside (0, 1): a finite calibration set cannot prove certainty.
        return np.clip(np.interp(p, self.x_, self.y_), 0.005, 0.995)


def _choose_method(p: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> str:
    """Platt or isotonic, by log-loss on each group when fitted on the others."""
    folds = np.unique(groups) if groups is not None else np.zeros(0)
    if groups is None or len(folds) < 2:
        return "isotonic" if len(p) >= 1000 else "platt"
    losses: dict[str, float] = {}
    for method in ("platt", "isotonic"):
        total = 0.0
        for fold in folds:
            held = groups == fold
            if len(np.unique(y[~held])) < 2:
                continue
            q = Calibrator(method).fit(p[~held], y[~held]).transform(p[held])
            q = np.clip(q, EPS, 1 - EPS)
            total -= float((y[held] * np.log(q) + (1 - y[held]) * np.log(1 - q)).sum())
        losses[method] = total
    return min(losses, key=lambda m: losses[m])
