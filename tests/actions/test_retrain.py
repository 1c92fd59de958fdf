"""A correction given in chat changes the retrained sentiment model's answer on that post."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from typer.testing import CliRunner

from actions.core import ActionFeedbackStatus, ActionRecordFeedback
from actions.services import Services
from analytics.exceptions import AnalysisInputError
from analytics.sentiment import LABELS, BeaconSentimentModel, load_default_scorer
from beacon.cli import app
from beacon.retrain import (
    StructuredCorrection,
    feedback_row,
    retrain_sentiment,
    sentiment_corrections,
    sentiment_model_dir,
)
from foundation.exceptions import InputError
from foundation.settings import get_settings
from foundation.workspace import utc_now
from tests.actions.conftest import FIXTURES

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def _say(action: object, text: str, audience: str = "staff") -> str:
    """Run an action on the saved feedback tracker with ``text`` as the user's message."""
    data = json.loads((FIXTURES / "staff_feedback_correction.json").read_text())
    data["latest_message"]["text"] = data["events"][-1]["text"] = text
    for holder in (data["latest_message"], data["events"][-1]["parse_data"], data["events"][-1]):
        holder["metadata"] = {"audience": audience}
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, Tracker.from_dict(data), {}))  # type: ignore[attr-defined]
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def _misjudged_post(services: Services) -> tuple[str, str, str]:
    """A demo complaint, its text, and the label a marketer would correct the model to.

    Among the complaints about soles peeling off, the one the model is least sure about;
    the correction is its runner-up label, so whichever model is committed, the
    correction disagrees with it (the kind of borderline answer people correct).
    """
    with services.workspace.connect() as con:
        rows = con.execute(
            "SELECT post_id, text FROM posts WHERE text ILIKE '%peeling%' ORDER BY post_id"
        ).fetchall()
    proba = load_default_scorer().predict_proba([text for _, text in rows])
    ranked = np.sort(proba, axis=1)
    row = int(np.argmin(ranked[:, -1] - ranked[:, -2]))
    runner_up = LABELS[int(np.argsort(proba[row])[-2])]
    return str(rows[row][0]), str(rows[row][1]), runner_up


def test_staff_correction_of_a_post_is_stored_for_learning(services: Services) -> None:
    post_id, _, wanted = _misjudged_post(services)
    reply = _say(ActionRecordFeedback(), f"{post_id} is {wanted}, you got that wrong")
    assert f"noted that post {post_id} is {wanted}" in reply and "1 correction(s)" in reply
    with services.workspace.connect() as con:
        learned = sentiment_corrections(con)
    assert [(c.post_id, c.label) for c in learned] == [(post_id, wanted)]


def test_customer_corrections_never_teach_the_model(services: Services) -> None:
    post_id, _, wanted = _misjudged_post(services)
    reply = _say(ActionRecordFeedback(), f"{post_id} is {wanted}, that's wrong", "customer")
    assert "noted that post" not in reply
    with services.workspace.connect() as con:
        assert sentiment_corrections(con) == []
        (stored,) = con.execute("SELECT correction FROM feedback").fetchone() or ("",)
    assert stored == f"{post_id} is {wanted}, that's wrong"


def _shaped_like_a_correction(post_id: str, label: str, target: str = "sentiment") -> str:
    """A chat message that is valid JSON in the shape v1 stored structured corrections in."""
    note = f"that's wrong, it should be {label}"
    return json.dumps({"target": target, "post_id": post_id, "label": label, "note": note})


def _other_post(services: Services, post_id: str) -> str:
    with services.workspace.connect(read_only=True) as con:
        row = con.execute(
            "SELECT post_id FROM posts WHERE post_id <> ? ORDER BY post_id LIMIT 1", [post_id]
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_customer_message_shaped_like_a_correction_teaches_nothing(
    services: Services,
) -> None:
    post_id, _, wanted = _misjudged_post(services)
    message = _shaped_like_a_correction(post_id, wanted)
    reply = _say(ActionRecordFeedback(), message, "customer")
    assert "noted that post" not in reply
    with services.workspace.connect() as con:
        assert sentiment_corrections(con) == []
        stored = con.execute("SELECT verdict, correction FROM feedback").fetchall()
    assert stored == [("correction", message)]  # kept for the team, as words
    with pytest.raises(InputError, match="no sentiment corrections to learn from yet"):
        retrain_sentiment(services.settings)


def test_a_correction_with_an_unknown_label_is_refused_in_chat_and_never_breaks_retrain(
    services: Services,
) -> None:
    post_id, _, wanted = _misjudged_post(services)
    other = _other_post(services, post_id)
    reply = _say(ActionRecordFeedback(), _shaped_like_a_correction(other, "furious"))
    assert "negative, neutral or positive" in reply and f"'{other} is negative" in reply
    assert "noted that post" not in reply
    _say(ActionRecordFeedback(), _shaped_like_a_correction(other, "furious"), "customer")
    _say(ActionRecordFeedback(), f"{post_id} is {wanted}, you got it wrong")
    report = retrain_sentiment(services.settings)
    assert report.corrections == 1 and [e.post_id for e in report.examples] == [post_id]


def test_retrain_says_in_one_line_which_stored_corrections_it_skipped(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows no chat turn can write any more (an unknown label, a v1 JSON correction)."""
    post_id, _, wanted = _misjudged_post(services)
    other = _other_post(services, post_id)
    _say(ActionRecordFeedback(), f"{post_id} is {wanted}, you got it wrong")
    unknown = feedback_row(
        feedback_id="bad-label",
        conversation_id="staff-1",
        audit_id=None,
        verdict="correction",
        text="…",
        audience="staff",
        correction=StructuredCorrection("sentiment", other, "furious"),
    )
    legacy = [
        "v1-row",
        utc_now(),
        "customer:abc",
        None,
        "correction",
        _shaped_like_a_correction(other, "positive"),
        "…",
    ]
    services.workspace.keep("feedback", [unknown])
    services.workspace.keep("feedback", [[*legacy, None, None, None, None]])
    monkeypatch.setenv("BEACON_HOME", str(services.settings.home))
    monkeypatch.setenv("BEACON_WORKSPACE", str(services.settings.workspace_path))
    monkeypatch.delenv("BEACON_DATA_DIR", raising=False)  # ../shared/data when it is there
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["retrain", "--target", "sentiment", "--no-rescore", "--eval-sample", "50"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("Skipped")]
    assert line.startswith("Skipped 2 stored correction(s) — sentiment: ")
    assert "1 with an unknown label" in line and "1 stored before corrections" in line
    assert "Learned 1 sentiment correction(s)" in result.stderr


def test_a_staff_correction_without_a_known_label_gets_the_valid_labels(
    services: Services,
) -> None:
    post_id, _, _ = _misjudged_post(services)
    reply = _say(ActionRecordFeedback(), f"that's wrong, {post_id} is mixed really")
    assert "negative, neutral or positive" in reply
    assert f"'{post_id} actually did badly'" in reply
    with services.workspace.connect() as con:
        assert sentiment_corrections(con) == []
        assert con.execute("SELECT count(*) FROM feedback").fetchone() == (1,)


def test_unknown_post_or_ambiguous_label_is_kept_as_text(services: Services) -> None:
    _say(ActionRecordFeedback(), "tw-nosuchpost is negative, that's wrong")
    post_id, _, _ = _misjudged_post(services)
    _say(ActionRecordFeedback(), f"wrong, {post_id} is negative or positive")
    with services.workspace.connect() as con:
        assert sentiment_corrections(con) == []
        assert con.execute("SELECT count(*) FROM feedback").fetchone() == (2,)


def test_retrain_learns_the_correction_and_the_bot_reports_it(
    services: Services, tmp_path: Path
) -> None:
    post_id, text, wanted = _misjudged_post(services)
    _say(ActionRecordFeedback(), f"{post_id} is {wanted}, you got it wrong")
    report = retrain_sentiment(services.settings)
    assert report.accepted, report.text()
    assert report.guard_before - report.guard_after <= 0.02
    assert report.corrections == 1 and report.fixed_before == 0 and report.fixed_after == 1
    assert report.examples[0].before != wanted and report.examples[0].after == wanted
    assert report.heldout_split is None and "absent" in report.text()
    retrained = BeaconSentimentModel.load(sentiment_model_dir(services.settings))
    assert retrained.predict([text]) == [wanted]
    assert retrained.version != load_default_scorer().version
    assert retrained.corrections_ == 1
    status = _say(ActionFeedbackStatus(), "what did my corrections change")
    assert (
        "1 correction(s)" in status
        and f"{post_id} {report.examples[0].before} → {wanted}" in status
    )


def test_a_correction_that_would_harm_the_model_is_not_adopted(services: Services) -> None:
    """A confident complaint "corrected" to positive: the model must not follow blindly."""
    with services.workspace.connect() as con:
        rows = con.execute(
            "SELECT post_id, text FROM posts WHERE text ILIKE '%terrible service%' ORDER BY post_id"
        ).fetchall()
    proba = load_default_scorer().predict_proba([text for _, text in rows])
    post_id = str(rows[int(np.argmax(proba[:, LABELS.index("negative")]))][0])
    _say(ActionRecordFeedback(), f"{post_id} is positive, you got it wrong")
    report = retrain_sentiment(services.settings)
    assert not report.accepted and report.refusal()
    assert "Not adopted" in report.text()
    assert not (sentiment_model_dir(services.settings) / "beacon-sentiment.json").exists()
    status = _say(ActionFeedbackStatus(), "what did my corrections change")
    assert "was not adopted" in status and "still waiting" in status


def test_retrain_without_corrections_says_how_to_give_one(services: Services) -> None:
    with pytest.raises(InputError, match="no sentiment corrections to learn from yet"):
        retrain_sentiment(services.settings)


@pytest.mark.shared_data
def test_retrain_reports_the_heldout_split(services: Services, shared_data_dir: Path) -> None:
    post_id, _, wanted = _misjudged_post(services)
    _say(ActionRecordFeedback(), f"{post_id} is {wanted}, you got it wrong")
    report = retrain_sentiment(services.settings, data_dir=shared_data_dir, eval_sample=300)
    assert report.heldout_split is not None
    assert report.heldout_before is not None and report.heldout_after is not None
    # Adopted only when it did not lose more than MAX_REGRESSION on tweets it never saw.
    if report.accepted:
        assert report.heldout_before - report.heldout_after <= 0.02


def test_learn_corrections_rejects_bad_input() -> None:
    model = load_default_scorer()
    with pytest.raises(AnalysisInputError, match="one label per corrected text"):
        model.learn_corrections(["a"], [])
    with pytest.raises(AnalysisInputError, match="labels must be in"):
        model.learn_corrections(["a"], ["angry"])
    assert set(model.predict(["fine"])) <= set(LABELS)
