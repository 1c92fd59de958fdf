"""action_tag_image: where media may come from (paths, local links, Slack files) and the reply.

The link fetcher's network rules and its deadline: tests/actions/test_vision_fetch.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.vision as vision
from actions.answers import PAGES_UNAVAILABLE
from actions.parsing import media_reference
from actions.services import ChartStore, Services, set_services
from actions.vision import (
    ALLOWED_NETS_ENV,
    ASK_FOR_MEDIA,
    CHAT_MAX_PIXELS,
    LINK_FAILED,
    SLACK_FILE_FAILED,
    ActionTagImage,
    MediaError,
    check_local_url,
    http_get,
    resolve_local_media,
    slack_file_allowed,
)
from beacon.scoring import current_scorer
from foundation.settings import Settings
from foundation.workspace import Workspace
from tests.actions.conftest import ActionRun
from tests.analytics.vision.conftest import png_header_only

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")

SHOE = Path("images") / "imagenet-sample" / "n04120489_running_shoe.JPEG"


def photo(path: Path) -> Path:
    """A photo-like synthetic JPEG."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:240, 0:320]
    array = np.stack([x * 0.8, y, (x + y) * 0.4], axis=-1) + rng.normal(0, 8, (240, 320, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """Services over an empty workspace in ``tmp_path/ws`` (its media folder: ``ws/media``)."""
    home = tmp_path / "home"
    workspace = Workspace(tmp_path / "ws" / "beacon.duckdb")
    settings = Settings(home=home, workspace_path=workspace.path, data_dir=None)
    value = Services(
        settings=settings,
        workspace=workspace,
        scorer=current_scorer(),
        charts=ChartStore(home / "charts", "http://actions.test"),
    )
    set_services(value)
    yield value
    set_services(None)


def ask(text: str, audience: str = "staff", **metadata: Any) -> ActionRun:
    """Run the action on a one-message conversation."""
    message = {
        "text": text,
        "intent": {"name": "tag_image", "confidence": 1.0},
        "entities": [],
        "metadata": {"audience": audience, **metadata},
    }
    tracker = Tracker("t1", {}, message, [{"event": "user", **message}], False, None, {}, "")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionTagImage().run(dispatcher, tracker, {}))
    return ActionRun(events=list(events), messages=dispatcher.messages)


@dataclass
class _Served:
    body: bytes
    content_type: str = "image/jpeg"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    need_token: str | None = None
    seen: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, _Served]]]:
    """A loopback HTTP server on port 0 answering each path from a dict the test fills.

    Loopback is refused by default, so the fixture opens exactly 127.0.0.1 for links.
    """
    monkeypatch.setenv(ALLOWED_NETS_ENV, "127.0.0.1/32")
    routes: dict[str, _Served] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            route.seen.append(dict(self.headers))
            if route.need_token and self.headers.get("Authorization") != route.need_token:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html>sign in</html>")
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    httpd.shutdown()
    httpd.server_close()


def test_media_reference_finds_urls_before_paths() -> None:
    assert media_reference("what's in http://127.0.0.1:8000/a/shoe.jpg?") == (
        "url",
        "http://127.0.0.1:8000/a/shoe.jpg",
    )
    assert media_reference("tag <http://10.0.0.4/x.png|x.png> and media/b.jpg") == (
        "url",
        "http://10.0.0.4/x.png",
    )
    assert media_reference("is media/ig-000045.jpg brand safe?") == ("path", "media/ig-000045.jpg")
    assert media_reference("check /srv/clips/Intro.MP4.") == ("path", "/srv/clips/Intro.MP4")
    assert media_reference("whats in this image") is None
    assert media_reference("version 1.2 of the deck") is None


def test_tags_a_file_in_the_media_folder_with_a_heatmap(services: Services, tmp_path: Path) -> None:
    photo(tmp_path / "ws" / "media" / "promo.jpg")
    run = ask("what's in media/promo.jpg?")
    assert run.messages[0]["text"].startswith("promo.jpg: "), run.text
    assert "Brand safety: safe (NSFW score 0.0" in run.text and "Faces: none." in run.text
    assert "The model saw '" in run.text and "mostly here" in run.text
    image_url = run.messages[1]["image"]
    assert image_url.startswith("http://actions.test/charts/")
    chart = services.charts.path_of(image_url.rsplit("/", 1)[-1])
    assert chart is not None
    with Image.open(chart) as heat:
        assert heat.format == "PNG" and heat.size == (320, 240)
    with services.workspace.connect() as con:
        rows = con.execute("SELECT kind, inputs, sources FROM audit").fetchall()
    assert len(rows) == 1 and rows[0][0] == "tag_image" and "media/promo.jpg" in rows[0][1]


@pytest.mark.shared_data
def test_names_the_right_class_of_a_sample_photo(
    services: Services, tmp_path: Path, shared_data_dir: Path
) -> None:
    target = tmp_path / "home" / "media" / "shoe.jpg"
    target.parent.mkdir(parents=True)
    target.write_bytes((shared_data_dir / SHOE).read_bytes())
    run = ask(f"is {target} brand safe?")
    assert run.messages[0]["text"].startswith("shoe.jpg: running shoe "), run.text
    assert "Categories: footwear" in run.text and "saw 'running shoe' mostly here" in run.text


def test_files_outside_the_media_folders_are_refused(services: Services, tmp_path: Path) -> None:
    outside = photo(tmp_path / "private" / "secret.jpg")
    media = tmp_path / "ws" / "media"
    media.mkdir(parents=True)
    (media / "link.jpg").symlink_to(outside)
    for text in (
        f"tag {outside}",
        "tag media/../../private/secret.jpg",
        "tag media/link.jpg",
        "tag /etc/hosts.jpg",
        "tag media/missing.jpg",
    ):
        run = ask(text)
        assert run.text.startswith("I can only open files in the media folders"), (text, run.text)
        assert len(run.messages) == 1
    with pytest.raises(MediaError, match=r"'media' is not a file"):
        resolve_local_media("media", tmp_path / "ws", (media.resolve(), tmp_path.resolve()))


def test_tags_an_image_from_a_local_link(
    services: Services, tmp_path: Path, server: tuple[str, dict[str, _Served]]
) -> None:
    base, routes = server
    routes["/img/pic.jpg"] = _Served(photo(tmp_path / "pic.jpg").read_bytes())
    run = ask(f"what is in {base}/img/pic.jpg")
    assert run.messages[0]["text"].startswith("pic.jpg: ") and "image" in run.messages[1]


def test_bad_links_get_one_plain_sentence(
    services: Services,
    tmp_path: Path,
    server: tuple[str, dict[str, _Served]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Status, content type and address go to the log; the chat hears one sentence."""
    base, routes = server
    routes["/page.jpg"] = _Served(b"<html></html>", content_type="text/html")
    routes["/moved.jpg"] = _Served(b"", status=302, headers={"Location": "http://8.8.8.8/x.jpg"})
    routes["/broken.jpg"] = _Served(b"not a jpeg at all", content_type="image/jpeg")
    expected = {
        f"{base}/page.jpg": LINK_FAILED,
        f"{base}/moved.jpg": LINK_FAILED,
        f"{base}/gone.jpg": LINK_FAILED,
        "http://8.8.8.8/x.jpg": LINK_FAILED,
        "http://169.254.169.254/latest/meta-data/x.jpg": LINK_FAILED,
        f"{base.replace('127.0.0.1', '127.0.0.2')}/page.jpg": LINK_FAILED,
        f"{base}/broken.jpg": "broken.jpg: media.jpg is not an image Beacon reads",
        "ftp://127.0.0.1/x.jpg": "expected an http:// or https:// link, got 'ftp://",
    }
    with caplog.at_level("INFO", logger="actions.vision"):
        for url, words in expected.items():
            run = ask(f"tag {url}")
            assert len(run.messages) == 1 and run.text.startswith(words), (url, run.text)
    assert not any(d in LINK_FAILED for d in ("404", "302", "text/html", "8.8", "169.254", "127"))
    logged = caplog.text
    for detail in ("HTTP 404", "redirect 302 to http://8.8.8.8/x.jpg", "'text/html'"):
        assert detail in logged, logged
    assert "resolves to 8.8.8.8" in logged and "resolves to 169.254.169.254" in logged


def test_downloads_are_capped(
    server: tuple[str, dict[str, _Served]], caplog: pytest.LogCaptureFixture
) -> None:
    base, routes = server
    routes["/big.jpg"] = _Served(b"x" * 5000)
    with pytest.raises(MediaError, match=r"^I couldn't fetch an image or video from that link"):
        http_get(f"{base}/big.jpg", timeout_s=5, max_bytes=1000)
    assert "Content-Length 5000 over 1000 bytes" in caplog.text
    host, port, address = check_local_url(f"{base}/big.jpg")
    assert (host, address) == ("127.0.0.1", "127.0.0.1") and port > 0
    kind, body = http_get(f"{base}/big.jpg", timeout_s=5, connect_to=address)
    assert kind == "image/jpeg" and len(body) == 5000


def test_slack_files_are_fetched_with_the_bot_token(
    services: Services,
    tmp_path: Path,
    server: tuple[str, dict[str, _Served]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, routes = server
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("BEACON_SLACK_API_URL", f"{base}/api/")
    route = _Served(photo(tmp_path / "s.jpg").read_bytes(), need_token="Bearer xoxb-test")
    routes["/files-pri/T1-F1/shoe.jpg"] = route
    shared = {"id": "F1", "name": "shoe.jpg", "url_private": f"{base}/files-pri/T1-F1/shoe.jpg"}
    run = ask("what's in this image?", slack={"channel": "C1", "files": [shared]})
    assert run.messages[0]["text"].startswith("shoe.jpg: "), run.text
    assert route.seen[0]["Authorization"] == "Bearer xoxb-test"

    elsewhere = dict(shared, url_private="https://example.com/files-pri/shoe.jpg")
    refused = ask("what's in this image?", slack={"files": [elsewhere]})
    assert refused.text == "that Slack file link is not on Slack's file server, so I won't fetch it"
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-wrong")
    wrong = ask("what's in this image?", slack={"files": [shared]})
    assert wrong.text == SLACK_FILE_FAILED
    assert slack_file_allowed(
        "https://files.slack.com/files-pri/T1/x.png", "https://slack.com/api/"
    )
    assert not slack_file_allowed("http://files.slack.com/x.png", "https://slack.com/api/")


def test_videos_get_timed_segments(services: Services, tmp_path: Path) -> None:
    from tests.analytics.vision.test_video import synthetic, write_video

    clip = tmp_path / "home" / "media" / "clip.avi"
    clip.parent.mkdir(parents=True)
    write_video(clip, [synthetic(1), synthetic(2)], seconds=2)
    run = ask(f"is {clip} safe for the brand")
    assert len(run.messages) == 1, run.text
    assert run.text.startswith("clip.avi (0:04): 0:00–"), run.text
    assert "; 1 cut." in run.text and "Brand safety: safe" in run.text


def test_chat_videos_are_held_to_the_chat_limits(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.analytics.vision.test_video import synthetic, write_video

    clip = tmp_path / "home" / "media" / "clip.avi"
    clip.parent.mkdir(parents=True)
    write_video(clip, [synthetic(1), synthetic(2)], seconds=2)
    monkeypatch.setattr(vision, "CHAT_VIDEO_SECONDS", 3.0)
    run = ask(f"is {clip} safe for the brand")
    assert run.text == (
        "clip.avi: clip.avi is 0:04 long; I take videos of at most 0:03: trim it first"
    )


def test_chat_images_have_a_lower_pixel_cap_than_pillow(services: Services, tmp_path: Path) -> None:
    """49 MP is under Pillow's 89 MP bomb limit, but over what a chat answer decodes."""
    media = tmp_path / "ws" / "media"
    media.mkdir(parents=True)
    png_header_only(media / "poster.png", 7000, 7000)
    run = ask("what's in media/poster.png?")
    assert len(run.messages) == 1, run.text
    assert run.text.startswith("poster.png: poster.png is 7000x7000 = 49,000,000 pixels")
    assert f"expected at most {CHAT_MAX_PIXELS:,}" in run.text


def test_local_media_files_have_a_size_cap(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "ws" / "media" / "big.mp4"
    big.parent.mkdir(parents=True)
    big.write_bytes(b"\0" * 300_000)
    monkeypatch.setattr(vision, "MAX_LOCAL_MEDIA_BYTES", 200_000)
    run = ask("is media/big.mp4 brand safe?")
    assert run.text == (
        "'media/big.mp4' is 0.3 MB; I open media files of at most 0.2 MB. Send a smaller copy."
    )


def test_tags_the_picture_of_a_post_named_in_the_message(
    services: Services, tmp_path: Path
) -> None:
    picture = photo(tmp_path / "ws" / "demo-media" / "ig-000045.jpg")
    with services.workspace.connect() as con:
        for post_id, path in (("ig-000045", str(picture)), ("ig-000046", None)):
            con.execute(
                "INSERT INTO posts VALUES (?, 'instagram', 'a', 't', now(), NULL, 1, 1, 1, NULL, "
                "?, ?, NULL, 'test', now())",
                [post_id, "image" if path else "none", path],
            )
    run = ask("tag the image in ig-000045")
    assert run.messages[0]["text"].startswith("ig-000045's ig-000045.jpg: "), run.text
    assert (
        ask("what's in ig-000046?").text == "post ig-000046 has no image or video in the workspace"
    )


def test_without_media_it_asks_for_it_and_customers_get_the_help_pages(services: Services) -> None:
    assert ask("what's in this image?").text == ASK_FOR_MEDIA
    # The help pages answer customers instead; this workspace has no document index, so
    # they hear that plainly, with the offer of a person.
    assert ask("what's in media/x.jpg?", audience="customer").text == PAGES_UNAVAILABLE
