"""Digests of the demo workspace, built once per session on a private copy."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from beacon.digest import Digest, IsoWeek, build_digest
from beacon.scoring import current_scorer
from foundation.workspace import Workspace
from tests.conftest import DemoWorkspace

#: Weeks of the demo (ending 30 Nov 2026) with something planted in them.
SPIKE_WEEK = IsoWeek(2026, 43)  # the negative spike on Twitter/X, 21-23 Oct
EXPERIMENT_WEEK = IsoWeek(2026, 46)  # the three experiments end on 14 Nov
LAST_WEEK = IsoWeek(2026, 48)  # the last complete week before the demo's end date


@dataclass(frozen=True)
class DemoDigests:
    """A writable copy of the demo workspace and the digests built on it."""

    workspace: Workspace
    model_version: str
    digests: dict[IsoWeek, Digest]


@pytest.fixture(scope="session")
def demo_digests(demo: DemoWorkspace, tmp_path_factory: pytest.TempPathFactory) -> DemoDigests:
    """Digests of the spike, experiment and last weeks (no engagement model)."""
    path = tmp_path_factory.mktemp("digest") / "beacon.duckdb"
    shutil.copy(demo.workspace.path, path)
    workspace = Workspace(path)
    version = current_scorer().version
    digests = {
        week: build_digest(workspace, week, model_version=version)
        for week in (SPIKE_WEEK, EXPERIMENT_WEEK, LAST_WEEK)
    }
    return DemoDigests(workspace, version, digests)
