"""The support page's static server (beacon.widget): files, the bot URL, 404s, no escapes."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from beacon.stack import free_port
from beacon.widget import BOT_URL_PLACEHOLDER, WEB_ROOT, make_server
from foundation.exceptions import ConfigError

BOT_URL = "http://127.0.0.1:5999"


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    """A small web root with a page, a nested file, a hidden file and a secret next to it."""
    root = tmp_path / "web"
    (root / "widget").mkdir(parents=True)
    (root / "index.html").write_text(
        f'<script src="widget/w.js" data-bot-url="{BOT_URL_PLACEHOLDER}"></script>'
    )
    (root / "widget" / "w.js").write_text("console.log('w');")
    (root / "widget" / "w.css").write_text("p { color: red; }")
    (root / ".env").write_text("SECRET=1")
    (tmp_path / "secret.txt").write_text("outside the web root")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture
def base_url(web_root: Path) -> Iterator[str]:
    yield from _serve(make_server("127.0.0.1", 0, BOT_URL, web_root))


def _raw_get(base_url: str, path: str) -> int:
    """GET a path exactly as written (httpx would normalise ``..`` away)."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_index_page_gets_the_bot_url(base_url: str) -> None:
    reply = httpx.get(f"{base_url}/", timeout=5)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert f'data-bot-url="{BOT_URL}"' in reply.text
    assert BOT_URL_PLACEHOLDER not in reply.text


def test_bot_url_is_html_escaped(web_root: Path) -> None:
    tricky = 'http://example.test/"><script>alert(1)</script>'
    for body in _serve(make_server("127.0.0.1", 0, tricky, web_root)):
        page = httpx.get(f"{body}/index.html", timeout=5).text
        assert "<script>alert(1)" not in page
        assert "&quot;&gt;&lt;script&gt;" in page


def test_config_js_names_the_bot(base_url: str) -> None:
    reply = httpx.get(f"{base_url}/config.js", timeout=5)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/javascript")
    prefix = "window.BEACON_WIDGET_CONFIG = "
    assert reply.text.startswith(prefix)
    assert json.loads(reply.text.removeprefix(prefix).strip().rstrip(";")) == {"botUrl": BOT_URL}


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/widget/w.js", "text/javascript; charset=utf-8", "console.log('w');"),
        ("/widget/w.css?v=2", "text/css; charset=utf-8", "p { color: red; }"),
    ],
)
def test_serves_files_with_their_types(
    base_url: str, path: str, content_type: str, body: str
) -> None:
    reply = httpx.get(base_url + path, timeout=5)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == content_type
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.text == body


def test_head_sends_headers_without_a_body(base_url: str) -> None:
    reply = httpx.head(f"{base_url}/widget/w.js", timeout=5)
    assert reply.status_code == 200
    assert reply.headers["content-length"] == str(len("console.log('w');"))
    assert reply.content == b""


@pytest.mark.parametrize("path", ["/missing.html", "/widget/", "/widget/nope.js", "/index.html/x"])
def test_missing_files_are_404(base_url: str, path: str) -> None:
    assert httpx.get(base_url + path, timeout=5).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/widget/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/widget/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/.env",
        "/widget/..%5c..%5csecret.txt",
        "/link.txt",
        "//etc/passwd",
        "/%00index.html",
    ],
)
def test_nothing_outside_the_web_root_or_hidden_is_served(base_url: str, path: str) -> None:
    assert _raw_get(base_url, path) == 404


def test_post_is_not_allowed(base_url: str) -> None:
    assert httpx.post(f"{base_url}/index.html", timeout=5).status_code == 501


def test_bad_bot_url_is_refused(web_root: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"bot_url must be an http\(s\) URL .*got 'localhost:5005'"
    ):
        make_server("127.0.0.1", 0, "localhost:5005", web_root)


def test_missing_web_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"web folder .* does not exist"):
        make_server("127.0.0.1", 0, BOT_URL, tmp_path / "nope")


def test_taken_port_is_a_config_error(web_root: Path) -> None:
    first = make_server("127.0.0.1", 0, BOT_URL, web_root)
    try:
        port = first.server_address[1]
        with pytest.raises(ConfigError, match=f"can't listen on 127.0.0.1:{port}"):
            make_server("127.0.0.1", port, BOT_URL, web_root)
    finally:
        first.server_close()


def test_project_demo_page_embeds_the_widget_with_one_script_tag() -> None:
    page = (WEB_ROOT / "index.html").read_text()
    assert page.count("<script") == 1
    assert 'src="widget/beacon-widget.js"' in page and BOT_URL_PLACEHOLDER in page
    assert (WEB_ROOT / "widget" / "beacon-widget.js").is_file()
    assert (WEB_ROOT / "widget" / "beacon-widget.css").is_file()


def test_module_runs_as_a_command() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "beacon.widget", "--port", str(port), "--bot-url", BOT_URL],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "beacon.widget exited while starting"
                assert time.monotonic() < deadline, "beacon.widget did not answer in 30 s"
                time.sleep(0.2)
        assert reply.status_code == 200 and f'data-bot-url="{BOT_URL}"' in reply.text
        assert "Trailbird" in reply.text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_command_rejects_a_bad_bot_url() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "beacon.widget", "--port", "0", "--bot-url", "nope"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "error: bot_url must be an http(s) URL" in result.stderr


def test_pages_carry_a_content_security_policy_and_refuse_framing(base_url: str) -> None:
    page = httpx.get(base_url + "/", timeout=5)
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert f"connect-src 'self' {BOT_URL}" in policy  # the widget may talk to the bot only
    assert page.headers["X-Frame-Options"] == "DENY"
    script = httpx.get(base_url + "/widget/w.js", timeout=5)
    assert "Content-Security-Policy" not in script.headers


def test_a_silent_connection_is_closed(web_root: Path) -> None:
    """A client that connects and sends nothing (or drips) can't hold a thread for ever."""
    import socket

    for base in _serve(make_server("127.0.0.1", 0, BOT_URL, web_root, timeout_s=0.5)):
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as client:
            client.sendall(b"GET / HT")  # and then nothing
            assert client.recv(1024) == b""  # the server gave up on it


def test_connections_over_the_cap_are_closed_not_queued(web_root: Path) -> None:
    import socket

    server = make_server("127.0.0.1", 0, BOT_URL, web_root, timeout_s=30, max_connections=2)
    for base in _serve(server):
        host, port = base.removeprefix("http://").split(":")
        held = [socket.create_connection((host, int(port)), timeout=30) for _ in range(2)]
        try:
            time.sleep(0.2)  # let the server take both (ordering, not a timing assertion)
            with socket.create_connection((host, int(port)), timeout=30) as third:
                assert third.recv(1024) == b""  # closed straight away
        finally:
            for connection in held:
                connection.close()
        # Once they are gone (their threads see the close), the server answers again.
        for _ in range(50):
            try:
                assert _raw_get(base, "/") == 200
                break
            except (ConnectionError, http.client.HTTPException):
                time.sleep(0.1)
        else:
            raise AssertionError(
                "the server never answered again after the held connections closed"
            )
