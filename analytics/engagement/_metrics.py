"""Metrics of probabilistic predictions: ranking, calibration and the regression head."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from analytics._figures import new_figure, save_png

ECE_BINS = 15


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """ECE with ``n_bins`` equal-width bins: sum over bins of (share of rows) × |accuracy − confidence|.

    Args:
        y: 0/1 labels, shape (n,).
        p: Predicted probabilities of label 1, shape (n,).
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if len(y) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.mean() * abs(y[mask].mean() - p[mask].mean())
    return float(total)


def ece_if_calibrated(
    p: np.ndarray, n_draws: int = 200, random_state: int = 0
) -> tuple[float, float]:
    """The ECE a perfectly calibrated model with these predictions would still show.

    Labels are drawn from the predictions themselves (each row is 1 with probability
    ``p``), so the only error left is sampling noise; on a test set of a hundred posts
    that alone is several points (Bröcker & Smith, 2007, consistency resampling).

    Args:
        p: Predicted probabilities, shape (n,).
        n_draws: Label draws.
        random_state: Seed of the draws.

    Returns:
        The mean and the 95th percentile of the ECE over the draws.
    """
    p = np.asarray(p, dtype=float)
    rng = np.random.default_rng(random_state)
    draws = [
        expected_calibration_error((rng.random(len(p)) < p).astype(float), p)
        for _ in range(n_draws)
    ]
    return float(np.mean(draws)), float(np.quantile(draws, 0.95))


@dataclass(frozen=True)
class Metrics:
    """Scores of one model on one test set (``mae_log`` is None for classifiers without a head)."""

    roc_auc: float
    pr_auc: float
    brier: float
    ece: float
    mae_log: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {k: (None if v is None else round(float(v), 4)) for k, v in asdict(self).items()}


def classification_metrics(y: np.ndarray, p: np.ndarray, mae_log: float | None = None) -> Metrics:
    """AUC, average precision, Brier score and 15-bin ECE of probabilities ``p`` (shape (n,))."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    one_class = len(np.unique(y)) < 2
    return Metrics(
        roc_auc=float("nan") if one_class else float(roc_auc_score(y, p)),
        pr_auc=float("nan") if one_class else float(average_precision_score(y, p)),
        brier=float(brier_score_loss(y, p)),
        ece=expected_calibration_error(y, p),
        mae_log=mae_log,
    )


def paired_auc_difference(
    y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float, float]:
    """AUC of ``p_a`` minus AUC of ``p_b`` on the same rows, with a 95% paired-bootstrap interval.

    Args:
        y: 0/1 labels, shape (n,).
        p_a: Scores of the first model, shape (n,).
        p_b: Scores of the second model, shape (n,).
        n_boot: Bootstrap resamples of the rows (resamples with one class are skipped).
        seed: Seed of the resampling.

    Returns:
        (difference, lower, upper); NaN when ``y`` has one class.
    """
    from sklearn.metrics import roc_auc_score

    y, p_a, p_b = (np.asarray(v, dtype=float) for v in (y, p_a, p_b))
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan"), float("nan")
    diff = float(roc_auc_score(y, p_a) - roc_auc_score(y, p_b))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) < 2:
            continue
        draws.append(roc_auc_score(y[idx], p_a[idx]) - roc_auc_score(y[idx], p_b[idx]))
    lower, upper = np.percentile(draws, [2.5, 97.5])
    return diff, float(lower), float(upper)


def reliability_diagram(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], path: str, title: str, n_bins: int = ECE_BINS
) -> None:
    """Save a reliability diagram (one line per model) as a PNG at ``path``.

    Args:
        curves: Model name → (labels, probabilities), each of shape (n,).
    """
    fig = new_figure(5.5, 5.0)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for name, (y, p) in curves.items():
        bins = np.minimum((np.asarray(p) * n_bins).astype(int), n_bins - 1)
        xs, ys = [], []
        for b in range(n_bins):
            mask = bins == b
            if mask.sum() >= 5:
                xs.append(float(np.mean(np.asarray(p)[mask])))
                ys.append(float(np.mean(np.asarray(y)[mask])))
        ax.plot(xs, ys, marker="o", label=f"{name} (ECE {expected_calibration_error(y, p):.3f})")
    ax.set_xlabel("predicted probability of a top-30% post")
    ax.set_ylabel("observed share of top-30% posts")
    ax.set_title(title)
    ax.legend(fontsize=8)
    save_png(fig, path)
