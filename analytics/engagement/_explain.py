"""Explanations (grouped SHAP + word occlusion) and recommendations for one draft."""

from __future__ import annotations

import dataclasses
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analytics._threads import one_openmp_thread, one_thread
from analytics.embeddings import get_encoder
from analytics.engagement._combine import logit, sigmoid
from analytics.engagement._features import HASHTAG
from analytics.engagement._image import describe_group
from analytics.engagement._members import LightGBMMember
from analytics.engagement._types import Draft, Explanation, Reason, Recommendation, WordEffect

if TYPE_CHECKING:
    from analytics.engagement._model import EngagementModel

MAX_WORDS = 60
WORD = re.compile(r"\S+")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class TextVectors:
    """One encoder pass over a text: its sentence embedding and what word occlusion needs.

    Attributes:
        embedding: float32 array of shape (384,), the L2-normalised sentence
            embedding (exactly what :func:`analytics.embeddings.encode` returns).
        tokens: float64 array of shape (n_tokens, 384), the token embeddings.
        spans: Character spans of the first :data:`MAX_WORDS` whitespace words.
        owner: int array of shape (n_tokens,), each token's word (-1: special token
            or a word past :data:`MAX_WORDS`).
    """

    embedding: np.ndarray
    tokens: np.ndarray
    spans: list[tuple[int, int]]
    owner: np.ndarray


def encode_text(text: str) -> TextVectors:
    """One encoder pass (one torch thread) giving the sentence and token embeddings.

    MiniLM's sentence embedding is the normalised mean of its token embeddings,
    so dropping a word's tokens from that mean approximates the text without the
    word at no extra encoder cost (the word's influence on the other tokens'
    context stays: that is the approximation).
    """
    encoder = get_encoder()
    with one_thread():
        outputs: Any = encoder.encode([text], output_value=None, convert_to_numpy=False)
    output = outputs[0]
    embedding = output["sentence_embedding"].detach().cpu().numpy().astype(np.float32)
    matrix = output["token_embeddings"].detach().cpu().numpy().astype(np.float64)
    offsets = encoder.tokenizer(
        text, return_offsets_mapping=True, truncation=True, max_length=encoder.max_seq_length
    )["offset_mapping"]
    spans = [(m.start(), m.end()) for m in WORD.finditer(text)][:MAX_WORDS]
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)
    owner = np.full(len(matrix), -1)
    for t, (start, end) in enumerate(offsets[: len(matrix)]):
        if end <= start:
            continue
        inside = np.flatnonzero((starts <= start) & (start < ends))
        if len(inside):
            owner[t] = int(inside[0])
    return TextVectors(embedding, matrix, spans, owner)


def _normalise(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return (vector / norm if norm > 0 else vector).astype(np.float32)


def _describe(group: str, row: pd.Series, draft: Draft) -> str:
    if group == "posting hour":
        return f"{int(row['hour']):02d}:00 UTC"
    if group == "weekday":
        return WEEKDAYS[int(row["weekday"])]
    if group == "hashtag count":
        return f"{int(row['n_hashtags'])}"
    if group == "text length":
        return f"{int(row['n_chars'])} characters"
    if group.endswith(" tone"):
        return f"{row['tone_' + group.split()[0]]:.2f} of the wording"
    if group == "media type":
        return draft.media_type
    if group == "account's recent engagement":
        value = row["trailing_median"]
        return "no history" if np.isnan(value) else f"typical post {np.expm1(value):,.0f}"
    if group == "posting frequency":
        return f"{int(row['posts_7d'])} posts in the 7 days before"
    if group == "text content":
        return "the topic and wording"
    columns = {
        "mentions": "n_mentions",
        "links": "n_links",
        "emoji": "n_emoji",
        "question marks": "n_questions",
        "exclamation marks": "n_exclaims",
    }
    if group in columns:
        return f"{int(row[columns[group]])}"
    if group == "capital letters":
        return f"{row['caps_ratio']:.0%} of letters"
    if group.startswith("image: "):
        return describe_group(group, row)
    return ""


def explain(
    model: EngagementModel, draft: Draft, now: datetime | None = None, top: int = 3
) -> Explanation:
    """Probability, the ``top`` strongest reasons and the words that helped or hurt."""
    rows = model.draft_rows([draft], now)
    text = str(draft.text)
    vectors = model.text_vectors(text)
    tokens, spans, owner = vectors.tokens, vectors.spans, vectors.owner
    variants = [text]
    embeddings = [vectors.embedding]
    for w, (start, end) in enumerate(spans):
        keep = owner != w
        variants.append((text[:start] + text[end:]).strip())
        embeddings.append(_normalise(tokens[keep].mean(axis=0)))
    batch = pd.concat([rows] * len(variants), ignore_index=True)
    batch["text"] = variants
    feats = model.features(batch, np.vstack(embeddings))
    scores, ensemble = model.score_variants(feats)
    prediction = model.predictions(rows, scores)[0]
    p = float(ensemble[0])

    # Grouped SHAP on the LightGBM member (log-odds), turned into points of the ensemble.
    reasons: list[Reason] = []
    lgbm = _trees(model)
    if lgbm is not None:
        phi = _tree_shap(model, lgbm.pre_.tree_matrix(feats.rows([0])))
        columns = lgbm.pre_.columns_ + lgbm.pre_.svd_columns()
        groups = model._pipeline().groups()
        totals: dict[str, float] = {}
        for column, value in zip(columns, phi, strict=True):
            group = groups.get(column, "text content")
            totals[group] = totals.get(group, 0.0) + float(value)
        tabular_row = feats.tabular.iloc[0]
        ranked = sorted(totals.items(), key=lambda item: -abs(item[1]))[:top]
        for group, value in ranked:
            points = 100 * (p - float(sigmoid(logit(np.array([p])) - value)[0]))
            reasons.append(Reason(group, _describe(group, tabular_row, draft), round(points, 1)))

    effects = [
        WordEffect(text[start:end], round(100 * (p - float(ensemble[i + 1])), 1))
        for i, (start, end) in enumerate(spans)
    ]
    helped = sorted((e for e in effects if e.points >= 0.1), key=lambda e: -e.points)[:top]
    hurt = sorted((e for e in effects if e.points <= -0.1), key=lambda e: e.points)[:top]
    return Explanation(prediction, reasons, helped, hurt)


def _trees(model: EngagementModel) -> LightGBMMember | None:
    """The LightGBM member, whose SHAP values give the reasons (``None`` without one)."""
    member = model.members_.get(LightGBMMember.name)
    return member if isinstance(member, LightGBMMember) else None


def tree_explainer(model: EngagementModel) -> Any:
    """The SHAP TreeExplainer of the LightGBM member, built once per fitted booster.

    Raises:
        ValueError: The model was fitted without a ``lightgbm`` member.
    """
    trees = _trees(model)
    if trees is None:
        raise ValueError(
            f"this engagement model has no {LightGBMMember.name!r} member to explain "
            f"(members: {', '.join(model.members_)}); fit it with one"
        )
    booster = trees.booster_
    cached: Any = getattr(model, "_tree_explainer", None)
    if cached is not None and cached[0] is booster:
        return cached[1]
    with warnings.catch_warnings():
        # shap's colour module calls Colormap.set_bad/over/under (soon deprecated) at import.
        warnings.filterwarnings(
            "ignore",
            message="The set_(bad|over|under) function",
            category=PendingDeprecationWarning,
        )
        import shap

    explainer = shap.TreeExplainer(booster)
    model._tree_explainer = (booster, explainer)  # type: ignore[attr-defined]
    return explainer


def _tree_shap(model: EngagementModel, matrix: np.ndarray) -> np.ndarray:
    """SHAP values (log-odds) of the LightGBM member for the first row of ``matrix``."""
    explainer = tree_explainer(model)
    with warnings.catch_warnings():
        # shap notes that its LightGBM binary output format changed; we handle both formats below.
        warnings.filterwarnings(
            "ignore", message="LightGBM binary classifier", category=UserWarning
        )
        with one_openmp_thread():  # shap asks LightGBM for its TreeSHAP values (OpenMP)
            values = explainer.shap_values(matrix[:1])
    if isinstance(values, list):  # older shap: one array per class
        values = values[-1]
    return np.asarray(values, dtype=float).reshape(1, -1)[0]


def _confidence(gain: float, agreement: float) -> str:
    if gain >= 0.05 and agreement >= 0.99:
        return "high"
    if gain >= 0.02 and agreement >= 0.5:
        return "medium"
    return "low"


def recommend(
    model: EngagementModel, draft: Draft, now: datetime | None = None, top: int = 3
) -> list[Recommendation]:
    """Single changes to the draft that raise the calibrated probability most.

    Searched: the posting time (every hour of the next 7 days), adding an image
    or a video, adding the account's own frequent hashtags or removing all
    hashtags, and shortening to the first sentence (flagged as changing meaning).
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    account = model.resolve_account(draft.account)
    draft = dataclasses.replace(draft, account=account, posted_at=draft.posted_at or now)
    start = pd.Timestamp(now).ceil("h").to_pydatetime()
    candidates: list[tuple[str, str, bool, Draft]] = []
    for hours in range(0, 7 * 24):
        when = start + timedelta(hours=hours)
        label = f"Post on {WEEKDAYS[when.weekday()]} at {when:%H:00} UTC"
        candidates.append((label, "time", False, dataclasses.replace(draft, posted_at=when)))
    for media in ("image", "video"):
        if draft.media_type != media:
            candidates.append(
                (
                    f"Add {'an' if media == 'image' else 'a'} {media}",
                    "media",
                    False,
                    dataclasses.replace(draft, media_type=media),
                )
            )
    present = {t.lower() for t in HASHTAG.findall(draft.text)}
    extra = [t for t in model.hashtags_.get(account, []) if t not in present][:2]
    for n in range(1, len(extra) + 1):
        tags = " ".join(extra[:n])
        candidates.append(
            (
                f"Add {tags}",
                "hashtags",
                False,
                dataclasses.replace(draft, text=f"{draft.text} {tags}"),
            )
        )
    if present:
        bare = re.sub(r"\s+", " ", HASHTAG.sub("", draft.text)).strip()
        if bare:
            candidates.append(
                ("Remove the hashtags", "hashtags", False, dataclasses.replace(draft, text=bare))
            )
    sentences = re.split(r"(?<=[.!?])\s+", draft.text.strip())
    if len(sentences) > 1:
        short = sentences[0]
        candidates.append(
            (
                f"Shorten to the first sentence ({len(short)} characters)",
                "length",
                True,
                dataclasses.replace(draft, text=short),
            )
        )

    drafts = [draft] + [c[3] for c in candidates]
    rows = model.draft_rows(drafts, now)
    scores = model.score(model.features(rows))
    before = float(scores.ensemble[0])
    members_before = {k: float(v[0]) for k, v in scores.members.items()}
    found: list[Recommendation] = []
    best_time: Recommendation | None = None
    for i, (change, kind, meaning, changed) in enumerate(candidates, start=1):
        after = float(scores.ensemble[i])
        if after <= before:
            continue
        agreement = float(
            np.mean([scores.members[k][i] > members_before[k] for k in members_before])
        )
        rec = Recommendation(
            change,
            kind,
            before,
            after,
            agreement,
            _confidence(after - before, agreement),
            meaning,
            changed,
        )
        if kind == "time":
            if best_time is None or rec.after > best_time.after:
                best_time = rec
        else:
            found.append(rec)
    if best_time is not None:
        found.append(best_time)
    return sorted(found, key=lambda r: -(r.after - r.before))[:top]
