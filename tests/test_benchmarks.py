"""The benchmark scripts' argument checks, and the pages rendered from their stored results.

Nothing here runs a benchmark (the runs need ../shared/data and take minutes to an hour):
the pages are checked against the JSON the last runs stored, and the mechanism against a
small synthetic benchmark.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from benchmarks import _report, engagement, render
from benchmarks._report import DOCS, INDEX, TEMPLATES, Run, page_path, plain, render_page

STORED = sorted(path for path in DOCS.glob("*.json") if "benchmark" in json.loads(path.read_text()))


def test_engagement_benchmark_refuses_zero_latency_calls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["engagement", "--latency-calls", "0"])
    with pytest.raises(SystemExit) as exit_info:
        engagement.main()
    assert exit_info.value.code == 2
    assert "--latency-calls must be at least 1, got 0" in capsys.readouterr().err


# --- The stored pages ---------------------------------------------------------------


def test_there_are_stored_results() -> None:
    assert STORED, f"no benchmark JSON in {DOCS}: run `make bench`"


@pytest.mark.parametrize("json_path", STORED, ids=lambda p: p.stem)
def test_page_is_what_its_json_renders_to(json_path: Path) -> None:
    """A number typed into a page, or a template changed without re-rendering, fails here."""
    record = json.loads(json_path.read_text(encoding="utf-8"))
    page = page_path(json_path)
    assert page.is_file(), f"{page.name} is missing: run `python -m benchmarks.render`"
    assert page.read_text(encoding="utf-8") == render_page(record), (
        f"{page.name} differs from what {json_path.name} renders to: do not edit the page; "
        "edit benchmarks/templates/ and run `python -m benchmarks.render`, or rerun the benchmark"
    )


def test_index_is_what_the_stored_results_render_to() -> None:
    assert INDEX.read_text(encoding="utf-8") == _report.render_index(), (
        "docs/benchmarks.md is out of date: run `python -m benchmarks.render`"
    )


def test_every_page_in_docs_benchmarks_is_generated() -> None:
    """Hand-written records go to docs/benchmarks/history/, never next to the pages."""
    generated = {page_path(path) for path in STORED}
    handmade = sorted(p.name for p in DOCS.glob("*.md") if p not in generated)
    assert not handmade, (
        f"{handmade} in docs/benchmarks/ have no stored results: record them with "
        "benchmarks._report.Run and a template in benchmarks/templates/"
    )


def test_render_check_finds_nothing_out_of_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["--check"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.glob("*.md.j2")), ids=lambda p: p.name.removesuffix(".md.j2")
)
def test_templates_type_no_measured_numbers(template: Path) -> None:
    """Numbers reach a page through the template's expressions, not its prose."""
    prose = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", template.read_text(), flags=re.S)
    prose = prose.replace("WordNet 3.0", "").replace("95%", "")  # a version, a CI level
    typed = re.findall(r"\d+\.\d+|\b\d+\s?(?:%|ms\b|s\b)", prose)
    assert not typed, f"{template.name} types numbers into its prose: {typed}"


def test_every_stored_result_has_its_template() -> None:
    names = {json.loads(p.read_text())["benchmark"] for p in STORED}
    missing = sorted(n for n in names if not (TEMPLATES / f"{n}.md.j2").is_file())
    assert not missing, f"no template for {missing} in {TEMPLATES}"


# --- The mechanism, on a synthetic benchmark -----------------------------------------

SYNTHETIC_TEMPLATE = """{% from "_run.md.j2" import run_section %}
# Toy benchmark

| step | ms | vs baseline |
|---|---:|---:|
{% for row in r.rows %}
| {{ row.step }} | {{ row.ms | f(1) }} | {{ (row.ms / r.rows[0].ms) | ratio }} |
{% endfor %}

Target {{ r.target_ms | f(0) }} ms: {{ "met" if r.rows[-1].ms <= r.target_ms else "**not met**" }}.
Share {{ r.share | pct }}, gap {{ r.gap | signed(3) }}, n {{ r.n | thousands }},
missing {{ r.missing | f(2) }}, seeds {{ r.seeds | span(3) }}.

{{ run_section(run) }}
"""


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "_run.md.j2").write_text((TEMPLATES / "_run.md.j2").read_text())
    (folder / "toy.md.j2").write_text(SYNTHETIC_TEMPLATE)
    return folder


def _toy_results(last_ms: float) -> dict[str, object]:
    return {
        "rows": [{"step": "baseline", "ms": 20.0}, {"step": "action", "ms": last_ms}],
        "target_ms": 100.0,
        "share": np.float64(0.8875),
        "gap": -0.0123,
        "n": 10_000_000,
        "missing": float("nan"),
        "seeds": (0.038, 0.043, 0.041),
    }


def test_run_writes_json_with_provenance_and_renders_the_page(
    tmp_path: Path, templates: Path
) -> None:
    out = tmp_path / "docs" / "toy.json"
    with Run("toy", out=out, argv=["--turns", "5"], templates=templates) as run:
        run.results = _toy_results(last_ms=45.0)

    record = json.loads(out.read_text())
    assert record["benchmark"] == "toy"
    assert record["command"].endswith("-m benchmarks.toy --turns 5")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["started"])
    assert record["wall_s"] >= 0
    assert {"cpu", "cores", "ram_gib", "os", "python", "packages"} <= set(record["machine"])
    assert len(record["load_average"]["start"]) == len(record["load_average"]["end"]) == 3
    assert record["load_average"]["peak_1min"] >= record["load_average"]["start"][0]
    assert record["results"]["share"] == 0.8875  # numpy scalar made plain
    assert record["results"]["missing"] is None  # NaN is not JSON
    assert record["results"]["seeds"] == [0.038, 0.043, 0.041]

    page = page_path(out).read_text()
    assert page.startswith("<!-- Generated from toy.json")
    assert "| action | 45.0 | 2.25× |" in page
    assert "Target 100 ms: met." in page
    assert "Share 88.8%, gap −0.012, n 10,000,000," in page
    assert "missing —, seeds 0.038–0.043." in page
    assert "`" + record["command"] + "`" in page
    assert page == render_page(record, templates)


def test_the_reading_follows_the_numbers(tmp_path: Path, templates: Path) -> None:
    out = tmp_path / "toy.json"
    with Run("toy", out=out, argv=[], templates=templates) as run:
        run.results = _toy_results(last_ms=140.0)
    assert "Target 100 ms: **not met**." in page_path(out).read_text()


def test_a_run_that_fails_or_is_partial_records_nothing(tmp_path: Path, templates: Path) -> None:
    out = tmp_path / "toy.json"
    with (
        pytest.raises(RuntimeError, match="benchmark broke"),
        Run("toy", out=out, argv=[], templates=templates) as run,
    ):
        run.results = _toy_results(last_ms=45.0)
        raise RuntimeError("benchmark broke")
    with Run("toy", out=out, argv=[], templates=templates, write=False) as run:
        run.results = _toy_results(last_ms=45.0)
    assert not out.exists() and not page_path(out).exists()


def test_a_run_without_results_says_so(tmp_path: Path, templates: Path) -> None:
    with (
        pytest.raises(RuntimeError, match=r"set no results: assign run\.results"),
        Run("toy", out=tmp_path / "toy.json", argv=[], templates=templates),
    ):
        pass


def test_a_run_without_a_template_fails_before_measuring(tmp_path: Path, templates: Path) -> None:
    with (
        pytest.raises(FileNotFoundError, match=r"no page template: expected .*other\.md\.j2"),
        Run("other", out=tmp_path / "other.json", argv=[], templates=templates),
    ):
        pytest.fail("the benchmark ran although its page could not be written")


def test_render_finds_a_hand_edited_page(tmp_path: Path, templates: Path) -> None:
    docs = tmp_path / "docs"
    with Run("toy", out=docs / "toy.json", argv=[], templates=templates) as run:
        run.results = _toy_results(last_ms=45.0)
    page = docs / "toy.md"
    expected = render.expected_pages(docs, templates)
    assert expected == {page: page.read_text()}
    page.write_text(page.read_text().replace("45.0", "40.0"))  # a number typed by hand
    assert render.expected_pages(docs, templates)[page] != page.read_text()


def test_results_must_be_plain_data() -> None:
    assert plain({"a": (np.int64(3), np.array([0.5, 1.0])), 2: Path("x")}) == {
        "a": [3, [0.5, 1.0]],
        "2": "x",
    }
    with pytest.raises(TypeError, match=r"must be plain data .* got <object object at"):
        plain({"x": object()})


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "—"), (4.25, "4.2 s"), (42.0, "42 s"), (192.0, "3 min 12 s"), (3900.0, "1 h 05 min")],
)
def test_durations_read_naturally(seconds: float | None, shown: str) -> None:
    assert _report.duration(seconds) == shown
