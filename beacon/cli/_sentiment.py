"""``beacon sentiment ...`` commands: score a file of texts, rebuild the model."""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, progress, run_command
from beacon.cli._engine import ENGINE_OPTION, MASTER_OPTION, SHARDS_OPTION, Engine, spark_choice
from foundation.exceptions import InputError

app = typer.Typer(
    help="Sentiment: score texts with Beacon's model, or rebuild it.", no_args_is_help=True
)

#: Texts scored per model call (and per progress-bar step).
BATCH_SIZE = 256
_COLUMN_NAME = re.compile(r"[A-Za-z_][\w .-]{0,63}")
DEFAULT_EPOCHS = 2.0
DEFAULT_MAX_SECONDS = 600.0
DEFAULT_TUNED_LAYERS = 2


def read_texts(path: Path) -> tuple[list[str], int]:
    """Texts from a file: one per line, or the ``text`` column of a CSV.

    A ``.csv`` file, or any file whose first line is a CSV header of plain column names
    including ``text``, is read as CSV (quoted multi-line texts allowed); anything else is
    one text per line, empty lines kept as empty texts so rows stay aligned. Bytes that
    are not UTF-8 are replaced with U+FFFD.

    Args:
        path: The input file.

    Returns:
        The texts in file order and how many lines held bytes that were not UTF-8.

    Raises:
        InputError: The file is missing, is a folder, is empty, or is a CSV without a
            ``text`` column.
    """
    if not path.exists():
        raise InputError(f"--input file not found: {path}; pass a text file or a CSV")
    if path.is_dir():
        raise InputError(f"--input must be a file, got the folder {path}")
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    content = raw.decode("utf-8", errors="replace")
    bad_lines = sum("\ufffd" in line for line in content.splitlines())
    if not content.strip():
        raise InputError(f"--input file {path} is empty; expected one text per line or a CSV")
    header = [cell.strip() for cell in next(csv.reader([content.splitlines()[0]]), [])]
    looks_like_header = all(_COLUMN_NAME.fullmatch(cell) for cell in header)
    has_text = "text" in [cell.lower() for cell in header]
    if path.suffix.lower() == ".csv" or (looks_like_header and has_text):
        if not has_text:
            raise InputError(
                f"CSV {path} has no 'text' column (columns: {', '.join(header)[:200]}); "
                "name the column of texts 'text'"
            )
        reader = csv.DictReader(io.StringIO(content, newline=""))
        column = next(name for name in reader.fieldnames or [] if name.strip().lower() == "text")
        return [row.get(column) or "" for row in reader], bad_lines
    return content.splitlines(), bad_lines


@app.command("predict")
def predict(
    input_path: Annotated[
        Path,
        typer.Option("--input", help="Text file (one text per line) or CSV with a 'text' column."),
    ],
    output_path: Annotated[
        Path, typer.Option("--output", help="CSV to write: text,label,confidence.")
    ],
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Texts per model call.")
    ] = BATCH_SIZE,
    engine: Engine = ENGINE_OPTION,
    master: str | None = MASTER_OPTION,
    shards: Path | None = SHARDS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Label each text negative / neutral / positive with a calibrated confidence."""

    def body() -> None:
        import numpy as np

        from analytics.sentiment import LABELS, default_model_dir, load_default_scorer

        spark = spark_choice(engine, master, shards)
        texts, bad_lines = read_texts(input_path)
        if spark is not None:
            from beacon.spark_scoring import check_spark, predict_on_spark

            check_spark(spark.master, spark.shards)  # before loading the model here
        scorer = load_default_scorer()
        truncated = sum(scorer.truncated(texts))
        empty = sum(not text.strip() for text in texts)
        with progress("scoring", total=len(texts), enabled=not json_output) as advance:
            if spark is None:
                parts = [np.zeros((0, len(LABELS)))]
                for start in range(0, len(texts), batch_size):
                    parts.append(scorer.predict_proba(texts[start : start + batch_size]))
                    advance(len(parts[-1]))
                proba = np.vstack(parts)
            else:
                _, proba = predict_on_spark(
                    texts,
                    model_dir=default_model_dir(),
                    model_version=scorer.version,
                    master=spark.master,
                    shards=spark.shards,
                    batch_size=batch_size,
                    on_progress=advance,
                )
        best = proba.argmax(axis=1)
        labels = [LABELS[i] for i in best]
        confidences = [float(row[i]) for row, i in zip(proba, best, strict=True)]
        output_path.parent.mkdir(parents=True, exist_ok=True)
        with output_path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label", "confidence"])
            for text, label, confidence in zip(texts, labels, confidences, strict=True):
                writer.writerow([text, label, f"{confidence:.4f}"])
        if truncated:
            console.print(
                f"warning: {truncated} text(s) longer than the model reads were truncated "
                f"({scorer.max_length} tokens)"
            )
        if bad_lines:
            console.print(
                f"warning: {bad_lines} line(s) held bytes that are not UTF-8; replaced with U+FFFD"
            )
        if empty:
            console.print(f"warning: {empty} empty text(s) were scored as empty strings")
        counts = {label: labels.count(label) for label in LABELS}
        summary = {
            "input": str(input_path),
            "output": str(output_path),
            "n_texts": len(texts),
            "labels": counts,
            "model_version": scorer.version,
            "engine": engine.value,
            "truncated": truncated,
            "empty": empty,
            "non_utf8_lines": bad_lines,
        }
        if json_output:
            print_json(summary)
        else:
            sys.stdout.write(
                f"wrote {len(texts)} rows to {output_path} ({scorer.version}): "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
                + "\n"
            )

    run_command(body)


@app.command("train")
def train(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Artifact folder (default: artifacts/sentiment).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Shared data folder (default: BEACON_DATA_DIR or ../shared/data)."
        ),
    ] = None,
    train_sample: Annotated[
        int | None,
        typer.Option(
            "--train-sample", min=50, help="Train on a random sample of this many tweets."
        ),
    ] = None,
    eval_sample: Annotated[
        int | None,
        typer.Option("--eval-sample", min=10, help="Evaluate on a random sample of each split."),
    ] = None,
    epochs: Annotated[
        float, typer.Option("--epochs", min=0.05, help="Fine-tuning passes over the data.")
    ] = DEFAULT_EPOCHS,
    max_seconds: Annotated[
        float,
        typer.Option("--max-seconds", min=0.0, help="Time cap on fine-tuning (0: no cap)."),
    ] = DEFAULT_MAX_SECONDS,
    tuned_layers: Annotated[
        int,
        typer.Option("--tuned-layers", min=1, max=6, help="Top encoder layers to fine-tune."),
    ] = DEFAULT_TUNED_LAYERS,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads for torch.")] = 2,
    json_output: bool = JSON_OPTION,
) -> None:
    """Rebuild the sentiment model from SemEval-2017 4A and evaluate it (several minutes)."""

    def body() -> None:
        import torch

        from analytics.sentiment import BeaconSentimentModel, default_model_dir, train_and_save
        from foundation.settings import get_settings

        torch.set_num_threads(threads)
        data = data_dir or get_settings().data_dir
        if data is None:
            raise InputError(
                "no shared data folder: pass --data-dir or set BEACON_DATA_DIR to the folder "
                "holding sentiment/semeval2017-task4a"
            )
        target = out_dir or default_model_dir()
        flags = {
            "--out": out_dir,
            "--train-sample": train_sample,
            "--eval-sample": eval_sample,
            "--epochs": epochs if epochs != DEFAULT_EPOCHS else None,
            "--max-seconds": max_seconds if max_seconds != DEFAULT_MAX_SECONDS else None,
            "--tuned-layers": tuned_layers if tuned_layers != DEFAULT_TUNED_LAYERS else None,
        }
        command = " ".join(
            ["beacon sentiment train"]
            + [
                f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}"
                for flag, value in flags.items()
                if value is not None
            ]
        )
        report = train_and_save(
            data,
            target,
            model=BeaconSentimentModel(
                n_tuned_layers=tuned_layers, epochs=epochs, max_train_seconds=max_seconds or None
            ),
            train_sample=train_sample,
            eval_sample=eval_sample,
            command=command,
            progress=None if json_output else (lambda line: console.print(line)),
        )
        summary = {
            "version": report.model.version,
            "artifact": str(report.metadata_path),
            "n_train": report.n_train,
            "n_excluded": report.n_excluded,
            "seconds": round(report.seconds, 1),
            "metrics": [m.as_dict() for m in report.metrics],
        }
        if json_output:
            print_json(summary)
        else:
            for m in report.metrics:
                sys.stdout.write(
                    f"{m.split}: macro recall {m.macro_recall:.3f}, macro F1 {m.macro_f1:.3f}, "
                    f"accuracy {m.accuracy:.3f}\n"
                )
            sys.stdout.write(f"saved {report.model.version} to {target}\n")

    run_command(body)
