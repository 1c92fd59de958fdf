"""``--engine``, ``--master`` and ``--shards``: where ``beacon score`` and ``beacon sentiment
predict`` run the model (this process, or Spark executors: beacon/spark_scoring.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import typer

from foundation.exceptions import InputError


class Engine(str, Enum):
    """Where the sentiment model runs."""

    in_process = "in-process"
    spark = "spark"


ENGINE_OPTION = typer.Option(
    Engine.in_process,
    "--engine",
    help="in-process (this process; the default) or spark (Spark executors, see --master).",
)
MASTER_OPTION = typer.Option(
    None,
    "--master",
    help="With --engine spark: local[N], local[*], spark://host:port, yarn or "
    "k8s://https://host:port (default local[2]; docs/spark.md).",
)
SHARDS_OPTION = typer.Option(
    None,
    "--shards",
    help="With --engine spark: folder for the executors' Parquet shards, seen by every "
    "executor and this machine (default: a temporary folder; needed off this machine).",
)


@dataclass(frozen=True)
class SparkChoice:
    """The Spark flags of one command, checked."""

    master: str
    shards: Path | None


def spark_choice(engine: Engine, master: str | None, shards: Path | None) -> SparkChoice | None:
    """The Spark master and shards folder with ``--engine spark``; None in-process.

    Raises:
        InputError: ``--master`` or ``--shards`` given without ``--engine spark``.
    """
    if engine is Engine.in_process:
        if master is not None or shards is not None:
            flag = "--master" if master is not None else "--shards"
            raise InputError(f"{flag} needs --engine spark (the engine is in-process)")
        return None
    from beacon.spark_scoring import DEFAULT_MASTER

    return SparkChoice(master=master or DEFAULT_MASTER, shards=shards)
