"""Charts as PNGs, drawn on matplotlib's object-oriented ``Figure``, never on pyplot.

pyplot keeps one global list of open figures and a current figure, which matplotlib
documents as not thread-safe; the action server draws charts from worker threads. A
``Figure`` made directly belongs to its caller alone and is freed like any other object,
so there is nothing global to register or close. Every chart in Beacon goes through here
so it is drawn, sized and saved the same way.

matplotlib is imported when a figure is first made, not when this module is imported
(rasa-sdk imports every action module at start-up).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DPI", "new_figure", "png_bytes", "save_png"]

#: Dots per inch of every saved chart unless a caller needs another size.
DPI = 110


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` × ``height`` inches, detached from pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def png_bytes(figure: Figure, *, dpi: int = DPI) -> bytes:
    """The finished figure laid out tightly and rendered as PNG bytes (the Agg renderer).

    Render a figure once: laying it out again moves its axes by a pixel or so.
    """
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_png(figure: Figure, path: str | Path, *, dpi: int = DPI) -> Path:
    """Write the figure to ``path`` as a PNG (parent folders are created); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png_bytes(figure, dpi=dpi))
    return out
