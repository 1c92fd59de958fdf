"""A whole demo installation in one call: what ``beacon demo`` does, for tests and benchmarks too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from beacon.demo._brand import DemoReport, build_demo
from foundation.settings import PROJECT_ROOT, Settings
from foundation.workspace import Pseudonymizer, Workspace, workspace_pseudonymizer

if TYPE_CHECKING:
    from beacon.scoring import ScoreReport
    from knowledge import IndexReport

#: The demo brand's documents (internal and public), indexed for knowledge answers.
DEMO_DOCS = PROJECT_ROOT / "data" / "knowledge"


@dataclass(frozen=True)
class DemoHome:
    """What :func:`build_demo_home` wrote.

    Attributes:
        report: The workspace build (posts, manifest).
        scores: The sentiment scoring run over the new posts.
        knowledge: The document index build.
        engagement_model_dir: Where the trained engagement ensemble was saved.
    """

    report: DemoReport
    scores: ScoreReport
    knowledge: IndexReport
    engagement_model_dir: Path


#: What ``beacon demo`` does, in order (``on_step`` is called after each).
DEMO_STEPS = ("workspace", "scores", "documents", "engagement model")


def build_demo_home(
    settings: Settings,
    *,
    end_date: date,
    seed: int = 7,
    pseudonymizer: Pseudonymizer | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DemoHome:
    """Build the demo workspace in ``settings.workspace_path`` and everything it serves from.

    Idempotent: the workspace is built (or refreshed), new posts are scored by the
    current sentiment model, the demo documents are indexed under
    ``settings.home / "knowledge"`` and the engagement ensemble is trained on the
    brand's own posts into ``settings.engagement_model_dir``.

    Args:
        settings: Where the workspace, the index and the models go.
        end_date: Last day of the demo's six months.
        seed: Random seed of the demo generator.
        pseudonymizer: Keyed hashing of handles; by default the installation's key.
        on_step: Called with each of :data:`DEMO_STEPS` once it is done (progress bars).
    """
    from analytics.engagement import EngagementModel, keyed_posts
    from beacon.scoring import current_scorer, score_posts
    from knowledge import build_index

    done = on_step or (lambda _step: None)
    workspace = Workspace(settings.workspace_path)
    pseudonymizer = pseudonymizer or workspace_pseudonymizer(
        workspace, settings.pseudonym_key(), region=settings.phone_region
    )
    report = build_demo(workspace, pseudonymizer, end_date=end_date, seed=seed)
    done("workspace")
    scores = score_posts(workspace, current_scorer())
    done("scores")
    index = build_index(DEMO_DOCS, settings.home / "knowledge")
    done("documents")
    with workspace.connect(read_only=True) as con:
        posts = keyed_posts(con)
    model = EngagementModel(cache_dir=settings.engagement_cache_dir).fit(posts)
    model.save(settings.engagement_model_dir)
    done("engagement model")
    return DemoHome(report, scores, index, settings.engagement_model_dir)
