"""Run Beacon's action server: ``python -m actions.server [--host H] [--port P]``.

rasa-sdk's app plus three things of ours: every call except ``/health`` and chart
images must carry ``Authorization: Bearer $BEACON_ACTION_TOKEN`` (else 401); chart
images that actions draw are served at ``/charts/<random name>.png``; and the
models are loaded once before the first request instead of during it.
"""

from __future__ import annotations

import argparse
import hmac
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.services import get_services
from actions.vision import TAG_MODEL
from foundation.exceptions import ConfigError
from foundation.settings import get_settings
from foundation.text import install_log_filter

logger = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/health"})


def _reject_malformed_call(request: Request) -> HTTPResponse | None:
    """400 for a webhook body that is not an action call (rasa-sdk would answer 200 null)."""
    try:
        body = request.json
    except Exception:  # sanic raises on unparsable JSON
        body = None
    if request.headers.get("Content-Encoding") == "deflate":
        return None  # compressed calls are decoded by rasa-sdk itself
    if not isinstance(body, dict) or not isinstance(body.get("next_action"), str):
        return response.json(
            {"error": "expected a JSON action call with a 'next_action' string"}, status=400
        )
    return None


def create_action_app(token: str | None) -> Sanic:
    """rasa-sdk's Sanic app with Beacon's actions, the token check and warm-up.

    Args:
        token: The shared secret; ``None`` is refused so the server never runs open.

    Raises:
        ConfigError: No token was given.
    """
    if not token:
        raise ConfigError(
            "BEACON_ACTION_TOKEN is not set; the action server refuses to run without it "
            "(`make run` generates one, or export your own)"
        )
    executor = ActionExecutor()
    executor.register_package("actions")
    # Only Rasa calls this server, never a browser: no CORS.
    app = create_app(executor, cors_origins=[])

    @app.on_request
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in PUBLIC_PATHS or request.path.startswith("/charts/"):
            return None
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        # As bytes: compare_digest raises on a non-ASCII str (a 500, not a 401); sanic
        # keeps undecodable header bytes as surrogates, which "surrogatepass" encodes too.
        if not given or not hmac.compare_digest(
            given.encode(errors="surrogatepass"), token.encode()
        ):
            return response.json(
                {
                    "error": "missing or wrong token: send 'Authorization: Bearer <BEACON_ACTION_TOKEN>'"
                },
                status=401,
            )
        if request.path == "/webhook" and request.method == "POST":
            return _reject_malformed_call(request)
        return None

    @app.get("/charts/<name>")
    async def chart(_request: Request, name: str) -> HTTPResponse:
        path = get_services().charts.path_of(name)
        if path is None:
            return response.json({"error": "no such chart"}, status=404)
        return await response.file(path, mime_type="image/png")

    @app.before_server_start
    async def warm_up(_app: Sanic) -> None:
        from analytics.vision import warm_up as warm_up_vision  # torch and three models

        get_services().warm_up()
        warm_up_vision(TAG_MODEL)

    return app


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Beacon's action server (rasa-sdk).")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5055, help="port (default 5055)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_log_filter()  # customers' words reach the log: no terminal escapes, no forged lines
    try:
        app = create_action_app(get_settings().action_token)
    except ConfigError as error:
        raise SystemExit(f"error: {error}") from None
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
