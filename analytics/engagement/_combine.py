"""Combining members: stacking (a logistic meta-learner), Bayesian model combination, calibration.

All three are fitted on out-of-fold member predictions from time-ordered folds
(see :meth:`analytics.engagement.EngagementModel.fit`), never on the rows a
member was trained on.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-4


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities clipped to [1e-4, 1 − 1e-4]."""
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=float), -30, 30)))


class StackingCombiner:
    """Logistic regression on the members' log-odds.

    Args:
        C: Inverse L2 strength of the meta-learner.
    """

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def fit(self, member_proba: np.ndarray, y: np.ndarray) -> StackingCombiner:
        """Fit on ``member_proba`` of shape (n, n_members) and labels of shape (n,)."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=self.C, max_iter=1000).fit(logit(member_proba), y)
        self.coef_ = model.coef_.ravel().astype(float)
        self.intercept_ = float(model.intercept_[0])
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
    """Platt scaling or isotonic regression of a score in [0, 1].

    Args:
        method: ``"platt"``, ``"isotonic"`` or ``"auto"`` (isotonic from 1,000 rows on).
    """

    def __init__(self, method: str = "auto") -> None:
        self.method = method

    def fit(
        self, p: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> Calibrator:
        """Fit on scores ``p`` and labels ``y``, both of shape (n,); optional row weights."""
        method = self.method
        if method == "auto":
            method = "isotonic" if len(p) >= 1000 else "platt"
        if method not in {"platt", "isotonic"}:
            raise ValueError(f"calibration must be 'platt', 'isotonic' or 'auto' (got {method!r})")
        self.method_ = method
        if method == "platt":
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=100.0).fit(
                logit(p)[:, None], y, sample_weight=sample_weight
            )
            self.a_, self.b_ = float(model.coef_[0, 0]), float(model.intercept_[0])
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
        if self.method_ == "platt":
            return sigmoid(self.a_ * logit(p) + self.b_)
        # Keep probabilities strictly inside (0, 1): a finite calibration set cannot prove certainty.
        return np.clip(np.interp(p, self.x_, self.y_), 0.005, 0.995)
