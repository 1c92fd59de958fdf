"""Fixtures for the sentiment tests: the committed model, loaded once per session."""

from __future__ import annotations

import pytest

from analytics.sentiment import BeaconSentimentModel, load_default_scorer


@pytest.fixture(scope="session")
def scorer() -> BeaconSentimentModel:
    """The committed artifact (``artifacts/sentiment``), shared read-only."""
    return load_default_scorer()
