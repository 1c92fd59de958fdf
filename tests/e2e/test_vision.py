"""End to end: the bot tags an image fetched from a link on the local network.

A tiny ``http.server`` on 127.0.0.1 (port 0) serves one image: a shared ImageNet sample
(a running shoe) when ../shared/data is there, else a synthetic photo, for which only
the reply's shape is checked. The heatmap's URL must be served by the action server.
Links may not reach loopback by default, so the stack's environment opens exactly
127.0.0.1 (``BEACON_MEDIA_ALLOWED_NETS``, set in tests/e2e/conftest.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import _shared_data_dir
from tests.e2e.conftest import E2E

pytestmark = pytest.mark.e2e

DOWN = "my analytics service isn't answering right now"
SAMPLE = Path("images") / "imagenet-sample" / "n04120489_running_shoe.JPEG"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served_image(tmp_path: Path) -> Iterator[tuple[str, bool]]:
    """``(URL of the image, whether it is the shared running-shoe sample)``."""
    shared = _shared_data_dir()
    target = tmp_path / "promo.jpg"
    real = shared is not None and (shared / SAMPLE).is_file()
    if shared is not None and real:
        target.write_bytes((shared / SAMPLE).read_bytes())
    else:
        rng = np.random.default_rng(0)
        y, x = np.mgrid[0:240, 0:320]
        array = np.stack([x * 0.8, y, (x + y) * 0.4], axis=-1) + rng.normal(0, 8, (240, 320, 3))
        Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).save(target, quality=90)
    handler = partial(_QuietHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/promo.jpg", real
    httpd.shutdown()
    httpd.server_close()


def test_bot_tags_an_image_from_a_local_link(e2e: E2E, served_image: tuple[str, bool]) -> None:
    url, real = served_image
    messages: list[dict[str, Any]] = []
    # The first question may also load the models (when the action server's warm-up does
    # not), which can outlast the stack's 8 s action timeout; the action still finishes
    # and leaves them loaded, so a second ask is answered from warm models.
    for _attempt in range(3):
        with e2e.client() as client:
            messages = client.send(f"e2e-{uuid.uuid4().hex[:8]}", f"what's in {url} ?")
        text = "\n".join(m.get("text") or "" for m in messages)
        if DOWN not in text:
            break
        time.sleep(10)
    assert text.startswith("promo.jpg: "), text
    assert "Brand safety: " in text and "The model saw '" in text
    if real:
        assert text.startswith("promo.jpg: running shoe ") and "Categories: footwear" in text
        assert "saw 'running shoe' mostly here" in text
    images = [m["image"] for m in messages if m.get("image")]
    assert len(images) == 1 and images[0].startswith(e2e.stack.config.action_url + "/charts/")
    heatmap = httpx.get(images[0], timeout=10)
    assert heatmap.status_code == 200 and heatmap.content[:4] == b"\x89PNG"
