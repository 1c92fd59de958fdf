"""The predict + explain hot path gives what the plain pandas path gives, only faster.

The reference here is the unoptimised route: the public encoder for the sentence
embedding, sentence-transformers' token embeddings for the occluded variants, the
full pandas feature pipeline, LightGBM on its pandas frame, and a fresh
``shap.TreeExplainer`` on that frame.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from analytics.embeddings import encode, get_encoder
from analytics.engagement import Draft, EngagementModel
from analytics.engagement import _explain as explain_module
from analytics.engagement._combine import logit, sigmoid
from analytics.engagement._members import LightGBMMember

NOW = datetime(2026, 12, 1, 8)
TEXTS = (
    "New colourways of the Sprint 3 just dropped. Which one is yours? #trailrunning",
    "Rainy miles still count 🌧️ Tag us in your muddiest run this weekend #trailbird @coach",
    "We are sorry about the shipping delays; every order is on its way now. https://x.example",
)


@pytest.fixture
def model(engagement_dirs: tuple[Path, Path]) -> EngagementModel:
    """A freshly loaded model (its memo and explainer start empty)."""
    return EngagementModel.load(engagement_dirs[0])


def _drafts(model: EngagementModel) -> list[Draft]:
    accounts = list(model.history_.times)
    media = ("none", "image", "video")
    return [
        Draft(
            text,
            account=accounts[i % len(accounts)],
            posted_at=datetime(2026, 12, 5, 9 + i),
            media_type=media[i % 3],
        )
        for i, text in enumerate(TEXTS)
    ]


def _reference(model: EngagementModel, draft: Draft) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Ensemble probability of the draft and of each word-occluded variant; SHAP values of
    the draft, their expected value and the trees' margin."""
    text = draft.text
    rows = model.draft_rows([draft], NOW)
    encoder = get_encoder()
    output = encoder.encode(text, output_value="token_embeddings", convert_to_numpy=False)
    tokens = output.detach().numpy().astype(np.float64)
    offsets = encoder.tokenizer(text, return_offsets_mapping=True, truncation=True)[
        "offset_mapping"
    ]
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    variants, embeddings = [text], [encode([text])[0]]
    for start, end in spans:
        keep = [
            t for t, (a, b) in enumerate(offsets[: len(tokens)]) if b <= a or not (start <= a < end)
        ]
        mean = tokens[keep].mean(axis=0)
        variants.append((text[:start] + text[end:]).strip())
        embeddings.append((mean / np.linalg.norm(mean)).astype(np.float32))
    batch = pd.concat([rows] * len(variants), ignore_index=True)
    batch["text"] = variants
    feats = model.features(batch, np.vstack(embeddings))
    lgbm = model.members_["lightgbm"]
    assert isinstance(lgbm, LightGBMMember)
    members = {}
    for name, member in model.members_.items():
        if member is lgbm:  # the trees on their pandas frame, as before the numpy path
            members[name] = np.asarray(lgbm.booster_.predict(lgbm.frame(feats)), dtype=float)
        else:
            members[name] = member.predict_proba(feats)
    stacked = np.column_stack([members[name] for name in model.members_])
    ensemble = model.calibrator_.transform(model.stacker_.predict_proba(stacked))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap

        explainer = shap.TreeExplainer(lgbm.booster_)
        phi = explainer.shap_values(lgbm.frame(feats.rows([0])))
    phi = np.asarray(phi[-1] if isinstance(phi, list) else phi, dtype=float).reshape(1, -1)[0]
    base = float(np.ravel(explainer.expected_value)[-1])
    margin = float(lgbm.booster_.predict(lgbm.frame(feats.rows([0])), raw_score=True)[0])
    return ensemble, phi, base, margin


def test_explanation_matches_the_reference_path(model: EngagementModel) -> None:
    for draft in _drafts(model):
        explanation = model.explain(draft, now=NOW)
        ensemble, phi, base, margin = _reference(model, draft)
        p = explanation.prediction.probability
        assert p == pytest.approx(ensemble[0], abs=1e-6)
        assert p == pytest.approx(model.predict([draft], now=NOW)[0].probability, abs=1e-6)
        # Word effects are rounded to 0.1 points: within rounding of the reference.
        effects = {(e.word, e.points) for e in explanation.helped + explanation.hurt}
        words = draft.text.split()
        reference = {w: 100 * (ensemble[0] - ensemble[i + 1]) for i, w in enumerate(words)}
        assert effects
        for word, points in effects:
            assert abs(points - reference[word]) <= 0.05 + 1e-6
        # SHAP: the reasons are the reference values grouped, and they add up to the margin.
        assert base + phi.sum() == pytest.approx(margin, abs=1e-6)
        groups = model._pipeline().groups()
        lgbm = model.members_["lightgbm"]
        assert isinstance(lgbm, LightGBMMember)
        pre = lgbm.pre_
        columns = pre.columns_ + pre.svd_columns()
        totals: dict[str, float] = {}
        for column, value in zip(columns, phi, strict=True):
            group = groups.get(column, "text content")
            totals[group] = totals.get(group, 0.0) + float(value)
        for reason in explanation.reasons:
            points = 100 * (p - float(sigmoid(logit(np.array([p])) - totals[reason.feature])[0]))
            assert reason.points == pytest.approx(round(points, 1), abs=1e-9)


def test_predict_then_explain_encodes_the_text_once(
    model: EngagementModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = explain_module.encode_text

    def counting(text: str) -> explain_module.TextVectors:
        calls.append(text)
        return original(text)

    monkeypatch.setattr(explain_module, "encode_text", counting)
    draft = _drafts(model)[0]
    model.predict([draft], now=NOW)
    model.explain(draft, now=NOW)
    model.explain(draft, now=NOW)
    assert calls == [draft.text]
    # The memo is bounded: old texts drop out.
    for i in range(40):
        model.predict([Draft(f"post number {i}", account=draft.account)], now=NOW)
    assert len(calls) == 41
    model.explain(draft, now=NOW)
    assert calls[-1] == draft.text


def test_token_vectors_are_the_encoders_output() -> None:
    text = "Trail day! #trailbird 🌲 see https://x.example"
    vectors = explain_module.encode_text(text)
    np.testing.assert_array_equal(vectors.embedding, encode([text])[0])
    assert vectors.tokens.shape[1] == 384 and vectors.owner.shape == (len(vectors.tokens),)
    assert [text[a:b] for a, b in vectors.spans] == text.split()
    assert set(vectors.owner[vectors.owner >= 0]) == set(range(len(vectors.spans)))


def test_torch_threads_are_restored(model: EngagementModel) -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        draft = _drafts(model)[1]
        model.explain(draft, now=NOW)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_warm_up_builds_the_tree_explainer_once(model: EngagementModel) -> None:
    model.warm_up()
    explainer = explain_module.tree_explainer(model)
    model.explain(_drafts(model)[2], now=NOW)
    assert explain_module.tree_explainer(model) is explainer
