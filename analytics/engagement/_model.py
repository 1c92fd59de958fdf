"""The engagement ensemble: members, stacking, calibration, regression head, persistence."""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analytics._threads import one_thread, torch_threads
from analytics.engagement._cache import EmbeddingCache
from analytics.engagement._combine import BayesianCombiner, Calibrator, StackingCombiner
from analytics.engagement._features import (
    HASHTAG,
    FeaturePipeline,
    Features,
    default_blocks,
)
from analytics.engagement._members import (
    MEMBERS,
    Member,
    RegressionHead,
    load_arrays,
    member_type,
    save_arrays,
)
from analytics.engagement._target import HISTORY_COLUMNS, AccountHistory, add_context, check_posts
from analytics.engagement._types import Draft, Explanation, Prediction, Recommendation
from analytics.exceptions import AnalysisInputError, ModelLoadError, NotFittedError
from analytics.sentiment import SentimentScorer, VaderScorer

if TYPE_CHECKING:
    from analytics.engagement._explain import TextVectors

MODEL_VERSION = "engagement-ensemble-4"
MIN_LABELLED = 60
INTERVAL = (0.1, 0.9)
MEMO_TEXTS = 32  # texts whose encoder output a loaded model keeps (predict → explain → recommend)
SMALL_BATCH = 16  # new texts encoded with one torch thread (latency-bound), more with the process's
_MEMO_LOCK = threading.Lock()


@dataclass(frozen=True)
class Scores:
    """Every model's output on prepared rows (arrays of shape (n,))."""

    members: dict[str, np.ndarray]
    ensemble: np.ndarray
    bmc: np.ndarray
    log_engagement: np.ndarray


class EngagementModel:
    """Will a post land in the top 30% of its account's recent posts? With reasons and fixes.

    Members (:mod:`._members`): a PyTorch MLP on embedding + dense features,
    LightGBM on tabular features + an embedding projection, and a logistic
    baseline. Their out-of-fold predictions on time-ordered folds train a
    logistic meta-learner (stacking) whose non-negative weights pool the members'
    log-odds (:class:`~analytics.engagement._combine.StackingCombiner`). A
    LightGBM regression head gives the expected engagement with an 80% interval
    from out-of-sample residuals.

    Calibration: by default (``"none"``) the pool keeps the final members' own
    probability scale, fitted on every training post; a Platt or isotonic map fitted
    on out-of-fold rows (``"platt"``, ``"isotonic"``, ``"auto"``) learns the scale of
    the weaker fold members instead, which calibrates later posts worse
    (``python -m benchmarks.engagement`` compares both on real datasets,
    docs/benchmarks/engagement.md). Outcomes observed after training are the
    first held-out rows of the final members: ``beacon retrain`` fits a Platt map on
    them (:mod:`._recalibrate`).

    Args:
        n_folds: Time-ordered folds for out-of-fold predictions (>= 3).
        calibration: ``"none"``, ``"platt"``, ``"isotonic"`` or ``"auto"`` (see above).
        members: Member names to use, from :data:`~analytics.engagement._members.MEMBERS`
            (default: all of them, in its order).
        cache_dir: Folder of the embedding cache (``None``: no cache).
        scorer: Sentiment scorer for the tone features (default VADER).
        random_state: Seed of every member.
    """

    #: The history as of training, set on copies made by :meth:`with_posts`.
    training_history_: AccountHistory | None = None

    def __init__(
        self,
        n_folds: int = 5,
        calibration: str = "none",
        members: Sequence[str] = tuple(MEMBERS),
        cache_dir: Path | None = None,
        scorer: SentimentScorer | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_folds = n_folds
        self.calibration = calibration
        self.members = members
        self.cache_dir = cache_dir
        self.scorer = scorer
        self.random_state = random_state

    # ------------------------------------------------------------------ features
    def _pipeline(self) -> FeaturePipeline:
        """The feature pipeline, built once per scorer and cache folder (VADER loads its
        lexicon once)."""
        cached = self.__dict__.get("_pipeline_cache")
        if cached is None or cached[0] is not self.scorer or cached[1] != self.cache_dir:
            cached = (
                self.scorer,
                self.cache_dir,
                FeaturePipeline(default_blocks(self.scorer or VaderScorer(), self.cache_dir)),
            )
            self._pipeline_cache = cached
        pipeline: FeaturePipeline = cached[2]
        return pipeline

    def text_vectors(self, text: str) -> TextVectors:
        """Sentence and token embeddings of ``text`` (one encoder pass, memoised per model)."""
        from analytics.engagement._explain import encode_text

        memo = self._memo()
        with _MEMO_LOCK:
            found = memo.get(text)
            if found is not None:
                memo.move_to_end(text)
                return found
        vectors = encode_text(text)
        with _MEMO_LOCK:
            memo[text] = vectors
            while len(memo) > MEMO_TEXTS:
                memo.popitem(last=False)
        return vectors

    def _memo(self) -> OrderedDict[str, TextVectors]:
        memo: OrderedDict[str, TextVectors] | None = self.__dict__.get("_text_memo")
        if memo is None:
            memo = OrderedDict()
            self._text_memo = memo
        return memo

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts``, shape (n, 384).

        Memoised texts are reused; one new text gets one encoder pass that is memoised
        with its token embeddings (so ``predict`` then ``explain`` of a draft encode it
        once); more go through the embedding cache in batches, with one torch thread up
        to :data:`SMALL_BATCH` texts.
        """
        memo = self._memo()
        with _MEMO_LOCK:
            known = {t: memo[t].embedding for t in set(texts) if t in memo}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if len(missing) == 1:
            known[missing[0]] = self.text_vectors(missing[0]).embedding
        elif len(missing) <= SMALL_BATCH:
            with torch_threads(1):
                known.update(zip(missing, self._cache().encode(missing), strict=True))
        else:
            known.update(zip(missing, self._cache().encode(missing), strict=True))
        return np.vstack([known[t] for t in texts]).astype(np.float32, copy=False)

    def _cache(self) -> EmbeddingCache:
        return EmbeddingCache(self.cache_dir / "embeddings.sqlite" if self.cache_dir else None)

    def features(self, rows: pd.DataFrame, embedding: np.ndarray | None = None) -> Features:
        """Features of prepared rows (from :func:`add_context`); embeds texts unless given."""
        if embedding is None:
            texts = [str(t) for t in rows["text"].fillna("")]
            embedding = self._embed(texts) if texts else self._cache().encode(texts)
        return self._pipeline().transform(rows, embedding)

    def _new_member(self, name: str) -> Member:
        return member_type(name).for_ensemble(self.random_state)

    # ----------------------------------------------------------------------- fit
    def fit(self, posts: pd.DataFrame) -> EngagementModel:
        """Fit on canonical posts (account, text, posted_at, likes, comments, shares, ...).

        Args:
            posts: One row per published post; any order.

        Returns:
            self.

        Raises:
            AnalysisInputError: Too few posts with enough account history to learn from.
        """
        prepared = add_context(posts)
        return self.fit_prepared(prepared)

    def fit_prepared(
        self, prepared: pd.DataFrame, embedding: np.ndarray | None = None
    ) -> EngagementModel:
        """Fit on rows from :func:`add_context` (time-sorted); ``embedding`` aligned when given."""
        from threadpoolctl import threadpool_limits

        # Small matrices: BLAS threads only contend with each other (and with torch).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit_prepared(prepared, embedding)

    def _fit_prepared(
        self, prepared: pd.DataFrame, embedding: np.ndarray | None
    ) -> EngagementModel:
        if self.n_folds < 3:
            raise ValueError(f"n_folds must be at least 3 (got {self.n_folds})")
        labelled = np.flatnonzero(prepared["label"].notna().to_numpy())
        if len(labelled) < MIN_LABELLED:
            raise AnalysisInputError(
                f"need at least {MIN_LABELLED} posts with {5}+ earlier posts of the same account "
                f"to learn from; got {len(labelled)} (of {len(prepared)} posts); add more history"
            )
        rows = prepared.iloc[labelled].reset_index(drop=True)
        emb = embedding[labelled] if embedding is not None else None
        feats = self.features(rows, emb)
        y = rows["label"].to_numpy(dtype=float)
        target = rows["log_engagement"].to_numpy(dtype=float)
        if len(np.unique(y)) < 2:
            raise AnalysisInputError("every labelled post has the same label; nothing to learn")

        # Out-of-fold predictions on time-ordered folds: fit on chunks < k, predict chunk k.
        chunks = np.array_split(np.arange(len(rows)), self.n_folds)
        oof = np.full((len(rows), len(self.members)), np.nan)
        oof_reg = np.full(len(rows), np.nan)
        fold_of = np.full(len(rows), -1)
        for k in range(1, self.n_folds):
            fit_rows = np.concatenate(chunks[:k])
            if len(np.unique(y[fit_rows])) < 2 or len(fit_rows) < 20:
                continue
            part, held = feats.rows(fit_rows), feats.rows(chunks[k])
            for j, name in enumerate(self.members):
                oof[chunks[k], j] = (
                    self._new_member(name).fit(part, y[fit_rows]).predict_proba(held)
                )
            head = RegressionHead(random_state=self.random_state).fit(part, target[fit_rows])
            oof_reg[chunks[k]] = head.predict(held)
            fold_of[chunks[k]] = k
        has_oof = ~np.isnan(oof).any(axis=1)
        if has_oof.sum() < 30 or len(np.unique(y[has_oof])) < 2:
            raise AnalysisInputError(
                f"too few out-of-fold predictions to combine the members ({int(has_oof.sum())}); "
                "add more posts or lower n_folds"
            )
        # Later folds' members learnt from more posts, so they look more like the final
        # members: their rows count more (fold k weighs k).
        weight = fold_of.astype(float)
        self.stacker_ = StackingCombiner().fit(
            oof[has_oof], y[has_oof], weight[has_oof], groups=fold_of[has_oof]
        )
        self.bmc_ = BayesianCombiner(random_state=self.random_state).fit(oof[has_oof], y[has_oof])
        # The stacker's own out-of-fold output (leave one fold out): what a calibrator is
        # fitted on when one is asked for, and the rows ``beacon retrain`` keeps.
        meta_oof = np.full(len(rows), np.nan)
        folds = np.unique(fold_of[has_oof])
        for k in folds:
            train_mask = has_oof & (fold_of != k)
            if len(np.unique(y[train_mask])) < 2:
                continue
            stack = StackingCombiner().fit(
                oof[train_mask], y[train_mask], weight[train_mask], groups=fold_of[train_mask]
            )
            meta_oof[fold_of == k] = stack.predict_proba(oof[fold_of == k])
        usable = ~np.isnan(meta_oof)
        self.calibrator_ = Calibrator(self.calibration).fit(
            meta_oof[usable], y[usable], groups=fold_of[usable]
        )
        # Kept (and saved) so ``beacon retrain`` can refit the calibrator alone later.
        self.calibration_scores_ = meta_oof[usable]
        self.calibration_labels_ = y[usable]
        self.recalibration_: dict[str, Any] | None = None
        self.oof_ = {"members": oof[has_oof], "labels": y[has_oof], "folds": fold_of[has_oof]}

        self.members_ = {name: self._new_member(name).fit(feats, y) for name in self.members}
        self.head_ = RegressionHead(random_state=self.random_state).fit(feats, target)
        residuals = target[~np.isnan(oof_reg)] - oof_reg[~np.isnan(oof_reg)]
        self.head_.residual_quantiles_ = (
            np.quantile(residuals, INTERVAL) if len(residuals) else np.array([-1.0, 1.0])
        )
        self.base_rate_ = float(y.mean())
        self.n_train_ = len(rows)
        self.history_ = AccountHistory.from_posts(prepared)
        self.hashtags_ = _top_hashtags(prepared)
        self.columns_ = list(feats.tabular.columns)
        return self

    # ------------------------------------------------------------------- scoring
    def _check(self) -> None:
        if not hasattr(self, "members_"):
            raise NotFittedError(
                "This EngagementModel instance is not fitted yet. Call 'fit' (or "
                "train_on_workspace / load) before predicting."
            )

    def score(self, feats: Features) -> Scores:
        """All model outputs for prepared features."""
        self._check()
        with one_thread():
            return self._score(feats)

    @property
    def version(self) -> str:
        """:data:`MODEL_VERSION`, plus ``+<calibration id>`` once ``beacon retrain`` recalibrated it."""
        recal = getattr(self, "recalibration_", None)
        return f"{MODEL_VERSION}+{recal['id']}" if recal else MODEL_VERSION

    def raw_scores(self, feats: Features) -> np.ndarray:
        """The stacker's probabilities before calibration, shape (n,)."""
        self._check()
        with one_thread():
            stacked = np.column_stack([m.predict_proba(feats) for m in self.members_.values()])
            return np.asarray(self.stacker_.predict_proba(stacked), dtype=float)

    @property
    def training_history(self) -> AccountHistory:
        """The account history as of training (:attr:`history_` may be newer, :meth:`with_posts`)."""
        return self.training_history_ or self.history_

    def trained_until(self) -> dict[str, int]:
        """Each account's last post the model learned from (epoch seconds)."""
        self._check()
        return {a: int(t[-1]) for a, t in self.training_history.times.items() if len(t)}

    def with_posts(self, posts: pd.DataFrame) -> EngagementModel:
        """A copy that reads the account context of drafts from ``posts`` too.

        A draft's context (the account's trailing bar, recent hit rate, posting
        frequency) must come from the account's latest posts, as it does for every
        post in training and evaluation; the saved history stops where training did.
        Members, calibration and :meth:`trained_until` stay as they are, and
        :meth:`save` keeps writing the training history.

        Args:
            posts: Canonical posts (account keyed as in training, posted_at, likes,
                comments, shares), e.g. :func:`~analytics.engagement.keyed_posts`.
        """
        import copy

        self._check()
        check_posts(posts, HISTORY_COLUMNS)
        twin = copy.copy(self)
        twin.training_history_ = self.training_history
        twin.history_ = self.training_history.merged(posts)
        return twin

    def with_calibrator(self, calibrator: Calibrator, info: dict[str, Any]) -> EngagementModel:
        """A copy answering through ``calibrator``; ``info`` (with an ``id``) is saved with it."""
        import copy

        self._check()
        twin = copy.copy(self)
        twin.calibrator_ = calibrator
        twin.recalibration_ = dict(info)
        return twin

    def score_variants(self, feats: Features) -> tuple[Scores, np.ndarray]:
        """Every output for the first row, only the calibrated ensemble for all rows.

        For an explanation: row 0 is the draft, the other rows its variants, which
        need neither the regression head nor the Bayesian combination.

        Returns:
            (scores of row 0, each array of shape (1,); ensemble of shape (n,)).
        """
        self._check()
        with one_thread():
            member_p, stacked, ensemble = self._ensemble(feats)
            first = Scores(
                {name: p[:1] for name, p in member_p.items()},
                ensemble[:1],
                self.bmc_.predict_proba(stacked[:1]),
                self.head_.predict(feats.rows([0])),
            )
        return first, ensemble

    def _ensemble(self, feats: Features) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Member probabilities, their stacked matrix (n, n_members) and the ensemble (n,)."""
        member_p = {name: m.predict_proba(feats) for name, m in self.members_.items()}
        stacked = np.column_stack([member_p[name] for name in self.members_])
        return member_p, stacked, self.calibrator_.transform(self.stacker_.predict_proba(stacked))

    def _score(self, feats: Features) -> Scores:
        member_p, stacked, ensemble = self._ensemble(feats)
        return Scores(
            member_p, ensemble, self.bmc_.predict_proba(stacked), self.head_.predict(feats)
        )

    def draft_rows(self, drafts: Sequence[Draft], now: datetime | None = None) -> pd.DataFrame:
        """Drafts as prepared rows: account context from the stored history."""
        self._check()
        now = now or datetime.now(UTC).replace(tzinfo=None)
        records = []
        for draft in drafts:
            account = self.resolve_account(draft.account)
            when = pd.Timestamp(draft.posted_at or now)
            context = self.history_.context(account, when)
            records.append(
                {
                    "account": account,
                    "text": draft.text,
                    "posted_at": when,
                    "media_type": draft.media_type,
                    **context,
                }
            )
        return pd.DataFrame.from_records(records)

    def resolve_account(self, account: str | None) -> str:
        """The account a draft belongs to (the only known one when ``None``)."""
        known = list(self.history_.times)
        if account is None:
            if len(known) == 1:
                return known[0]
            raise AnalysisInputError(
                f"say which account the draft is for: the model knows {len(known)} accounts"
            )
        return account

    def predict(self, drafts: Sequence[Draft], now: datetime | None = None) -> list[Prediction]:
        """Calibrated predictions for drafts, in input order."""
        rows = self.draft_rows(drafts, now)
        return self.predictions(rows, self.score(self.features(rows)))

    def predictions(self, rows: pd.DataFrame, scores: Scores) -> list[Prediction]:
        low_q, high_q = self.head_.residual_quantiles_
        out = []
        for i in range(len(rows)):
            centre = float(scores.log_engagement[i])
            out.append(
                Prediction(
                    probability=float(scores.ensemble[i]),
                    expected_engagement=float(np.expm1(max(centre, 0.0))),
                    interval=(
                        float(np.expm1(max(centre + low_q, 0.0))),
                        float(np.expm1(max(centre + high_q, 0.0))),
                    ),
                    members={k: float(v[i]) for k, v in scores.members.items()},
                    account_history=int(rows["history_len"].iloc[i]),
                )
            )
        return out

    def warm_up(self) -> None:
        """Build now what the first explanation would build: the feature pipeline (VADER's
        lexicon), the SHAP TreeExplainer (importing shap is slow) and the encoder."""
        from analytics.embeddings import get_encoder
        from analytics.engagement._explain import tree_explainer

        self._check()
        self._pipeline()
        if "lightgbm" in self.members_:
            tree_explainer(self)
        get_encoder()

    def explain(self, draft: Draft, now: datetime | None = None) -> Explanation:
        """Probability, three strongest reasons (grouped SHAP) and helpful/harmful words."""
        from analytics.engagement._explain import explain

        return explain(self, draft, now)

    def recommend(
        self, draft: Draft, now: datetime | None = None, top: int = 3
    ) -> list[Recommendation]:
        """Changes (time in the next 7 days, media, hashtags, length) that raise the probability."""
        from analytics.engagement._explain import recommend

        return recommend(self, draft, now, top)

    # ----------------------------------------------------------------- persistence
    def save(self, folder: Path) -> None:
        """Write the model to ``folder`` (JSON, npz, LightGBM text, safetensors; no pickle)."""
        self._check()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for member in self.members_.values():
            member.save(folder)
        self.head_.save(folder)
        self.save_ensemble(folder)

    def save_ensemble(self, folder: Path) -> None:
        """Write only the combiner, calibrator and account history (members untouched)."""
        folder = Path(folder)
        history = self.training_history
        cal_rows = {}
        if getattr(self, "calibration_scores_", None) is not None:
            cal_rows = {
                "cal_scores": self.calibration_scores_,
                "cal_labels": self.calibration_labels_,
            }
        accounts = list(history.times)
        save_arrays(
            folder / "ensemble.npz",
            {
                "stack_coef": self.stacker_.coef_,
                "bmc_weights": self.bmc_.weights_,
                "cal_x": self.calibrator_.x_,
                "cal_y": self.calibrator_.y_,
                **cal_rows,
                **{f"times_{i}": history.times[a] for i, a in enumerate(accounts)},
                **{f"values_{i}": history.values[a] for i, a in enumerate(accounts)},
            },
        )
        meta = {
            "version": MODEL_VERSION,
            "params": {
                "n_folds": self.n_folds,
                "calibration": self.calibration,
                "members": list(self.members),
                "random_state": self.random_state,
            },
            "stack_intercept": self.stacker_.intercept_,
            "calibration_method": self.calibrator_.method_,
            "platt": [self.calibrator_.a_, self.calibrator_.b_],
            "base_rate": self.base_rate_,
            "n_train": self.n_train_,
            "accounts": accounts,
            "hashtags": self.hashtags_,
            "columns": self.columns_,
            "scorer": (self.scorer or VaderScorer()).version,
            "recalibration": getattr(self, "recalibration_", None),
        }
        (folder / "model.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(
        cls, folder: Path, cache_dir: Path | None = None, scorer: SentimentScorer | None = None
    ) -> EngagementModel:
        """Read a model written by :meth:`save`.

        Raises:
            ModelLoadError: The folder is missing files or holds another version.
        """
        folder = Path(folder)
        try:
            meta = json.loads((folder / "model.json").read_text())
        except (OSError, ValueError) as error:
            raise ModelLoadError(
                f"no engagement model at {folder} ({error}); train one first"
            ) from None
        if meta.get("version") != MODEL_VERSION:
            raise ModelLoadError(
                f"{folder} holds model version {meta.get('version')!r}, expected {MODEL_VERSION!r}; "
                "retrain it with `beacon engagement train` (or `beacon demo` for the demo brand)"
            )
        params = meta["params"]
        model = cls(
            params["n_folds"],
            params["calibration"],
            tuple(params["members"]),
            cache_dir,
            scorer,
            params["random_state"],
        )
        try:
            model.members_ = {name: member_type(name).load(folder) for name in params["members"]}
            model.head_ = RegressionHead.load(folder)
            arrays = load_arrays(folder / "ensemble.npz")
        except (OSError, KeyError, ValueError) as error:
            raise ModelLoadError(f"engagement model at {folder} is incomplete: {error}") from None
        model.stacker_ = StackingCombiner()
        model.stacker_.coef_, model.stacker_.intercept_ = (
            arrays["stack_coef"],
            meta["stack_intercept"],
        )
        model.bmc_ = BayesianCombiner()
        model.bmc_.weights_ = arrays["bmc_weights"]
        cal = Calibrator(params["calibration"])
        cal.method_, (cal.a_, cal.b_) = meta["calibration_method"], meta["platt"]
        cal.x_, cal.y_ = arrays["cal_x"], arrays["cal_y"]
        model.calibrator_ = cal
        model.calibration_scores_ = arrays.get("cal_scores")
        model.calibration_labels_ = arrays.get("cal_labels")
        model.recalibration_ = meta.get("recalibration")
        history = AccountHistory()
        for i, account in enumerate(meta["accounts"]):
            history.times[account] = arrays[f"times_{i}"]
            history.values[account] = arrays[f"values_{i}"]
        model.history_ = history
        model.base_rate_, model.n_train_ = meta["base_rate"], meta["n_train"]
        model.hashtags_, model.columns_ = meta["hashtags"], meta["columns"]
        return model


def _top_hashtags(prepared: pd.DataFrame, top: int = 10) -> dict[str, list[str]]:
    """Each account's most used hashtags (lower-case), most frequent first."""
    result: dict[str, list[str]] = {}
    for account, texts in prepared.groupby("account")["text"]:
        counts: Counter[str] = Counter()
        for text in texts.fillna(""):
            counts.update(tag.lower() for tag in HASHTAG.findall(str(text)))
        result[str(account)] = [tag for tag, _ in counts.most_common(top)]
    return result
