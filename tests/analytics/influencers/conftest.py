"""Fixtures for the influencer tests: a demo workspace with the planted creators, one ranking.

The real sentence encoder is used (small texts), loaded once per session; an
embedding cache lets several rankings of the same creators share one encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analytics.influencers import (
    CreatorProfile,
    Ranking,
    load_creators_from_workspace,
    rank_creators,
)
from beacon.demo import build_demo
from foundation.workspace import Pseudonymizer, Workspace

END = date(2026, 11, 30)
KEY = b"influencer-test-key-" + b"0" * 32
BRIEF = "trail running shoes"


class CachedEncoder:
    """The shared encoder, memoised per text (tests rank the same creators several times)."""

    def __init__(self) -> None:
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        from analytics.embeddings import encode

        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vector in zip(missing, encode(missing), strict=True):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts])


@dataclass(frozen=True)
class CreatorDemo:
    workspace: Workspace
    manifest: dict[str, Any]
    pseudonymizer: Pseudonymizer
    creators: list[CreatorProfile]


@pytest.fixture(scope="session")
def encoder() -> CachedEncoder:
    import torch

    torch.set_num_threads(2)
    return CachedEncoder()


@pytest.fixture(scope="session")
def creator_demo(tmp_path_factory: pytest.TempPathFactory) -> CreatorDemo:
    """The Trailbird demo plus the planted creators (built once per session; read-only)."""
    path: Path = tmp_path_factory.mktemp("influencers") / "beacon.duckdb"
    workspace = Workspace(path)
    pseudonymizer = Pseudonymizer(KEY)
    # build_demo plants the creators (beacon/demo/_creators.py) and returns their manifest.
    report = build_demo(
        workspace, pseudonymizer, end_date=END, manifest_path=path.with_suffix(".json")
    )
    manifest = report.manifest["creators"]
    with workspace.connect(read_only=True) as con:
        creators = load_creators_from_workspace(con)
    return CreatorDemo(workspace, manifest, pseudonymizer, creators)


@pytest.fixture(scope="session")
def ranking(creator_demo: CreatorDemo, encoder: CachedEncoder) -> Ranking:
    """Every demo creator ranked for a trail-running brief."""
    return rank_creators(
        creator_demo.creators, BRIEF, top_k=len(creator_demo.creators), encoder=encoder
    )
