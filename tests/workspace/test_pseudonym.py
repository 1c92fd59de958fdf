"""Pseudonymisation of free text: real probes, and every stored free text goes through it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foundation.exceptions import ConfigError
from foundation.workspace import Pseudonymizer, Workspace, audit_row, record_audit, utc_now

KEY = b"pseudonym-test-key-" + b"0" * 32
CARD = "4111 1111 1111 1111"  # a Visa test number (passes Luhn)
IBAN = "GB82 WEST 1234 5698 7654 32"  # the IBAN registry's British example
PHONE = "+44 20 7946 0958"  # Ofcom's range for drama, written internationally
EMAIL = "jo.bloggs@example.co.uk"
ORDER = "order 1234567890"  # ten digits: the old pattern took it for a phone


@pytest.fixture
def pseudo() -> Pseudonymizer:
    return Pseudonymizer(KEY)


def test_a_card_number_is_replaced_whole(pseudo: Pseudonymizer) -> None:
    text = pseudo.text(f"my card is {CARD} exp 12/27, cvv 123")
    assert "1111" not in text and "<card_" in text
    assert text.endswith("exp 12/27, cvv 123")
    # Without spaces, followed by its security code, or two in a row: still whole.
    assert "1111" not in pseudo.text("4111111111111111 123")
    two = pseudo.text("4111111111111111 5500-0000-0000-0004")
    assert two.count("<card_") == 2 and "0004" not in two


def test_an_iban_with_spaces_is_replaced_whole(pseudo: Pseudonymizer) -> None:
    text = pseudo.text(f"refund to {IBAN} please")
    assert text.startswith("refund to <iban_") and text.endswith("> please")
    assert "WEST" not in text and "5698" not in text and "32 please" not in text
    assert pseudo.text("gb82west12345698765432.") == pseudo.text(IBAN) + "."


def test_an_order_number_is_not_a_phone_number(pseudo: Pseudonymizer) -> None:
    assert pseudo.text(f"where is my {ORDER}?") == f"where is my {ORDER}?"
    assert pseudo.text("order 12345678 and 0.123456789") == "order 12345678 and 0.123456789"


def test_phone_numbers_international_and_national(pseudo: Pseudonymizer) -> None:
    text = pseudo.text(f"call me on {PHONE} or +1 415 555 0132")
    assert "7946" not in text and "415" not in text and text.count("<phone_") == 2
    # The same number written nationally (region GB) has the same pseudonym.
    assert pseudo.text("020 7946 0958") == pseudo.text(PHONE)
    # The demo's fictional mobiles are written internationally and still hidden.
    assert "900123" not in pseudo.text("call me on +44 7700 900123")


def test_email_and_mentions_and_idempotence(pseudo: Pseudonymizer) -> None:
    text = pseudo.text(f"mail {EMAIL} or ping @alice, {CARD}, {IBAN}, {PHONE}")
    assert EMAIL not in text and "@alice" not in text and "<email_" in text
    assert "1111" not in text and "WEST" not in text and "7946" not in text
    assert pseudo.text(text) == text  # placeholders are never taken for numbers


def test_an_unknown_phone_region_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="set BEACON_PHONE_REGION"):
        Pseudonymizer(KEY, region="XX")


def test_audit_rows_keep_no_contact_or_payment_details(pseudo: Pseudonymizer) -> None:
    row = audit_row(
        kind="refused_staff_only",
        inputs={"text": f"I'm {EMAIL}, card {CARD}", "post_id": "4111111111111111"},
        output={"reply": f"call {PHONE}", "ts": "1700000000.123456"},
        conversation_id="customer:abc",
        pseudonymizer=pseudo,
    )
    stored = json.dumps(row, default=str)
    assert EMAIL not in stored and "1111 1111" not in stored and "7946" not in stored
    inputs, output = json.loads(row[5]), json.loads(row[7])
    assert inputs["post_id"] == "4111111111111111"  # identifiers stay as they are
    assert output["ts"] == "1700000000.123456"
    text_row = audit_row(kind="handoff", inputs={}, output=f"IBAN {IBAN}", pseudonymizer=pseudo)
    assert "WEST" not in text_row[7] and "<iban_" in text_row[7]


def test_record_audit_and_the_journal_pseudonymise(tmp_path: Path, pseudo: Pseudonymizer) -> None:
    workspace = Workspace(tmp_path / "ws.duckdb", pseudonymizer=pseudo)
    workspace.record_audit(
        kind="handoff", inputs={"summary": f"customer said {CARD}"}, output=f"mail {EMAIL}"
    )
    workspace.keep(
        "feedback",
        [["f1", utc_now(), "customer:abc", None, "correction", f"it's {IBAN}", f"call {PHONE}"]
         + [None] * 4],
    )  # fmt: skip
    with workspace.connect() as con:
        record_audit(
            con, kind="batch", inputs={"note": f"ring {PHONE}"}, output="ok", pseudonymizer=pseudo
        )
        audit = json.dumps(con.execute("SELECT inputs, output FROM audit").fetchall())
        feedback = con.execute("SELECT correction, text FROM feedback").fetchall()
    assert "1111" not in audit and EMAIL not in audit and "7946" not in audit
    assert "<card_" in audit and "<email_" in audit and "<phone_" in audit
    (correction, text), = feedback  # fmt: skip
    assert correction == f"it's {pseudo.text(IBAN)}" and text == f"call {pseudo.text(PHONE)}"
