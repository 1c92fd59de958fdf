"""A local fake of Slack's Web API that records every call.

Point slack-sdk at it with ``WebClient(token=..., base_url=fake.base_url)`` (or
``SLACK_API_URL`` / ``BEACON_SLACK_API_URL`` where Beacon reads it). It answers the
methods Beacon uses the way Slack does (``ok``, ``ts``, ``channel``; the two-step
``files_upload_v2`` flow with an upload URL served by this fake) and ``ok: true``
for anything else, so a test can assert on :attr:`FakeSlack.calls`.

``users.info`` knows the users added with :meth:`FakeSlack.add_user` (anyone else is
``user_not_found``, as Slack says); ``conversations.info`` knows the channels added
with :meth:`FakeSlack.add_channel`, and answers any other id as an ordinary channel
of the workspace, not shared with anyone.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass(frozen=True)
class SlackCall:
    """One request the fake received.

    Attributes:
        method: Web API method (``chat.postMessage``) or ``upload`` for file bytes.
        params: Form or JSON parameters (form values as single strings).
        token: The bearer token sent, or None.
        body: Raw body bytes (the file content for ``upload``).
    """

    method: str
    params: dict[str, Any]
    token: str | None
    body: bytes = field(repr=False)


class FakeSlack:
    """A threaded HTTP server on ``127.0.0.1`` speaking a subset of Slack's Web API.

    Use as a context manager; :attr:`base_url` ends with ``/api/`` as slack-sdk expects.
    """

    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._failures: dict[str, list[tuple[int, int | None]]] = {}
        self.failed: list[SlackCall] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}

    def add_user(
        self,
        user_id: str,
        team_id: str,
        *,
        restricted: bool = False,
        ultra_restricted: bool = False,
        **fields: Any,
    ) -> None:
        """Let ``users.info`` answer for ``user_id`` (a guest when ``restricted``).

        ``fields`` are added to the user object as they are (``is_stranger=True``,
        ``deleted=True``, or ``is_restricted=None`` to leave a field out).
        """
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team_id,
            "name": user_id.lower(),
            "deleted": False,
            "is_bot": False,
            "is_restricted": restricted,
            "is_ultra_restricted": ultra_restricted,
            **fields,
        }
        with self._lock:
            self._users[user_id] = {k: v for k, v in user.items() if v is not None}

    def add_channel(self, channel_id: str, *, ext_shared: bool = False, **fields: Any) -> None:
        """Let ``conversations.info`` answer for ``channel_id`` (shared externally when asked)."""
        with self._lock:
            self._channels[channel_id] = {
                **_channel_object(channel_id),
                "is_ext_shared": ext_shared,
                "is_shared": ext_shared,
                **fields,
            }

    def fail_next(
        self, method: str, status: int, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP ``status``.

        429 carries ``Retry-After: retry_after`` (seconds) as Slack sends it. A failed
        call lands in :attr:`failed`, not in :attr:`calls`, so :attr:`calls` holds what
        Slack accepted: a retried message appears there once.
        """
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, retry_after)] * times)

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> FakeSlack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving on a free port."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                fake._handle(self, body)

            def do_GET(self) -> None:  # users.info and conversations.info are GETs
                fake._handle(self, b"")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/api/``."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    # -- queries ---------------------------------------------------------------------
    def calls_to(self, method: str) -> list[SlackCall]:
        """Recorded calls of one method, oldest first."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[SlackCall]:
        """Wait until ``count`` calls of ``method`` arrived; return them.

        Raises:
            AssertionError: Fewer arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} {method} call(s) within {timeout}s, got "
            f"{len(self.calls_to(method))}; all calls: {[c.method for c in self.calls]}"
        )

    # -- serving ---------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        path = urlparse(handler.path).path
        auth = handler.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() or None
        if path.startswith("/upload/"):
            method, params = "upload", {"file_id": path.rsplit("/", 1)[-1]}
        else:
            method = path.removeprefix("/api/")
            params = _parse_params(handler.headers.get("Content-Type") or "", body)
            # slack-sdk's async client sends the files.* parameters in the query string.
            query = parse_qs(urlparse(handler.path).query)
            params = {**{key: values[-1] for key, values in query.items()}, **params}
            token = token or params.get("token")
        call = SlackCall(method=method, params=params, token=token, body=body)
        with self._lock:
            pending = self._failures.get(method)
            failure = pending.pop(0) if pending else None
            (self.failed if failure else self.calls).append(call)
        if failure is not None:
            status, retry_after = failure
            error = json.dumps(
                {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}
            )
            handler.send_response(status)
            if retry_after is not None:
                handler.send_header("Retry-After", str(retry_after))
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(error)))
            handler.end_headers()
            handler.wfile.write(error.encode())
            return
        reply = self._reply(method, params, handler)
        payload = json.dumps(reply).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _reply(
        self, method: str, params: dict[str, Any], handler: BaseHTTPRequestHandler
    ) -> dict[str, Any]:
        if method == "upload":
            return {"ok": True}
        ts = f"1700000000.{next(self._ts):06d}"
        channel = params.get("channel") or params.get("channel_id") or "C0FAKE"
        if method in {"chat.postMessage", "chat.update", "chat.postEphemeral"}:
            return {
                "ok": True,
                "channel": channel,
                "ts": params.get("ts") or ts,
                "message": {"text": params.get("text", ""), "ts": ts},
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.base_url.removesuffix('/api/')}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            files = params.get("files")
            if isinstance(files, str):
                files = json.loads(files)
            return {
                "ok": True,
                "files": [{"id": f["id"], "title": f.get("title", "")} for f in files or []],
            }
        if method == "users.info":
            with self._lock:
                user = self._users.get(str(params.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.info":
            channel_id = str(params.get("channel"))
            with self._lock:
                known = self._channels.get(channel_id)
            return {"ok": True, "channel": known or _channel_object(channel_id)}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBEACON", "bot_id": "BBEACON", "team_id": "TFAKE"}
        if method == "conversations.list":
            return {
                "ok": True,
                "channels": [
                    {"id": "C0MARKETING", "name": "marketing"},
                    {"id": "C0SUPPORT", "name": "support"},
                ],
                "response_metadata": {"next_cursor": ""},
            }
        return {"ok": True}


def _channel_object(channel_id: str) -> dict[str, Any]:
    """``conversations.info``'s channel for an ordinary channel of the workspace."""
    im = channel_id.startswith("D")
    channel: dict[str, Any] = {"id": channel_id, "is_im": im, "is_channel": not im}
    if not im:
        channel.update(is_ext_shared=False, is_shared=False, is_pending_ext_shared=False)
    return channel


def _parse_params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if "application/json" in content_type:
        parsed = json.loads(body)
        return parsed if isinstance(parsed, dict) else {"_": parsed}
    if "multipart/form-data" in content_type:
        return {"_multipart": True}
    return {key: values[-1] for key, values in parse_qs(body.decode()).items()}
