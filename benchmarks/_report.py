"""Benchmark results: one JSON file per benchmark, and its page rendered from that file.

A benchmark script measures inside a :class:`Run` and hands it its results::

    with Run("turn_latency", out=args.out, packages=("rasa-sdk",)) as run:
        run.results = {...}  # plain data: numbers, strings, lists, dicts

When the block ends without an exception the run writes ``docs/benchmarks/<name>.json``
(the results plus how they were obtained: the exact command line, the date, the
machine, the load average at the start and the end) and renders
``docs/benchmarks/<name>.md`` from it with the hand-written template
``benchmarks/templates/<name>.md.j2``, then the index ``docs/benchmarks.md``. The
template holds the prose; numbers reach the page only through its expressions, so
they have one source, the JSON. ``python -m benchmarks.render`` renders every page
again from the stored JSON without running anything; ``tests/test_benchmarks.py``
fails when a page differs from what its JSON renders to.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.metadata
import json
import math
import os
import platform
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DOCS = PROJECT_ROOT / "docs" / "benchmarks"
INDEX = PROJECT_ROOT / "docs" / "benchmarks.md"
TEMPLATES = Path(__file__).resolve().with_name("templates")
INDEX_TEMPLATE = "index.md.j2"
LOAD_SAMPLE_S = 10.0  # how often a run samples the 1-minute load average


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 1]); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def default_out(name: str) -> Path:
    """Where benchmark ``name`` writes its JSON by default (its page goes next to it)."""
    return DOCS / f"{name}.json"


def page_path(json_path: Path) -> Path:
    """The Markdown page rendered from ``json_path``: the same name, ``.md``."""
    return json_path.with_suffix(".md")


def add_out_argument(parser: Any, name: str, *aliases: str) -> None:
    """``--out PATH`` (and older spellings in ``aliases``): where the JSON goes."""
    parser.add_argument(
        "--out",
        *aliases,
        type=Path,
        default=default_out(name),
        help=f"results JSON; the page is written next to it as .md "
        f"(default: {default_out(name).relative_to(PROJECT_ROOT)})",
    )


# --- How a run was made -------------------------------------------------------------


def command_line(name: str, argv: Sequence[str]) -> str:
    """The command that reproduces this run, as typed from the project root."""
    python = sys.executable or "python"
    with contextlib.suppress(ValueError):
        if Path(python).is_relative_to(PROJECT_ROOT):
            python = str(Path(python).relative_to(PROJECT_ROOT))
    niceness = _niceness()
    prefix = f"nice -n {niceness} " if niceness > 0 else ""
    args = f" {shlex.join(argv)}" if argv else ""
    return f"{prefix}{python} -m benchmarks.{name}{args}"


def _niceness() -> int:
    try:
        return os.nice(0)
    except OSError:
        return 0


def machine(packages: Iterable[str] = ()) -> dict[str, Any]:
    """CPU model, cores, memory, OS, Python and the versions of ``packages``."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gib: float | None = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        ram_gib = round(kib / 2**20, 1)
    versions = {}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "os": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "python": platform.python_version(),
        "packages": versions,
    }


def bot_packages(names: Iterable[str] = ("rasa", "python-socketio", "sanic")) -> dict[str, str]:
    """Versions of ``names`` in the bot's own environment (``.venv-bot``, Rasa's Python)."""
    site = sorted((PROJECT_ROOT / ".venv-bot").glob("lib/python*/site-packages"))
    if not site:
        return {}
    found = importlib.metadata.distributions(path=[str(site[-1])])
    versions = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in found}
    return {name: versions.get(name, "not installed") for name in names}


def code_version() -> dict[str, Any]:
    """The git commit the run measured, and whether the tracked files had local changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=20
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short=12", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "local_changes": None if status is None else bool(status)}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class _LoadSampler(threading.Thread):
    """Samples the 1-minute load average while a run measures."""

    def __init__(self, every_s: float) -> None:
        super().__init__(daemon=True, name="benchmark-load-sampler")
        self.every_s = every_s
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every_s):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> list[float]:
        self._stop_event.set()
        self.join(timeout=self.every_s + 1)
        return self.samples


@dataclass
class Run:
    """One benchmark run: records how it was made, then writes its JSON and page.

    Attributes:
        name: The benchmark, as in ``python -m benchmarks.<name>``; names the template.
        out: The JSON file (default ``docs/benchmarks/<name>.json``); the page goes next
            to it with the suffix ``.md``.
        packages: Distributions whose versions matter to the numbers.
        argv: The command-line arguments (default ``sys.argv[1:]``).
        write: False: record nothing (a partial or profiled run that must not replace
            the stored results).
        templates: Folder of the page templates.
        results: What the benchmark measured; set by the script before the block ends.
    """

    name: str
    out: Path | None = None
    packages: Sequence[str] = ()
    argv: Sequence[str] | None = None
    write: bool = True
    templates: Path = TEMPLATES
    results: dict[str, Any] = field(default_factory=dict)
    _started: datetime | None = field(default=None, init=False, repr=False)
    _clock: float = field(default=0.0, init=False, repr=False)
    _load_start: list[float] = field(default_factory=list, init=False, repr=False)
    _sampler: _LoadSampler | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> Run:
        template = self.templates / f"{self.name}.md.j2"
        if self.write and not template.is_file():  # fail before measuring, not after
            raise FileNotFoundError(
                f"benchmark {self.name!r} has no page template: expected {template}; "
                "write one (the prose, with the numbers as expressions) before running"
            )
        self._started = datetime.now(UTC)
        self._clock = time.perf_counter()
        self._load_start = _load()
        self._sampler = _LoadSampler(LOAD_SAMPLE_S)
        self._sampler.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        samples = self._sampler.stop() if self._sampler else []
        if exc_type is not None or not self.write:
            return
        if not self.results:
            raise RuntimeError(f"benchmark {self.name!r} set no results: assign run.results")
        wall_s = time.perf_counter() - self._clock
        load_end = _load()
        started = self._started or datetime.now(UTC)
        record = {
            "benchmark": self.name,
            "command": command_line(
                self.name, sys.argv[1:] if self.argv is None else list(self.argv)
            ),
            "started": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "wall_s": round(wall_s, 1),
            "machine": machine(self.packages),
            "load_average": {
                "start": self._load_start,
                "end": load_end,
                "peak_1min": round(max([*samples, self._load_start[0], load_end[0]]), 2),
            },
            "code": code_version(),
            "results": plain(self.results),
        }
        out = self.out or default_out(self.name)
        written = write_record(record, out, templates=self.templates)
        for path in written:
            print(f"wrote {_shown(path)}", file=sys.stderr)


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(PROJECT_ROOT))
    return str(path)


def plain(value: Any) -> Any:
    """``value`` as JSON data: numpy scalars and arrays, tuples, paths and dataclasses
    converted, floats to 6 significant digits, NaN and infinities as None."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return plain(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else None
    raise TypeError(
        f"benchmark results must be plain data (numbers, strings, lists, dicts); "
        f"got {value!r} that is a {type(value).__name__}"
    )


def write_record(record: Mapping[str, Any], out: Path, templates: Path = TEMPLATES) -> list[Path]:
    """Write ``record`` as JSON to ``out``, its page next to it, and (for the stored
    results in docs/benchmarks) the index; returns the files written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps(record), encoding="utf-8")
    page = page_path(out)
    page.write_text(render_page(record, templates), encoding="utf-8")
    written = [out, page]
    if out.resolve().parent == DOCS.resolve() and templates == TEMPLATES:
        INDEX.write_text(render_index(), encoding="utf-8")
        written.append(INDEX)
    return written


def dumps(record: Mapping[str, Any]) -> str:
    """``record`` as indented JSON, with lists of plain values kept on one line.

    JSON strings hold no raw newline, so removing a newline and its indentation inside a
    bracketed run of values changes only the layout, never a value.
    """

    def one_line(match: re.Match[str]) -> str:
        values = re.sub(r"^\[\n\s*", "[", match.group())
        values = re.sub(r"\n\s*\]$", "]", values)
        return re.sub(r"\n\s*", " ", values)

    text = json.dumps(record, indent=1, ensure_ascii=False)
    return re.sub(r"\[[^\[\]{}]*\]", one_line, text) + "\n"


# --- Rendering ----------------------------------------------------------------------


def render_page(record: Mapping[str, Any], templates: Path = TEMPLATES) -> str:
    """The Markdown page of one stored run: ``<benchmark>.md.j2`` applied to it."""
    name = record["benchmark"]
    template = _environment(templates).get_template(f"{name}.md.j2")
    header = (
        f"<!-- Generated from {name}.json by benchmarks/templates/{name}.md.j2 "
        "(python -m benchmarks.render): edit the template or rerun the benchmark, "
        "not this file. -->\n"
    )
    return header + template.render(run=record, r=record["results"]).rstrip() + "\n"


def stored_records(docs: Path = DOCS) -> list[dict[str, Any]]:
    """Every stored run in ``docs`` (``*.json`` with a ``benchmark`` key), by name."""
    records = []
    for path in sorted(docs.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "benchmark" in data:
            records.append(data)
    return records


def render_index(docs: Path = DOCS, templates: Path = TEMPLATES) -> str:
    """``docs/benchmarks.md``: every stored benchmark with its command, date and page."""
    entries = []
    for record in stored_records(docs):
        name = record["benchmark"]
        entries.append(
            {
                "name": name,
                "summary": script_summary(name),
                "page": f"benchmarks/{name}.md",
                "run": record,
            }
        )
    template = _environment(templates).get_template(INDEX_TEMPLATE)
    header = (
        "<!-- Generated by benchmarks/templates/index.md.j2 from docs/benchmarks/*.json "
        "(python -m benchmarks.render): edit the template, not this file. -->\n"
    )
    return header + template.render(entries=entries).rstrip() + "\n"


def script_summary(name: str) -> str:
    """The first line of ``benchmarks/<name>.py``'s docstring (read, not imported)."""
    path = Path(__file__).resolve().with_name(f"{name}.py")
    if not path.is_file():
        return ""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


@functools.cache
def _environment(templates: Path) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML
    )
    env.filters.update(
        f=fixed,
        signed=signed,
        pct=percent,
        thousands=thousands,
        ratio=ratio,
        auto=auto,
        span=span,
        duration=duration,
        loadavg=loadavg,
        date=day,
    )
    env.globals.update(
        zip=zip, enumerate=enumerate, any=any, all=all, abs=abs, pick=pick, where=where
    )
    return env


def where(rows: Iterable[Mapping[str, Any]], **match: Any) -> list[Mapping[str, Any]]:
    """The rows whose fields equal ``match`` (templates: ``where(r.rows, kind="ivf")``)."""
    return [row for row in rows if all(row.get(k) == v for k, v in match.items())]


def pick(rows: Iterable[Mapping[str, Any]], **match: Any) -> Mapping[str, Any]:
    """The one row whose fields equal ``match``; an error naming ``match`` if none does."""
    found = where(rows, **match)
    if len(found) != 1:
        raise LookupError(f"expected one row with {match}, found {len(found)}")
    return found[0]


# Number formats. Each shows None as an em dash, so a missing value never reads as 0.

DASH = "—"


def fixed(x: float | None, digits: int = 3) -> str:
    """``0.123`` (fixed decimals)."""
    return DASH if x is None else f"{x:.{digits}f}"


def signed(x: float | None, digits: int = 3) -> str:
    """``+0.012`` / ``−0.004`` (always a sign; a typographic minus)."""
    return DASH if x is None else f"{x:+.{digits}f}".replace("-", "−")


def percent(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.888`` → ``88.8%``."""
    return DASH if x is None else f"{100 * x:.{digits}f}%"


def thousands(x: float | None, digits: int = 0) -> str:
    """``10,000,000``."""
    return DASH if x is None else f"{x:,.{digits}f}"


def ratio(x: float | None, digits: int = 2) -> str:
    """``1.75×``."""
    return DASH if x is None else f"{x:.{digits}f}×"


def auto(x: float | None) -> str:
    """Three significant figures or more, grouped thousands: 0.0123, 1.23, 12.3, 1,234."""
    if x is None:
        return DASH
    size = abs(x)
    if size >= 100:
        return f"{x:,.0f}"
    if size >= 10:
        return f"{x:.1f}"
    if size >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def span(values: Sequence[float], digits: int = 3, fmt: str = "f") -> str:
    """The range of ``values``: ``0.038–0.043``, or one value when they agree."""
    show = signed if fmt == "signed" else fixed
    low, high = show(min(values), digits), show(max(values), digits)
    return low if low == high else f"{low}…{high}" if fmt == "signed" else f"{low}–{high}"


def duration(seconds: float | None) -> str:
    """``42 s``, ``3 min 12 s``, ``1 h 05 min``."""
    if seconds is None:
        return DASH
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def loadavg(values: Sequence[float]) -> str:
    """The three load averages: ``1.7 / 2.0 / 5.1``."""
    return " / ".join(f"{v:.1f}" for v in values)


def day(stamp: str) -> str:
    """``2026-12-06T05:20:11Z`` → ``6 Dec 2026, 05:20 UTC``."""
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return f"{when.day} {when:%b %Y, %H:%M} UTC"
