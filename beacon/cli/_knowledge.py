"""``beacon knowledge ...`` commands: index documents or the brand's posts, ask a question."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, progress, run_command

app = typer.Typer(
    help="Answer questions from the team's documents, with sources.", no_args_is_help=True
)

_STAGES = {
    "reading": "Reading documents",
    "embedding": "Embedding passages",
    "posts": "Embedding posts",
}


class _ProgressBars:
    """Adapts ``build_index``'s ``progress(stage, done, total)`` to rich progress bars.

    A context manager: the open bar is closed on leaving the block, also on an error.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._stack = ExitStack()
        self._stage: str | None = None
        self._done = 0
        self._advance: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self._stack.close()
            self._stack = ExitStack()
            self._advance = self._stack.enter_context(
                progress(_STAGES.get(stage, stage), total, enabled=self.enabled)
            )
            self._stage, self._done = stage, 0
        self._advance(done - self._done)
        self._done = done

    def __enter__(self) -> _ProgressBars:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()


def _index_dir(index: Path | None) -> Path:
    from knowledge import default_index_dir

    return index if index is not None else default_index_dir()


@app.command("index")
def index_command(
    docs: Path = typer.Option(..., "--docs", help="Folder of .md, .txt, .html, .pdf, .csv files."),
    index: Path | None = typer.Option(
        None, "--index", help="Index folder (default: <BEACON_HOME>/knowledge)."
    ),
    collection: str | None = typer.Option(
        None,
        "--collection",
        help="Put every document in this collection (default: public/ → public, "
        "everything else → internal).",
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Index a folder; only new or changed files are embedded, deleted ones are removed."""

    def body() -> None:
        from knowledge import build_index, default_collection_rule, fixed_collection

        rule = fixed_collection(collection) if collection else default_collection_rule
        with _ProgressBars(enabled=True) as bars:
            report = build_index(docs, _index_dir(index), collection_rule=rule, progress=bars)
        if json_output:
            print_json(report.to_dict())
            return
        typer.echo(
            f"indexed {report.docs_dir} into {report.index_dir}: {report.added} added, "
            f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged; "
            f"{report.chunks} passages ({report.index_kind} index) in {report.seconds:.1f} s"
        )
        for source, reason in report.failed:
            console.print(f"skipped {source}: {reason}")

    run_command(body)


@app.command("ask")
def ask_command(
    question: str = typer.Argument(..., help="The question, in quotes."),
    index: Path | None = typer.Option(
        None, "--index", help="Index folder (default: <BEACON_HOME>/knowledge)."
    ),
    collection: str | None = typer.Option(
        None, "--collection", help="Only search this collection (e.g. public)."
    ),
    k: int = typer.Option(5, "--k", min=1, max=50, help="Passages to return."),
    folder: str | None = typer.Option(
        None, "--folder", help="Only documents under this folder of the indexed one."
    ),
    doc_type: str | None = typer.Option(
        None, "--type", help="Only markdown, html, pdf, text or csv documents."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Answer a question from the indexed documents, citing file and section."""

    def body() -> None:
        from knowledge import KnowledgeBase, chat_model_from_env

        kb = KnowledgeBase.open(_index_dir(index), chat_model=chat_model_from_env())
        answer = kb.ask(question, collection=collection, k=k, folder=folder, doc_type=doc_type)
        if json_output:
            print_json(answer.to_dict())
            return
        typer.echo(answer.answer)
        if answer.passages:
            typer.echo("\nPassages:")
        for passage in answer.passages:
            typer.echo(
                f"  {passage.rank}. {passage.source} — {passage.section_path} "
                f"(score {passage.score:.2f}, {passage.collection})"
            )

    run_command(body)


@app.command("index-posts")
def index_posts_command(
    index: Path | None = typer.Option(
        None, "--index", help="Index folder (default: post-index next to the workspace)."
    ),
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Ignore the existing index (even a damaged one) and embed all."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Index the brand's own workspace posts for "posts like this one" answers.

    Incremental: only new posts or changed texts are embedded; posts no longer in the
    workspace are removed; outcomes (engagement, top 30%) are refreshed.
    """

    def body() -> None:
        from foundation.settings import get_settings
        from foundation.workspace import Workspace
        from knowledge import PostIndex

        settings = get_settings()
        if not settings.workspace_path.is_file():
            raise FileNotFoundError(
                f"no workspace at {settings.workspace_path}; run `beacon demo` or "
                "`beacon ingest FILE` first (or set BEACON_WORKSPACE)"
            )
        with _ProgressBars(enabled=True) as bars:
            report = PostIndex.update(
                Workspace(settings.workspace_path), index, rebuild=rebuild, progress=bars
            )
        if json_output:
            print_json(report.to_dict())
            return
        typer.echo(
            f"indexed our own posts into {report.index_dir}: {report.added} added, "
            f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged; "
            f"{report.posts} posts ({report.embedded} texts embedded, {report.index_kind} index) "
            f"in {report.seconds:.1f} s"
        )

    run_command(body)
