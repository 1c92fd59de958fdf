"""A tiny static server for the support page and its chat widget (``web/``).

    python -m beacon.widget --port 8080 --bot-url http://127.0.0.1:5005

Serves the files under ``web/`` (GET and HEAD only; nothing outside that folder,
no hidden files, no directory listings) and tells the page where the bot is:

- ``/config.js`` sets ``window.BEACON_WIDGET_CONFIG = {"botUrl": ...}`` for pages
  that embed the widget without a ``data-bot-url``;
- in the HTML pages it serves, the placeholder ``%BEACON_BOT_URL%`` (the demo
  page's ``data-bot-url``) is replaced by the bot URL, HTML-escaped.

The widget talks to Rasa's REST channel directly from the browser as a customer
(Rasa runs with ``--cors "*"``); this server never sees the conversation.

Pages carry a Content-Security-Policy (scripts, styles and connections only from this
server and the bot; no framing), and a connection that sends nothing for
``timeout_s`` seconds is closed, at most :data:`MAX_CONNECTIONS` at once, so a client
dripping bytes cannot hold the server's threads.
``beacon serve`` runs it as the stack's third process (:class:`beacon.stack.Stack`).
"""

from __future__ import annotations

import argparse
import html
import json
import mimetypes
import posixpath
import threading
import urllib.parse
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from foundation.exceptions import ConfigError
from foundation.settings import PROJECT_ROOT

__all__ = ["BOT_URL_PLACEHOLDER", "MAX_CONNECTIONS", "WEB_ROOT", "main", "make_server"]

WEB_ROOT = PROJECT_ROOT / "web"
BOT_URL_PLACEHOLDER = "%BEACON_BOT_URL%"
_CONFIG_PATH = "/config.js"
#: Seconds a connection may stay silent before it is closed.
DEFAULT_TIMEOUT_S = 10.0
#: Connections served at once; more are closed straight away.
MAX_CONNECTIONS = 64
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


def _check_bot_url(bot_url: str) -> str:
    parsed = urllib.parse.urlsplit(bot_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"bot_url must be an http(s) URL such as http://127.0.0.1:5005 (got {bot_url!r})"
        )
    return bot_url.rstrip("/")


def _resolve(root: Path, url_path: str) -> Path | None:
    """The file under ``root`` that ``url_path`` names, or None (missing, hidden or outside)."""
    path = posixpath.normpath(urllib.parse.unquote(url_path.split("?", 1)[0].split("#", 1)[0]))
    parts = [part for part in path.split("/") if part]
    if any(part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
        return None  # hidden files, "..", and Windows separators never resolve
    candidate = root.joinpath(*parts) if parts else root
    if candidate.is_dir():
        candidate = candidate / "index.html"
    try:
        resolved = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError, OSError):
        return None
    if not resolved.is_file() or not resolved.is_relative_to(root):
        return None  # a symlink pointing out of the web root counts as missing
    return resolved


def content_security_policy(bot_url: str) -> str:
    """The pages' policy: everything from this server, conversations with the bot only.

    Images may come from any http(s) origin because answers may show the action
    server's charts, wherever it is published; nothing may frame the page.
    """
    bot_origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(bot_url))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"connect-src 'self' {bot_origin}; img-src 'self' data: http: https:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _handler(root: Path, bot_url: str, timeout_s: float) -> type[BaseHTTPRequestHandler]:
    config_js = (
        "window.BEACON_WIDGET_CONFIG = " + json.dumps({"botUrl": bot_url}) + ";\n"
    ).encode()
    escaped_url = html.escape(bot_url, quote=True)
    policy = content_security_policy(bot_url)

    class WidgetHandler(BaseHTTPRequestHandler):
        server_version = "BeaconWidget"
        sys_version = ""
        timeout = timeout_s  # applied to the connection's socket: a silent client is dropped

        def _body(self) -> tuple[HTTPStatus, str, bytes]:
            if self.path.split("?", 1)[0] == _CONFIG_PATH:
                return HTTPStatus.OK, _TYPES[".js"], config_js
            path = _resolve(root, self.path)
            if path is None:
                return HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n"
            body = path.read_bytes()
            content_type = _TYPES.get(path.suffix) or (
                mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            )
            if path.suffix == ".html":
                body = body.replace(BOT_URL_PLACEHOLDER.encode(), escaped_url.encode())
            return HTTPStatus.OK, content_type, body

        def _respond(self, send_body: bool) -> None:
            status, content_type, body = self._body()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "same-origin")
            if content_type.startswith("text/html"):
                self.send_header("Content-Security-Policy", policy)
                self.send_header("X-Frame-Options", "DENY")
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._respond(send_body=True)

        def do_HEAD(self) -> None:
            self._respond(send_body=False)

    return WidgetHandler


class _BoundedServer(ThreadingHTTPServer):
    """A threading server that serves at most ``max_connections`` connections at once."""

    daemon_threads = True

    def __init__(self, *args: Any, max_connections: int = MAX_CONNECTIONS, **kwargs: Any) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # full: close it rather than queue another thread
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_server(
    host: str,
    port: int,
    bot_url: str,
    root: Path = WEB_ROOT,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """A threading HTTP server for ``root`` that points the widget at ``bot_url``.

    Args:
        host: Interface to bind.
        port: Port to bind (0: any free port; read it from ``server.server_address``).
        bot_url: Base URL of the Rasa server the widget talks to, e.g. ``http://127.0.0.1:5005``.
        root: The folder to serve (``web/`` of the project by default).
        timeout_s: Seconds a connection may stay silent before it is closed.
        max_connections: Connections served at once; more are closed at once.

    Raises:
        ConfigError: ``bot_url`` is not an http(s) URL, ``root`` is not a folder, or the
            port can't be bound.
    """
    bot_url = _check_bot_url(bot_url)
    if not root.is_dir():
        raise ConfigError(
            f"the widget's web folder {root} does not exist; expected web/ in the project"
        )
    try:
        server = _BoundedServer(
            (host, port),
            _handler(root.resolve(), bot_url, timeout_s),
            max_connections=max_connections,
        )
    except OSError as error:
        raise ConfigError(
            f"can't listen on {host}:{port} ({error.strerror}); pick another port with --widget-port"
        ) from None
    return server


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: serve ``web/`` until interrupted."""
    parser = argparse.ArgumentParser(description="Serve Beacon's support page and chat widget.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (8080; 0 = any free port)")
    parser.add_argument("--bot-url", required=True, help="the Rasa server, http://HOST:PORT")
    parser.add_argument("--root", type=Path, default=WEB_ROOT, help="folder to serve (web/)")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.host, args.port, args.bot_url, args.root)
    except ConfigError as error:
        parser.exit(2, f"error: {error}\n")
    host, port = server.server_address[:2]
    print(f"serving {args.root} at http://{host!s}:{port} (bot: {args.bot_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
