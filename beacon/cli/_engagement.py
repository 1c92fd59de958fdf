"""``beacon engagement ...``: train the engagement ensemble, evaluate it on a time split."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command
from foundation.exceptions import InputError

if TYPE_CHECKING:
    from analytics.engagement import EngagementModel

app = typer.Typer(
    help="Engagement: will a draft land in its account's top 30%? Train and evaluate the ensemble.",
    no_args_is_help=True,
)

FORMAT_OPTION = typer.Option(
    "--format", help="Ingest format of the files (see `beacon ingest --help`)."
)


class Calibration(str, Enum):
    """Calibration of the pooled members (``analytics.engagement._combine.Calibrator``)."""

    none = "none"
    platt = "platt"
    isotonic = "isotonic"
    auto = "auto"


CALIBRATION_OPTION = typer.Option(
    "--calibration",
    help="none: the members' own probability scale (default, see docs/benchmarks/engagement.md); "
    "platt / isotonic / auto: a map fitted on the out-of-fold rows.",
)

SEED_OPTION = typer.Option("--seed", help="Random seed of every member.")

#: Torch threads the members train with.
_TORCH_THREADS = 2


def _run_with_torch_threads(body: Callable[[], None]) -> None:
    """:func:`run_command` with torch set to :data:`_TORCH_THREADS` threads first."""

    def threaded() -> None:
        import torch

        torch.set_num_threads(_TORCH_THREADS)
        body()

    run_command(threaded)


def _settings_paths() -> tuple[Path, Path]:
    from foundation.settings import get_settings

    settings = get_settings()
    return settings.engagement_cache_dir, settings.engagement_model_dir


def _new_model(calibration: Calibration, seed: int, cache: Path) -> EngagementModel:
    """The unfitted ensemble the ``--calibration`` and ``--seed`` options ask for."""
    from analytics.engagement import EngagementModel

    return EngagementModel(calibration=calibration.value, cache_dir=cache, random_state=seed)


def _load(paths: list[Path], fmt: str) -> pd.DataFrame:
    from analytics.engagement import read_posts

    frames = []
    for path in paths:
        if not path.exists():
            raise InputError(f"file not found: {path}; pass a posts CSV")
        frames.append(read_posts(path, fmt))
    return pd.concat(frames, ignore_index=True).drop_duplicates("post_id")


@app.command()
def evaluate(
    train: Annotated[
        list[Path] | None, typer.Option("--train", help="Training posts (earlier); repeatable.")
    ] = None,
    test: Annotated[
        list[Path] | None, typer.Option("--test", help="Test posts (later); repeatable.")
    ] = None,
    input_file: Annotated[
        list[Path] | None,
        typer.Option("--input", help="One posts file (repeatable) split by time."),
    ] = None,
    test_fraction: Annotated[
        float, typer.Option("--test-fraction", help="Latest share of --input posts held out.")
    ] = 0.25,
    fmt: Annotated[str, FORMAT_OPTION] = "canonical",
    reliability: Annotated[
        Path, typer.Option("--reliability", help="Where to write the reliability diagram PNG.")
    ] = Path("engagement-reliability.png"),
    seed: Annotated[int, SEED_OPTION] = 0,
    calibration: Annotated[Calibration, CALIBRATION_OPTION] = Calibration.none,
    json_output: bool = JSON_OPTION,
) -> None:
    """Members vs the ensemble on later posts: AUC, PR-AUC, Brier, ECE, MAE (log)."""

    def body() -> None:
        from analytics.engagement import evaluate, time_split

        if input_file:
            if train or test:
                raise InputError(
                    "give either --input (with --test-fraction) or --train and --test, not both"
                )
            train_posts, test_posts = time_split(_load(input_file, fmt), test_fraction)
        elif train and test:
            train_posts, test_posts = _load(train, fmt), _load(test, fmt)
        else:
            raise InputError(
                "give --train FILE and --test FILE, or --input FILE with --test-fraction"
            )
        cache, _ = _settings_paths()
        with _working(
            f"training on {len(train_posts)} posts, testing on {len(test_posts)}…", json_output
        ):
            report, _model = evaluate(
                train_posts,
                test_posts,
                _new_model(calibration, seed, cache),
                reliability_path=reliability,
                title=fmt,
            )
        payload = report.to_dict()
        if json_output:
            print_json(payload)
            return
        typer.echo(
            f"train {report.n_train} posts, test {report.n_test} posts (top-30% rate {report.base_rate:.0%})"
        )
        rows = {
            **{f"member {k}": v for k, v in report.members.items()},
            "ensemble": report.ensemble,
            **report.combiners,
            "naive trailing median": report.baseline,
        }
        typer.echo(f"{'model':32} {'AUC':>6} {'PR-AUC':>7} {'Brier':>6} {'ECE':>6}")
        for name, m in rows.items():
            typer.echo(f"{name:32} {m.roc_auc:6.3f} {m.pr_auc:7.3f} {m.brier:6.3f} {m.ece:6.3f}")
        typer.echo(
            f"regression head MAE (log1p engagement): {report.ensemble.mae_log:.3f} "
            f"vs trailing median {report.baseline.mae_log:.3f}"
        )
        typer.echo(f"reliability diagram: {reliability}")

    _run_with_torch_threads(body)


def _working(message: str, quiet: bool) -> contextlib.AbstractContextManager[object]:
    """A spinner on stderr while a long fit runs; nothing under ``--json``."""
    return contextlib.nullcontext() if quiet else console.status(message, spinner="dots")


@app.command()
def train(
    input_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--input", help="Posts files (repeatable); default: the workspace's own posts."
        ),
    ] = None,
    fmt: Annotated[str, FORMAT_OPTION] = "canonical",
    out: Annotated[
        Path | None, typer.Option("--out", help="Model folder (default var/models/engagement).")
    ] = None,
    seed: Annotated[int, SEED_OPTION] = 0,
    calibration: Annotated[Calibration, CALIBRATION_OPTION] = Calibration.none,
    json_output: bool = JSON_OPTION,
) -> None:
    """Fit the ensemble on posts files, or on the workspace's own posts, and save it (no pickle)."""

    def body() -> None:
        from analytics.engagement import EngagementModel, keyed_posts

        cache, default_out = _settings_paths()
        target = out or default_out
        if input_file:
            posts = _load(input_file, fmt)
            new_model = _new_model(calibration, seed, cache)
        else:
            from foundation.settings import get_settings
            from foundation.workspace import Workspace

            # Read, then fit with the workspace closed: batch jobs may write meanwhile.
            with Workspace(get_settings().workspace_path).connect(read_only=True) as con:
                posts = keyed_posts(con)
            new_model = EngagementModel(cache_dir=cache, random_state=seed)
        with _working(f"training the engagement ensemble on {len(posts)} posts…", json_output):
            model = new_model.fit(posts)
        model.save(target)
        payload = {
            "model": str(target),
            "n_train": model.n_train_,
            "accounts": len(model.history_.times),
            "base_rate": round(model.base_rate_, 4),
        }
        if json_output:
            print_json(payload)
        else:
            typer.echo(f"saved the engagement model to {target} ({model.n_train_} labelled posts)")

    _run_with_torch_threads(body)
