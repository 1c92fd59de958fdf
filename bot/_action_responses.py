"""Check the action server's replies against Rasa's schema with one validator per process.

Runs under Rasa's Python 3.10. Rasa 3.6 checks every reply of the action server
(``RemoteAction._validate_action_result``) with ``jsonschema.validate(reply, schema)``.
That call first validates the *schema itself* against the JSON Schema meta-schema, then
builds a new validator, on every action call. Rasa's response schema (all its event
types) is large, so checking the schema costs many times what checking the reply does,
on Rasa's event loop: with 20 staff asking at once it was the largest single cost of
the Rasa process (``python -m benchmarks.load``, docs/benchmarks/load.md).

:func:`use_one_validator` replaces that method with one that checks the schema and
builds its validator once per process, and otherwise does what Rasa's does: the same
``best_match`` error, the same message suffix, the same ``ValidationError`` raised.
The tracker store (:class:`bot.tracker_store.EncryptedSQLTrackerStore`), which every
Beacon Rasa server starts with, calls it.
"""

from __future__ import annotations

import threading
from typing import Any

#: Rasa's reply schema is a fixed class attribute: one validator per action class.
_validators: dict[Any, Any] = {}
_lock = threading.Lock()


def _validator_for(action_class: Any) -> Any:
    """The validator of ``action_class``'s reply schema, built (and the schema checked) once."""
    from jsonschema.validators import validator_for

    validator = _validators.get(action_class)
    if validator is None:
        with _lock:
            validator = _validators.get(action_class)
            if validator is None:
                schema = action_class.action_response_format_spec()
                cls = validator_for(schema)
                cls.check_schema(schema)
                validator = _validators[action_class] = cls(schema)
    return validator


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Rasa's ``RemoteAction._validate_action_result``, with the validator built once."""
    from jsonschema.exceptions import ValidationError, best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_validator_for(type(self)).iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        "For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def use_one_validator() -> None:
    """Make Rasa check action replies with a validator built once (idempotent)."""
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
