"""The ensemble's members: a small network, gradient-boosted trees, a logistic baseline.

Every member takes :class:`~analytics.engagement._features.Features` (tabular
columns + the 384-d embedding) and a 0/1 label, and saves itself to a folder
without pickle (JSON + ``.npz`` with ``allow_pickle=False``, LightGBM's text
format, safetensors for the network).

:data:`MEMBERS` is the one registry of members: a new member is a class that
follows :class:`Member`, added there.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from analytics._threads import torch_threads
from analytics.engagement._combine import sigmoid
from analytics.engagement._features import Features
from analytics.engagement._target import LEVEL_COLUMNS

N_COMPONENTS = 16


class Member(Protocol):
    """What the ensemble needs from a member (a scikit-learn style estimator)."""

    #: The member's key in :data:`MEMBERS`, in ``EngagementModel(members=...)`` and in
    #: the saved model.
    name: ClassVar[str]

    @classmethod
    def for_ensemble(cls, random_state: int) -> Member:
        """An unfitted member with the hyper-parameters the ensemble trains it with."""
        ...

    def fit(self, features: Features, y: np.ndarray) -> Member:
        """Fit on features with ``n`` rows and ``y`` of shape (n,), 0/1."""
        ...

    def predict_proba(self, features: Features) -> np.ndarray:
        """Probability of the positive class, shape (n,)."""
        ...

    def save(self, folder: Path) -> None:
        """Write the fitted member's files to ``folder``."""
        ...

    @classmethod
    def load(cls, folder: Path) -> Member:
        """Read a member written by :meth:`save`."""
        ...


class Preprocessor:
    """Median imputation + standardisation of tabular columns, PCA of embeddings."""

    def __init__(self, n_components: int = N_COMPONENTS) -> None:
        self.n_components = n_components

    def fit(self, features: Features) -> Preprocessor:
        table = features.tabular.to_numpy(dtype=float)
        self.columns_ = list(features.tabular.columns)
        with warnings.catch_warnings():  # an all-missing column (no history yet) has no median
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = np.nanmedian(table, axis=0) if len(table) else np.zeros(table.shape[1])
        self.median_ = np.nan_to_num(medians, nan=0.0)
        filled = self._fill(table)
        self.mean_ = filled.mean(axis=0)
        self.scale_ = filled.std(axis=0)
        self.scale_[self.scale_ < 1e-9] = 1.0
        emb = features.embedding.astype(np.float64)
        self.emb_mean_ = emb.mean(axis=0)
        k = min(self.n_components, max(1, min(emb.shape) - 1))
        centred = emb - self.emb_mean_
        # Eigenvectors of the 384x384 scatter matrix: the same axes as an SVD, far cheaper.
        values, vectors = np.linalg.eigh(centred.T @ centred)
        self.components_ = vectors[:, np.argsort(values)[::-1][:k]].T.copy()
        return self

    def _fill(self, table: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(table), self.median_, table)

    def project(self, embedding: np.ndarray) -> np.ndarray:
        """Embedding projection, shape (n, n_components)."""
        return (embedding.astype(np.float64) - self.emb_mean_) @ self.components_.T

    def svd_columns(self) -> list[str]:
        return [f"text_svd_{i}" for i in range(self.components_.shape[0])]

    def tree_matrix(self, features: Features) -> np.ndarray:
        """:meth:`tree_frame` as a float array, without the pandas overhead."""
        table = features.tabular[self.columns_].to_numpy(dtype=float)
        return np.hstack([table, self.project(features.embedding)])

    def tree_frame(self, features: Features) -> pd.DataFrame:
        """Raw tabular columns (NaN kept) + embedding projection, for the trees."""
        frame = features.tabular[self.columns_].reset_index(drop=True).copy()
        projected = pd.DataFrame(self.project(features.embedding), columns=self.svd_columns())
        return pd.concat([frame, projected], axis=1)

    def dense(self, features: Features) -> np.ndarray:
        """Standardised tabular columns, shape (n, n_tabular)."""
        table = features.tabular[self.columns_].to_numpy(dtype=float)
        return (self._fill(table) - self.mean_) / self.scale_

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "median": self.median_,
            "mean": self.mean_,
            "scale": self.scale_,
            "emb_mean": self.emb_mean_,
            "components": self.components_,
        }

    @classmethod
    def from_arrays(cls, columns: list[str], arrays: dict[str, np.ndarray]) -> Preprocessor:
        pre = cls(n_components=int(arrays["components"].shape[0]))
        pre.columns_ = columns
        pre.median_, pre.mean_, pre.scale_ = arrays["median"], arrays["mean"], arrays["scale"]
        pre.emb_mean_, pre.components_ = arrays["emb_mean"], arrays["components"]
        return pre


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write named arrays to an ``.npz`` (read back with :func:`load_arrays`)."""
    np.savez(path, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The named arrays of an ``.npz`` written by :func:`save_arrays` (no pickle)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


class LogisticMember:
    """L2 logistic regression on standardised tabular columns + the embedding projection.

    Args:
        C: Inverse regularisation strength.
    """

    name: ClassVar[str] = "logistic"

    def __init__(self, C: float = 0.5) -> None:
        self.C = C

    @classmethod
    def for_ensemble(cls, random_state: int) -> LogisticMember:
        """The default member; its fit is deterministic, so ``random_state`` is unused."""
        return cls()

    def _design(self, features: Features) -> np.ndarray:
        projected = self.pre_.project(features.embedding)
        return np.hstack([self.pre_.dense(features), projected])

    def fit(self, features: Features, y: np.ndarray) -> LogisticMember:
        from sklearn.linear_model import LogisticRegression

        self.pre_ = Preprocessor().fit(features)
        model = LogisticRegression(C=self.C, max_iter=2000)
        model.fit(self._design(features), y)
        self.coef_ = model.coef_.ravel().astype(float)
        self.intercept_ = float(model.intercept_[0])
        return self

    def predict_proba(self, features: Features) -> np.ndarray:
        return sigmoid(self._design(features) @ self.coef_ + self.intercept_)

    def save(self, folder: Path) -> None:
        arrays = {f"pre_{k}": v for k, v in self.pre_.arrays().items()}
        arrays.update(coef=self.coef_, intercept=np.array([self.intercept_]))
        save_arrays(folder / "logistic.npz", arrays)
        (folder / "logistic.json").write_text(
            json.dumps({"C": self.C, "columns": self.pre_.columns_})
        )

    @classmethod
    def load(cls, folder: Path) -> LogisticMember:
        meta = json.loads((folder / "logistic.json").read_text())
        arrays = load_arrays(folder / "logistic.npz")
        member = cls(C=meta["C"])
        member.pre_ = Preprocessor.from_arrays(
            meta["columns"], {k[4:]: v for k, v in arrays.items() if k.startswith("pre_")}
        )
        member.coef_, member.intercept_ = arrays["coef"], float(arrays["intercept"][0])
        return member


THREADS = 1  # LightGBM threads: the machine is shared; threads fight more than they help
LGBM_PARAMS: dict[str, Any] = {
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": THREADS,
    "verbose": -1,
}


class LightGBMMember:
    """LightGBM on the tabular columns (missing values kept) + the embedding projection.

    Trees split on absolute thresholds, so an account whose engagement level
    drifts (elon-musk-tweets: the training period starts with a high level and a
    low hit rate, the test period is high again with the usual rate) sends test
    posts down branches learnt from a different era. The
    label does not change when all of an account's counts are scaled, so each
    training row is also shown with its
    :data:`~analytics.engagement._target.LEVEL_COLUMNS` moved together down and up
    by ``level_shift_``, same label: the trees then lean on the level columns
    relative to each other. ``level_shift_`` is ``level_shift`` times the spread of
    the training rows' ``recent_median - trailing_median``: how far the data's own
    levels are seen to move, so each dataset gets a shift of its own size. The three
    copies of a row weigh one row between them. ``python -m benchmarks.engagement``
    measures the ensemble's calibration on such a drifting account
    (docs/benchmarks/engagement.md).

    Args:
        n_estimators: Boosting rounds.
        random_state: Seed for bagging and feature sampling.
        level_shift: Size of the shift in units of that spread; 0 trains on the
            rows as they are. No shift when the features have no level columns.
    """

    name: ClassVar[str] = "lightgbm"

    def __init__(
        self, n_estimators: int = 300, random_state: int = 0, level_shift: float = 1.0
    ) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.level_shift = level_shift

    @classmethod
    def for_ensemble(cls, random_state: int) -> LightGBMMember:
        """The default member, seeded with ``random_state``."""
        return cls(random_state=random_state)

    def fit(self, features: Features, y: np.ndarray) -> LightGBMMember:
        """Fit on features with ``n`` rows and ``y`` of shape (n,), 0/1."""
        import lightgbm as lgb

        self.pre_ = Preprocessor().fit(features)
        frame = self.pre_.tree_frame(features)
        self.level_shift_ = self._shift_size(frame)
        frame, label, copies = self._level_shifted(frame, np.asarray(y))
        # The copies are not new evidence: together they weigh what the rows did, and a
        # leaf still needs as many real posts, so the regularisation stays as tuned.
        params = {
            **LGBM_PARAMS,
            "objective": "binary",
            "seed": self.random_state,
            "min_data_in_leaf": LGBM_PARAMS["min_data_in_leaf"] * copies,
        }
        data = lgb.Dataset(frame, label=label, weight=np.full(len(label), 1.0 / copies))
        self.booster_ = lgb.train(params, data, self.n_estimators)
        return self

    def _shift_size(self, frame: pd.DataFrame) -> float:
        """The shift in log engagement: ``level_shift`` spreads of the recent move."""
        if not self.level_shift or not set(LEVEL_COLUMNS) <= set(frame.columns):
            return 0.0
        moves = (frame["recent_median"] - frame["trailing_median"]).dropna()
        return self.level_shift * float(moves.std()) if len(moves) > 1 else 0.0

    def _level_shifted(
        self, frame: pd.DataFrame, y: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray, int]:
        """``frame`` stacked with copies whose level columns moved by ∓``level_shift_``.

        Returns:
            The stacked frame, its labels and how many copies of each row it holds.
        """
        if not self.level_shift_ > 0:
            return frame, y, 1
        levels = list(LEVEL_COLUMNS)
        copies = [frame]
        for shift in (-self.level_shift_, self.level_shift_):
            moved = frame.copy()
            moved[levels] = moved[levels] + shift  # NaN (no history yet) stays NaN
            copies.append(moved)
        return pd.concat(copies, ignore_index=True), np.tile(y, len(copies)), len(copies)

    def frame(self, features: Features) -> pd.DataFrame:
        """The trees' input, shape (n, n_tabular + n_components)."""
        return self.pre_.tree_frame(features)

    def predict_proba(self, features: Features) -> np.ndarray:
        matrix = self.pre_.tree_matrix(features)
        return np.asarray(self.booster_.predict(matrix, num_threads=THREADS), dtype=float)

    def save(self, folder: Path) -> None:
        meta = {
            "n_estimators": self.n_estimators,
            "random_state": self.random_state,
            "level_shift": self.level_shift,
            "level_shift_": self.level_shift_,
            "columns": self.pre_.columns_,
        }
        _save_trees(folder / "lightgbm", self.booster_, self.pre_.arrays(), meta)

    @classmethod
    def load(cls, folder: Path) -> LightGBMMember:
        meta, arrays, booster = _load_trees(folder / "lightgbm")
        member = cls(meta["n_estimators"], meta["random_state"], meta["level_shift"])
        member.level_shift_ = meta["level_shift_"]
        member.pre_ = Preprocessor.from_arrays(meta["columns"], arrays)
        member.booster_ = booster
        return member


def _save_trees(
    stem: Path, booster: Any, arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> None:
    """A LightGBM model as ``<stem>.txt``, its arrays as ``<stem>_pre.npz``, ``meta`` as
    ``<stem>.json``."""
    booster.save_model(str(stem.with_suffix(".txt")))
    save_arrays(stem.with_name(f"{stem.name}_pre.npz"), arrays)
    stem.with_suffix(".json").write_text(json.dumps(meta))


def _load_trees(stem: Path) -> tuple[dict[str, Any], dict[str, np.ndarray], Any]:
    """``meta``, arrays and booster written by :func:`_save_trees`."""
    import lightgbm as lgb

    meta = json.loads(stem.with_suffix(".json").read_text())
    arrays = load_arrays(stem.with_name(f"{stem.name}_pre.npz"))
    return meta, arrays, lgb.Booster(model_file=str(stem.with_suffix(".txt")))


class RegressionHead:
    """Expected log engagement: LightGBM on the lift over the account's trailing median.

    The interval comes from quantiles of out-of-sample residuals (split-conformal
    style), set by the ensemble through :attr:`residual_quantiles_`.
    """

    def __init__(self, n_estimators: int = 300, random_state: int = 0) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, features: Features, log_engagement: np.ndarray) -> RegressionHead:
        import lightgbm as lgb

        self.pre_ = Preprocessor().fit(features)
        base = self._base(features)
        params = {**LGBM_PARAMS, "objective": "huber", "alpha": 1.0, "seed": self.random_state}
        frame = self.pre_.tree_frame(features)
        self.booster_ = lgb.train(
            params, lgb.Dataset(frame, label=log_engagement - base), self.n_estimators
        )
        self.residual_quantiles_ = np.array([-1.0, 1.0])
        return self

    def _base(self, features: Features) -> np.ndarray:
        base = features.tabular["trailing_median"].to_numpy(dtype=float)
        fallback = float(self.pre_.median_[self.pre_.columns_.index("trailing_median")])
        return np.where(np.isnan(base), fallback, base)

    def predict(self, features: Features) -> np.ndarray:
        """Expected ``log1p(engagement)``, shape (n,)."""
        matrix = self.pre_.tree_matrix(features)
        lift = np.asarray(self.booster_.predict(matrix, num_threads=THREADS), dtype=float)
        return self._base(features) + lift

    def save(self, folder: Path) -> None:
        meta = {
            "n_estimators": self.n_estimators,
            "random_state": self.random_state,
            "columns": self.pre_.columns_,
        }
        arrays = {"quantiles": self.residual_quantiles_, **self.pre_.arrays()}
        _save_trees(folder / "regression", self.booster_, arrays, meta)

    @classmethod
    def load(cls, folder: Path) -> RegressionHead:
        meta, arrays, booster = _load_trees(folder / "regression")
        head = cls(meta["n_estimators"], meta["random_state"])
        head.residual_quantiles_ = arrays.pop("quantiles")
        head.pre_ = Preprocessor.from_arrays(meta["columns"], arrays)
        head.booster_ = booster
        return head


class NeuralMember:
    """Small PyTorch MLPs on the full embedding + standardised tabular columns.

    ``n_networks`` nets that differ only in their seed are trained and their
    probabilities averaged (seed bagging). One small net's calibration swings with
    its seed alone on the same data; the average is what the stacking and the
    calibration can rely on (``python -m benchmarks.engagement --seeds N`` records
    how much the ensemble still moves with the seed, docs/benchmarks/engagement.md).
    Each net is early-stopped on the latest 15% of its training rows (time order is
    kept by the caller), keeping its best epoch's weights.

    Args:
        hidden: Width of the first hidden layer.
        epochs: Maximum epochs.
        random_state: Seed of the first net; net k uses ``random_state + k``.
        n_networks: Nets in the average.
    """

    name: ClassVar[str] = "neural"

    def __init__(
        self, hidden: int = 64, epochs: int = 40, random_state: int = 0, n_networks: int = 5
    ) -> None:
        self.hidden = hidden
        self.epochs = epochs
        self.random_state = random_state
        self.n_networks = n_networks

    @classmethod
    def for_ensemble(cls, random_state: int) -> NeuralMember:
        """The default member, its first net seeded with ``random_state``."""
        return cls(random_state=random_state)

    def _net(self, n_inputs: int) -> Any:
        import torch

        return torch.nn.Sequential(
            torch.nn.Dropout(0.1),
            torch.nn.Linear(n_inputs, self.hidden),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.3),
            torch.nn.Linear(self.hidden, 1),
        )

    def _design(self, features: Features) -> np.ndarray:
        return np.hstack([self.pre_.dense(features), features.embedding * 4.0]).astype(np.float32)

    def fit(self, features: Features, y: np.ndarray) -> NeuralMember:
        import torch

        self.pre_ = Preprocessor().fit(features)
        x = torch.from_numpy(self._design(features))
        target = torch.from_numpy(np.asarray(y, dtype=np.float32))
        with torch_threads(1):  # a small MLP: extra threads only add contention
            self.nets_ = [
                self._fit_one(x, target, self.random_state + k) for k in range(self.n_networks)
            ]
        self.n_inputs_ = int(x.shape[1])
        return self

    def _fit_one(self, x: Any, target: Any, seed: int) -> Any:
        import torch

        torch.manual_seed(seed)
        n_valid = max(1, int(0.15 * len(x))) if len(x) >= 40 else 0
        x_fit, y_fit = x[: len(x) - n_valid], target[: len(x) - n_valid]
        x_val, y_val = x[len(x) - n_valid :], target[len(x) - n_valid :]
        net = self._net(x.shape[1])
        optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-2)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        generator = torch.Generator().manual_seed(seed)
        best_loss, best_state, patience = float("inf"), None, 0
        for _ in range(self.epochs):
            net.train()
            order = torch.randperm(len(x_fit), generator=generator)
            for start in range(0, len(order), 128):
                batch = order[start : start + 128]
                optimiser.zero_grad()
                loss = loss_fn(net(x_fit[batch]).squeeze(1), y_fit[batch])
                loss.backward()
                optimiser.step()
            if n_valid == 0:
                continue
            net.eval()
            with torch.no_grad():
                val = float(loss_fn(net(x_val).squeeze(1), y_val))
            if val < best_loss - 1e-4:
                best_loss, patience = val, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                patience += 1
                if patience >= 5:
                    break
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        return net

    def predict_proba(self, features: Features) -> np.ndarray:
        import torch

        x = torch.from_numpy(self._design(features))
        with torch_threads(1), torch.inference_mode():
            logits = torch.cat([net(x) for net in self.nets_], dim=1)
        return sigmoid(logits.numpy().astype(float)).mean(axis=1)

    def save(self, folder: Path) -> None:
        from safetensors.torch import save_file

        tensors = {
            f"{k}.{name}": value.contiguous()
            for k, net in enumerate(self.nets_)
            for name, value in net.state_dict().items()
        }
        save_file(tensors, str(folder / "neural.safetensors"))
        save_arrays(folder / "neural_pre.npz", self.pre_.arrays())
        meta = {
            "hidden": self.hidden,
            "epochs": self.epochs,
            "random_state": self.random_state,
            "n_networks": len(self.nets_),
            "n_inputs": self.n_inputs_,
            "columns": self.pre_.columns_,
        }
        (folder / "neural.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path) -> NeuralMember:
        from safetensors.torch import load_file

        meta = json.loads((folder / "neural.json").read_text())
        member = cls(meta["hidden"], meta["epochs"], meta["random_state"], meta["n_networks"])
        member.pre_ = Preprocessor.from_arrays(
            meta["columns"], load_arrays(folder / "neural_pre.npz")
        )
        member.n_inputs_ = meta["n_inputs"]
        tensors = load_file(str(folder / "neural.safetensors"))
        member.nets_ = []
        for k in range(member.n_networks):
            net = member._net(member.n_inputs_)
            prefix = f"{k}."
            net.load_state_dict(
                {n[len(prefix) :]: v for n, v in tensors.items() if n.startswith(prefix)}
            )
            net.eval()
            member.nets_.append(net)
        return member


def _registry(*members: type[Member]) -> dict[str, type[Member]]:
    return {member.name: member for member in members}


#: Every member the ensemble can use, by :attr:`Member.name`: the one place a member is
#: registered (the default ensemble, the fit and the loader all read it).
MEMBERS = _registry(NeuralMember, LightGBMMember, LogisticMember)


def member_type(name: str) -> type[Member]:
    """The registered member class called ``name``.

    Raises:
        ValueError: No member of that name is registered in :data:`MEMBERS`.
    """
    try:
        return MEMBERS[name]
    except KeyError:
        *rest, last = MEMBERS
        raise ValueError(f"unknown member {name!r}; expected {', '.join(rest)} or {last}") from None
