"""Batch scoring on Apache Spark: ``beacon score --engine spark`` and ``beacon sentiment
predict --engine spark``.

The driver (this process) reads the texts, hands them to Spark in contiguous slices
ordered as the in-process path reads them, and each executor's Python worker loads the
sentiment model once (from the same folder, with the packaged encoder, exactly as
:func:`beacon.scoring.current_scorer` does) and scores its slices with the in-process
code (:func:`beacon.scoring.score_with_labels`) through ``mapInPandas``. The executors
write Parquet shards; the driver checks that every text came back and then loads them
into the workspace with one ``INSERT … SELECT … FROM read_parquet(…)``
(:func:`foundation.workspace.insert_scores_from_parquet`), one short write transaction.
The workspace never leaves the driver. docs/spark.md says how to use a real cluster.

Spark runs quiet (log level WARN), with a modest driver heap, without its web UI, and
its session is always stopped. pyspark warns that it does not fully support pandas 3:
that warning is silenced here because the results are checked instead (labels equal,
probabilities within 1e-6 of the in-process path: tests/test_spark_scoring.py and
``benchmarks/spark_scoring.py``).
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.sentiment import LABELS
from beacon.scoring import ScoreReport, pending_posts, score_with_labels
from foundation.exceptions import BeaconError
from foundation.workspace import (
    BATCH_LOCK_WAIT_SECONDS,
    Workspace,
    insert_scores_from_parquet,
    utc_now,
)

__all__ = [
    "DEFAULT_MASTER",
    "SparkUnavailable",
    "check_spark",
    "predict_on_spark",
    "score_posts_on_spark",
]

#: Two local worker processes: bounded, and what a 2-core machine has.
DEFAULT_MASTER = "local[2]"
#: The driver only ships texts and collects a row count; executors do the work.
DRIVER_MEMORY = "1g"
#: Spark 4 runs on Java 17 or newer.
MIN_JAVA = 17
#: Posts per Spark task, at most: small enough for a progress bar and for balancing.
POSTS_PER_TASK = 2048
#: Seconds to wait for a cluster master's port before calling it unreachable.
CONNECT_TIMEOUT_S = 5.0
#: Posts per model call on the executors, as ``beacon score`` batches in-process.
BATCH_SIZE = 512

_SCHEMA = (
    "post_id string, sentiment_label string, p_negative double, p_neutral double, p_positive double"
)
_JOB_GROUP = "beacon-scoring"
_PANDAS_WARNING = r"PySpark does not yet fully support pandas >= 3"
_LOCAL = re.compile(r"local(\[(\*|\d+)(,\d+)?\])?")
_HOST_PORT = re.compile(r"\[?([^\[\]]+?)\]?:(\d+)")
_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark %p %c{1}: %m%n
appender.console.layout.alwaysWriteExceptions = false
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
"""


class SparkUnavailable(BeaconError):
    """Spark cannot run here as asked: pyspark or Java is missing, the master is
    malformed or unreachable, or the Spark job failed."""


# --- Checks before anything starts ----------------------------------------------------


def check_spark(master: str, shards: Path | None = None) -> None:
    """Fail early, in one line, when ``--engine spark`` cannot work as asked.

    Args:
        master: ``local``, ``local[N]``, ``local[*]``, ``spark://host:port``, ``yarn``
            or ``k8s://https://host:port``.
        shards: Where executors write their Parquet shards (required off this machine).

    Raises:
        SparkUnavailable: pyspark is not installed, Java 17+ is missing, the master is
            malformed or cannot be reached, or a cluster master has no ``shards`` folder.
    """
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(
            "--engine spark needs pyspark, which is not installed in this environment; "
            "run `make venv` (requirements/app.lock pins it)"
        ) from None
    _check_java()
    _check_master(master)
    if shards is None and not _is_local(master):
        raise SparkUnavailable(
            f"--master {master} runs executors on other machines: pass --shards DIR, a "
            "folder that every executor and this machine can reach (docs/spark.md)"
        )


def _check_java() -> None:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).is_file():
        where = f"JAVA_HOME={home} has no bin/java" if home else "no `java` on PATH"
        raise SparkUnavailable(
            f"--engine spark needs Java {MIN_JAVA} or newer, and {where}; install a JDK "
            f"(e.g. `apt-get install openjdk-{MIN_JAVA}-jre-headless`) or set JAVA_HOME"
        )
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SparkUnavailable(f"--engine spark could not run {java} -version ({error})") from None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if found is None:
        return  # an unusual vendor string: let Spark judge
    major = int(found.group(2) or 0) if found.group(1) == "1" else int(found.group(1))
    if major < MIN_JAVA:
        raise SparkUnavailable(
            f"--engine spark needs Java {MIN_JAVA} or newer, and {java} is Java {major}; "
            f"install a newer JDK or point JAVA_HOME at one"
        )


def _is_local(master: str) -> bool:
    return _LOCAL.fullmatch(master) is not None


def _check_master(master: str) -> None:
    if _is_local(master):
        return
    if master == "yarn":
        if not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
            raise SparkUnavailable(
                "--master yarn needs HADOOP_CONF_DIR or YARN_CONF_DIR set to the cluster's "
                "configuration folder"
            )
        return
    for scheme in ("spark://", "k8s://"):
        if master.startswith(scheme):
            rest = master.removeprefix(scheme)
            rest = re.sub(r"^https?://", "", rest).split("/", 1)[0]
            addresses = [_HOST_PORT.fullmatch(part) for part in rest.split(",")]
            if not rest or not all(addresses):
                break
            for address in addresses:
                assert address is not None
                if _reachable(address.group(1), int(address.group(2))):
                    return
            raise SparkUnavailable(
                f"cannot reach the Spark master at {master} (nothing answers on "
                f"{rest} within {CONNECT_TIMEOUT_S:g} s); check --master and that the "
                "master is running"
            )
    raise SparkUnavailable(
        f"--master {master!r} is not a Spark master URL; expected local[N], local[*], "
        "spark://host:port, yarn or k8s://https://host:port"
    )


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


# --- The two entry points -------------------------------------------------------------


def score_posts_on_spark(
    workspace: Workspace,
    *,
    model_dir: Path,
    model_version: str,
    master: str = DEFAULT_MASTER,
    shards: Path | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ScoreReport:
    """``beacon score`` on Spark: score every post without a score from ``model_version``.

    Args:
        workspace: Read for the pending posts and written once, by the driver.
        model_dir: The sentiment model's folder (:func:`beacon.scoring.current_model_dir`);
            every executor loads it from this path.
        model_version: The model's version, as the driver loaded it; an executor whose
            copy differs fails the job.
        master: The Spark master URL.
        shards: A folder for the executors' Parquet shards (default: a temporary folder
            on this machine, enough for ``local[…]``); the shards are removed afterwards.
        batch_size: Posts per model call on the executors.
        on_progress: Called with a number of posts as Spark tasks finish.

    Raises:
        SparkUnavailable: See :func:`check_spark`; also when the job fails or the shards
            do not hold every post.
    """
    check_spark(master, shards)
    pending, already = pending_posts(workspace, model_version)
    if pending:
        with _shards_folder(shards) as folder:
            _run(pending, folder, model_dir, model_version, master, batch_size, on_progress)
            files = sorted(str(path) for path in folder.glob("*.parquet"))
            returned = _read_shards(files, columns=["post_id"])["post_id"]
            _check_complete(set(returned), {post_id for post_id, _ in pending}, len(returned))
            with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
                insert_scores_from_parquet(
                    con, files, model_version=model_version, scored_at=utc_now()
                )
    return ScoreReport(model_version=model_version, scored=len(pending), already_scored=already)


def predict_on_spark(
    texts: Sequence[str],
    *,
    model_dir: Path,
    model_version: str,
    master: str = DEFAULT_MASTER,
    shards: Path | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Labels and probabilities of ``texts``, scored on Spark (``beacon sentiment predict``).

    Arguments as :func:`score_posts_on_spark`.

    Returns:
        The labels in input order, and the probabilities of shape ``(len(texts), 3)``,
        columns in ``LABELS`` order.
    """
    check_spark(master, shards)
    if not texts:
        return [], np.zeros((0, len(LABELS)))
    rows = [(str(i), text) for i, text in enumerate(texts)]
    with _shards_folder(shards) as folder:
        _run(rows, folder, model_dir, model_version, master, batch_size, on_progress)
        frame = _read_shards(sorted(str(path) for path in folder.glob("*.parquet")))
    _check_complete(set(frame["post_id"]), {key for key, _ in rows}, len(frame))
    frame = frame.assign(row=frame["post_id"].astype(int)).sort_values("row")
    proba = frame[[f"p_{name}" for name in LABELS]].to_numpy(dtype=np.float64)
    return [str(label) for label in frame["sentiment_label"]], proba


def _read_shards(files: Sequence[str], columns: list[str] | None = None) -> pd.DataFrame:
    if not files:
        raise SparkUnavailable(
            "the Spark job finished but left no Parquet shards where this machine can read "
            "them; on a cluster pass --shards a folder shared by every executor and this machine"
        )
    return pd.concat([pd.read_parquet(path, columns=columns) for path in files], ignore_index=True)


def _check_complete(returned: set[str], expected: set[str], rows: int) -> None:
    if returned != expected or rows != len(expected):
        raise SparkUnavailable(
            f"the Spark shards hold {rows} scores for {len(returned & expected)} of the "
            f"{len(expected)} texts sent; nothing was written. On a cluster, --shards must "
            "be one folder that every executor and this machine see (docs/spark.md)"
        )


@contextmanager
def _shards_folder(shards: Path | None) -> Iterator[Path]:
    """A fresh folder for one job's shards (inside ``shards`` when given), removed after."""
    if shards is not None:
        shards.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="beacon-spark-", dir=shards))
    try:
        yield work / "scores"
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- The Spark job --------------------------------------------------------------------


def _run(
    rows: Sequence[tuple[str, str]],
    out: Path,
    model_dir: Path,
    model_version: str,
    master: str,
    batch_size: int,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Score ``(key, text)`` rows on Spark into Parquet shards under ``out``."""
    with _session(master) as spark:
        sc = spark.sparkContext
        tasks = max(sc.defaultParallelism, math.ceil(len(rows) / POSTS_PER_TASK))
        frame = spark.createDataFrame(
            sc.parallelize(list(rows), min(tasks, len(rows))), "post_id string, text string"
        )
        score = functools.partial(
            _score_partition,
            model_dir=str(model_dir),
            model_version=model_version,
            batch_size=batch_size,
        )
        sc.setJobGroup(_JOB_GROUP, "beacon: sentiment scoring")
        with _progress(sc, len(rows), on_progress):
            frame.mapInPandas(score, _SCHEMA).write.parquet(str(out))


@contextmanager
def _session(master: str) -> Iterator[Any]:
    """A quiet, bounded Spark session for one job; stopped whatever happens."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    # Executors run this environment's Python (unless the caller chose another, e.g.
    # the executors' own path on a cluster: docs/spark.md).
    os.environ["PYSPARK_PYTHON"] = os.environ.get("PYSPARK_PYTHON") or sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    builder = (
        SparkSession.builder.master(master)
        .appName("beacon-scoring")
        .config("spark.driver.memory", DRIVER_MEMORY)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if _is_local(master):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    with tempfile.TemporaryDirectory(prefix="beacon-spark-conf-") as conf:
        log_config = Path(conf) / "log4j2.properties"
        log_config.write_text(_LOG4J)
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}"
        )
        spark = None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
            try:
                spark = builder.getOrCreate()
                spark.sparkContext.setLogLevel("WARN")
                yield spark
            except (PySparkException, Py4JError) as error:
                raise SparkUnavailable(_one_line(error, master)) from None
            finally:
                if spark is not None:
                    spark.stop()


def _one_line(error: BaseException, master: str) -> str:
    """The line of a Spark error a person needs: the Python error an executor raised,
    else the first line of the JVM's."""
    text = str(error)
    raised = re.findall(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", text, flags=re.M)
    if "JAVA_GATEWAY_EXITED" in text:
        return f"Spark could not start its Java process for --master {master}; run with a working Java {MIN_JAVA}+ (JAVA_HOME)"
    if raised:
        kind, message = raised[-1]
        return f"the Spark job failed on --master {master}: {message.strip()} ({kind})"
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)
    return f"the Spark job failed on --master {master}: {first[:300]}"


@contextmanager
def _progress(sc: Any, total: int, on_progress: Callable[[int], None] | None) -> Iterator[None]:
    """Report finished tasks' share of ``total`` through ``on_progress`` while the job runs."""
    if on_progress is None:
        yield
        return
    stop = threading.Event()
    reported = [0]

    def advance_to(done: int) -> None:
        if done > reported[0]:
            on_progress(done - reported[0])
            reported[0] = done

    def poll() -> None:
        tracker = sc.statusTracker()
        while not stop.wait(0.5):
            try:
                finished = tasks = 0
                for job in tracker.getJobIdsForGroup(_JOB_GROUP):
                    info = tracker.getJobInfo(job)
                    for stage_id in info.stageIds if info else ():
                        stage = tracker.getStageInfo(stage_id)
                        if stage is not None:
                            finished += stage.numCompletedTasks
                            tasks += stage.numTasks
            except Exception:  # a progress bar never fails the job
                return
            if tasks:
                advance_to(total * finished // tasks)

    thread = threading.Thread(target=poll, name="beacon-spark-progress", daemon=True)
    thread.start()
    try:
        yield
        advance_to(total)
    finally:
        stop.set()
        thread.join(timeout=5)


# --- On the executors -----------------------------------------------------------------


@functools.cache
def _executor_scorer(model_dir: str) -> Any:
    """The sentiment model, loaded once per executor Python worker (Spark reuses them)."""
    from analytics.sentiment import BeaconSentimentModel

    return BeaconSentimentModel.load(Path(model_dir))


def _score_partition(
    frames: Iterator[pd.DataFrame], *, model_dir: str, model_version: str, batch_size: int
) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` body: score each slice with the in-process code, batch by batch."""
    from analytics.exceptions import ModelLoadError

    scorer = _executor_scorer(model_dir)
    if scorer.version != model_version:
        raise ModelLoadError(
            f"the executor's sentiment model in {model_dir} is {scorer.version}, the "
            f"driver's is {model_version}; give every executor the same artifacts"
        )
    for frame in frames:
        keys = [str(key) for key in frame["post_id"]]
        texts = [str(text) for text in frame["text"]]
        for start in range(0, len(texts), batch_size):
            labels, proba = score_with_labels(scorer, texts[start : start + batch_size])
            yield pd.DataFrame(
                {
                    "post_id": keys[start : start + batch_size],
                    "sentiment_label": labels,
                    **{
                        f"p_{name}": np.asarray(proba[:, i], dtype=np.float64)
                        for i, name in enumerate(LABELS)
                    },
                }
            )
