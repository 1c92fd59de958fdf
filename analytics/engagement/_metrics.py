"""Metrics of probabilistic predictions: ranking, calibration and the regression head."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

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


def reliability_diagram(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], path: str, title: str, n_bins: int = ECE_BINS
) -> None:
    """Save a reliability diagram (one line per model) as a PNG at ``path``.

    Args:
        curves: Model name → (labels, probabilities), each of shape (n,).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.0))
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
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
