"""Shared pytest fixtures.

Heavy objects (the sentence encoder, trained models, the demo workspace, the
running servers) are built once per session and handed to tests read-only or
as copies.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from beacon.cli import app
from beacon.demo import build_demo
from beacon.scoring import current_scorer, score_posts
from foundation.settings import get_settings
from foundation.workspace import Pseudonymizer, Workspace

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _shared_data_dir() -> Path | None:
    env = os.environ.get("BEACON_DATA_DIR")
    candidate = Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The real-data folder (``$BEACON_DATA_DIR`` or ../shared/data); skips when absent."""
    path = _shared_data_dir()
    if path is None:
        pytest.skip(
            "real data not found: set BEACON_DATA_DIR or place the shared data at ../shared/data"
        )
    return path


DEMO_END = date(2026, 11, 30)
TEST_KEY = b"test-pseudonym-key"


@dataclass(frozen=True)
class DemoWorkspace:
    """A built, scored demo workspace (read-only for tests; copy it to write)."""

    workspace: Workspace
    manifest: dict[str, Any]
    pseudonymizer: Pseudonymizer
    end_date: date


def build_scored_demo(path: Path, end_date: date) -> DemoWorkspace:
    """Build the demo brand into ``path`` and score it with the current scorer."""
    workspace = Workspace(path)
    pseudonymizer = Pseudonymizer(TEST_KEY)
    report = build_demo(workspace, pseudonymizer, end_date=end_date)
    score_posts(workspace, current_scorer())
    return DemoWorkspace(workspace, report.manifest, pseudonymizer, end_date)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoWorkspace:
    """The demo workspace ending on a fixed date (built once per session)."""
    return build_scored_demo(tmp_path_factory.mktemp("demo") / "beacon.duckdb", DEMO_END)


def copy_demo(demo: DemoWorkspace, folder: Path) -> DemoWorkspace:
    """A private, writable copy of ``demo`` in ``folder``: the workspace and everything
    the demo build wrote beside it (the similar-posts index, the media, the manifest)."""
    shutil.copytree(demo.workspace.path.parent, folder, dirs_exist_ok=True)
    target = folder / demo.workspace.path.name
    return DemoWorkspace(Workspace(target), demo.manifest, demo.pseudonymizer, demo.end_date)


@pytest.fixture
def demo_copy(demo: DemoWorkspace, tmp_path: Path) -> DemoWorkspace:
    """A private, writable copy of the demo workspace (the workspace file alone)."""
    target = tmp_path / "beacon.duckdb"
    shutil.copy(demo.workspace.path, target)
    return DemoWorkspace(Workspace(target), demo.manifest, demo.pseudonymizer, demo.end_date)


@pytest.fixture(scope="session")
def knowledge_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo documents (data/knowledge) indexed once per session."""
    from knowledge import build_index

    index_dir = tmp_path_factory.mktemp("knowledge")
    build_index(PROJECT_ROOT / "data" / "knowledge", index_dir)
    return index_dir


@pytest.fixture(scope="session")
def engagement_dirs(
    demo: DemoWorkspace, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """An engagement ensemble trained on the demo brand's own posts: (model dir, cache dir)."""
    folder = tmp_path_factory.mktemp("engagement")
    return train_engagement(demo.workspace, folder / "model", folder / "cache")


def train_engagement(workspace: Workspace, model_dir: Path, cache_dir: Path) -> tuple[Path, Path]:
    """Train the engagement ensemble on ``workspace`` and save it to ``model_dir``."""
    from analytics.engagement import train_on_workspace

    with workspace.connect() as con:
        model = train_on_workspace(con, cache_dir=cache_dir)
    model.save(model_dir)
    return model_dir, cache_dir


def answered_from_public_pages(text: str) -> bool:
    """Whether a reply is a quote from the public help pages, or says they don't answer it.

    What a customer gets instead of a staff capability (actions/base.py): never a number,
    a name or a quote from anything but the public collection.
    """
    return "From our help pages:" in text or "couldn't find that in our help pages" in text


#: The pseudonymising key of :func:`cli_home`.
CLI_KEY = "cli-test-key-" + "0" * 32


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ``BEACON_HOME`` for a CLI test: its own workspace, :data:`CLI_KEY`, default retention."""
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    monkeypatch.delenv("BEACON_WORKSPACE", raising=False)
    monkeypatch.delenv("BEACON_RETENTION_DAYS", raising=False)
    monkeypatch.setenv("BEACON_PSEUDONYM_KEY", CLI_KEY)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def invoke_cli(*args: str) -> tuple[int, str, str]:
    """Run ``beacon ARGS`` in process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr
