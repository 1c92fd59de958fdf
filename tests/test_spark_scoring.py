"""``beacon score --engine spark`` and ``beacon sentiment predict --engine spark``.

The real runs start a local Spark (``local[1]``: one executor Python worker, so the
model is loaded there once) over a few hundred demo posts plus awkward texts, and compare
every label and probability with the in-process path. pyspark warns that pandas 3 is
not fully supported; these comparisons are why that warning is silenced. The error
paths (no pyspark, no Java, a bad or unreachable master) fail before Spark starts.
"""

from __future__ import annotations

import csv
import shutil
import socket
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from beacon.demo import build_demo
from beacon.scoring import current_model_dir, current_scorer, score_posts
from beacon.spark_scoring import SparkUnavailable, check_spark, score_posts_on_spark
from foundation.workspace import Pseudonymizer, Workspace, ingest_rows
from tests.conftest import invoke_cli as invoke

KEY = b"spark-test-key"
N_DEMO_POSTS = 300
#: Texts the in-process path finds awkward: long (truncated), emoji only, other scripts.
AWKWARD = [
    "so so so " * 300,
    "🔥🔥🔥",
    "Die Schuhe sind leider nach zwei Wochen kaputt gegangen",
    "これは最高のランニングシューズです",
    "@trailbird #fail refund?? http://example.com/x",
]


@pytest.fixture(scope="module")
def spark_here() -> None:
    """Skips, saying why, where Spark cannot run (no pyspark, no Java 17+)."""
    try:
        check_spark("local[1]")
    except SparkUnavailable as error:
        pytest.skip(f"Spark cannot run here: {error}")


@pytest.fixture(scope="module")
def posts_workspace(spark_here: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with a spread of the demo brand's posts and a few awkward ones, unscored."""
    workspace = Workspace(tmp_path_factory.mktemp("spark") / "beacon.duckdb")
    pseudonymizer = Pseudonymizer(KEY)
    build_demo(workspace, pseudonymizer, end_date=date(2026, 11, 30))
    with workspace.connect() as con:
        con.execute("DELETE FROM scores")
        con.execute(
            "DELETE FROM posts WHERE post_id NOT IN (SELECT post_id FROM "
            "(SELECT post_id, row_number() OVER (ORDER BY post_id) AS n FROM posts) "
            f"WHERE n % (SELECT count(*) // {N_DEMO_POSTS} FROM posts) = 0 LIMIT {N_DEMO_POSTS})"
        )
        rows = [
            (
                i + 2,
                {
                    "platform": "twitter",
                    "account": "someone",
                    "text": text,
                    "posted_at": "2026-11-01T09:00:00Z",
                    "likes": 1,
                    "comments": 0,
                    "shares": 0,
                },
            )
            for i, text in enumerate(AWKWARD)
        ]
        report = ingest_rows(con, rows, source="test", pseudonymizer=pseudonymizer)
        assert report.stored == len(AWKWARD)
    return workspace.path


def _copy(source: Path, target: Path) -> Workspace:
    shutil.copy(source, target)
    return Workspace(target)


def _scores(workspace: Workspace) -> list[tuple[object, ...]]:
    with workspace.connect(read_only=True) as con:
        return con.execute(
            "SELECT post_id, model_version, sentiment_label, p_negative, p_neutral, p_positive "
            "FROM scores ORDER BY post_id"
        ).fetchall()


def test_spark_scores_equal_the_in_process_scores(posts_workspace: Path, tmp_path: Path) -> None:
    scorer = current_scorer()
    in_process = _copy(posts_workspace, tmp_path / "in-process.duckdb")
    on_spark = _copy(posts_workspace, tmp_path / "spark.duckdb")
    expected = score_posts(in_process, scorer)
    seen: list[int] = []

    report = score_posts_on_spark(
        on_spark,
        model_dir=current_model_dir(),
        model_version=scorer.version,
        master="local[1]",
        on_progress=seen.append,
    )

    assert report == expected
    assert report.scored == N_DEMO_POSTS + len(AWKWARD)
    assert sum(seen) == report.scored
    want, got = _scores(in_process), _scores(on_spark)
    assert [row[:3] for row in got] == [row[:3] for row in want]  # ids, version, labels
    np.testing.assert_allclose(
        np.array([row[3:] for row in got], dtype=float),
        np.array([row[3:] for row in want], dtype=float),
        rtol=0,
        atol=1e-6,
    )
    with on_spark.connect(read_only=True) as con:  # one INSERT: one timestamp
        assert con.execute("SELECT count(DISTINCT scored_at) FROM scores").fetchall() == [(1,)]
    # Incremental: nothing left to score, so Spark is not even started.
    again = score_posts_on_spark(
        on_spark, model_dir=current_model_dir(), model_version=scorer.version, master="local[1]"
    )
    assert (again.scored, again.already_scored) == (0, report.scored)


def test_an_executor_with_another_model_fails_the_job_and_writes_nothing(
    posts_workspace: Path, tmp_path: Path
) -> None:
    workspace = _copy(posts_workspace, tmp_path / "beacon.duckdb")
    with pytest.raises(SparkUnavailable, match=r"executor's sentiment model .* the driver's is"):
        score_posts_on_spark(
            workspace,
            model_dir=current_model_dir(),
            model_version="beacon-sentiment-0.0.0+00000000",
            master="local[1]",
        )
    assert _scores(workspace) == []


# --- Through the CLI --------------------------------------------------------------------


@pytest.fixture
def home(cli_home: Path) -> Path:
    return cli_home


def test_sentiment_predict_on_spark_writes_the_in_process_file(
    spark_here: None, home: Path
) -> None:
    texts = home / "texts.txt"
    texts.write_text("\n".join(["I love these shoes", "worst delivery ever", "", *AWKWARD]))
    code, _, err = invoke(
        "sentiment", "predict", "--input", str(texts), "--output", str(home / "a.csv")
    )
    assert code == 0, err
    code, _, err = invoke(
        "sentiment", "predict", "--input", str(texts), "--output", str(home / "b.csv"),
        "--engine", "spark", "--master", "local[1]", "--batch-size", "3",
    )  # fmt: skip
    assert code == 0, err
    with (home / "a.csv").open() as a, (home / "b.csv").open() as b:
        want, got = list(csv.reader(a)), list(csv.reader(b))
    assert len(got) == len(texts.read_text().split("\n")) + 1
    assert got == want  # texts, labels and confidences (4 decimals), in input order


def one_line_error(*args: str) -> str:
    code, out, err = invoke(*args)
    assert (code, out) == (2, ""), err
    assert err.strip().count("\n") == 0, err
    assert err.startswith("error: ")
    return err


def test_missing_java_is_a_one_line_error(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-java-here"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    err = one_line_error("score", "--engine", "spark")
    assert "needs Java 17 or newer, and no `java` on PATH" in err
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(SparkUnavailable, match=r"JAVA_HOME=.*no-jdk has no bin/java"):
        check_spark("local[1]")


def test_an_old_java_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "jdk" / "bin" / "java"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(SparkUnavailable, match=r"needs Java 17 or newer, and .* is Java 11"):
        check_spark("local[1]")


def test_missing_pyspark_is_a_one_line_error(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark → ImportError
    err = one_line_error("score", "--engine", "spark")
    assert "needs pyspark, which is not installed" in err and "make venv" in err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.usefixtures("spark_here")
def test_an_unreachable_master_is_a_one_line_error(home: Path) -> None:
    port = _closed_port()
    err = one_line_error("score", "--engine", "spark", "--master", f"spark://127.0.0.1:{port}")
    assert f"cannot reach the Spark master at spark://127.0.0.1:{port}" in err
    texts = home / "texts.txt"
    texts.write_text("hello\n")
    err = one_line_error(
        "sentiment", "predict", "--input", str(texts), "--output", str(home / "out.csv"),
        "--engine", "spark", "--master", f"k8s://https://127.0.0.1:{port}",
    )  # fmt: skip
    assert "cannot reach the Spark master" in err
    assert not (home / "out.csv").exists()


@pytest.mark.usefixtures("spark_here")
@pytest.mark.parametrize(
    ("master", "message"),
    [
        ("local[two]", "is not a Spark master URL"),
        ("spark://no-port", "is not a Spark master URL"),
        ("mesos://host:5050", "is not a Spark master URL"),
        ("yarn", "needs HADOOP_CONF_DIR or YARN_CONF_DIR"),
    ],
)
def test_a_bad_master_is_refused_before_spark_starts(
    home: Path, master: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HADOOP_CONF_DIR", raising=False)
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    assert message in one_line_error("score", "--engine", "spark", "--master", master)


@pytest.mark.usefixtures("spark_here")
def test_a_cluster_master_needs_a_shared_shards_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HADOOP_CONF_DIR", str(tmp_path))
    with pytest.raises(SparkUnavailable, match=r"--master yarn runs executors .* --shards DIR"):
        check_spark("yarn")
    check_spark("yarn", shards=tmp_path)


def test_spark_flags_need_the_spark_engine(home: Path) -> None:
    assert "--master needs --engine spark" in one_line_error("score", "--master", "local[1]")
    assert "--shards needs --engine spark" in one_line_error("score", "--shards", str(home))
