"""The shipped nginx config in front of the REST channel: run by test_nginx_proxy.py.

A real nginx (``NGINX``) runs ``deploy/nginx/beacon.conf`` with only its ports and
certificate paths changed, terminating TLS with a throwaway certificate, in front of
``bot/channels.py``'s REST channel served by a real Sanic server (a recording stand-in
for Rasa's agent, as in ``_rest_channel_checks.py``). Clients connect from different
loopback addresses (127.0.0.2, 127.0.0.3, ...), so the test can see which address the
channel reads. Run as a script with the repository root on ``PYTHONPATH``; prints
``all checks passed`` or fails on an assert.
"""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bot._rest_channel_checks import Recorder

ROOT = Path(__file__).resolve().parents[2]
STAFF = "s" * 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _nginx_config(folder: Path, rasa_port: int, https_port: int, http_port: int) -> Path:
    """The shipped server blocks, ports and certificate swapped, inside a minimal nginx.conf."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=beacon.example.com", "-keyout", str(folder / "key.pem"),
         "-out", str(folder / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    shipped = (ROOT / "deploy" / "nginx" / "beacon.conf").read_text(encoding="utf-8")
    replacements = {
        "127.0.0.1:5005": f"127.0.0.1:{rasa_port}",
        "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "/etc/ssl/beacon/fullchain.pem": str(folder / "cert.pem"),
        "/etc/ssl/beacon/privkey.pem": str(folder / "key.pem"),
    }
    for old, new in replacements.items():
        assert old in shipped, f"deploy/nginx/beacon.conf no longer has {old!r}"
        shipped = shipped.replace(old, new)
    (folder / "beacon.conf").write_text(shipped, encoding="utf-8")
    main = folder / "nginx.conf"
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    main.write_text(
        f"""
daemon off;
{"user root;" if os.geteuid() == 0 else ""}
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder / "beacon.conf"};
}}
""",
        encoding="utf-8",
    )
    return main


def _post(
    port: int, source: str, body: dict[str, str], headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """POST over HTTPS to nginx from the loopback address ``source``."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the throwaway certificate
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=10, context=context, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST",
            "/webhooks/rest/webhook",
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        reply = connection.getresponse()
        payload = reply.read()
        try:
            return reply.status, json.loads(payload)
        except ValueError:
            return reply.status, payload.decode(errors="replace")
    finally:
        connection.close()


def _wait_for(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nginx did not listen on {port}")


async def _serve_and_check(nginx: str, folder: Path) -> None:
    from sanic import Sanic

    from bot._rate_limit import RATE_LIMITED_MESSAGE, CustomerLimits
    from bot.channels import STAFF_FROM_OUTSIDE_MESSAGE, BeaconRestInput

    channel = BeaconRestInput(
        staff_token=STAFF,
        limits=CustomerLimits(session_per_minute=600, address_per_minute=4),  # a burst of 2
        staff_networks=(ipaddress.ip_network("127.0.0.2/32"),),
        proxy_count=1,
    )
    recorder = Recorder()
    app = Sanic("beacon_proxy_checks")
    app.blueprint(channel.blueprint(recorder), url_prefix="/webhooks/rest")
    rasa_port, https_port, http_port = _free_port(), _free_port(), _free_port()
    server = await app.create_server(
        host="127.0.0.1", port=rasa_port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    config = _nginx_config(folder, rasa_port, https_port, http_port)
    subprocess.run([nginx, "-t", "-c", str(config)], check=True, capture_output=True, timeout=30)
    proxy = subprocess.Popen(
        [nginx, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    loop = asyncio.get_running_loop()

    async def post(
        source: str, sender: str, text: str, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        body = {"sender": sender, "message": text}
        return await loop.run_in_executor(None, _post, https_port, source, body, headers)

    try:
        _wait_for(https_port)
        staff = {"Authorization": f"Bearer {STAFF}"}
        # The staff network is 127.0.0.2 alone; nginx itself connects from 127.0.0.1.
        status, body = await post("127.0.0.2", "st", "hello", staff)
        assert status == 200 and body[0]["text"] == "echo hello", (status, body)
        status, body = await post("127.0.0.3", "st", "hello", staff)
        assert status == 403 and body["error"] == STAFF_FROM_OUTSIDE_MESSAGE, (status, body)
        # A client naming a staff address itself is not believed: nginx appends the real one.
        forged = {**staff, "X-Forwarded-For": "127.0.0.2"}
        status, body = await post("127.0.0.3", "st", "hello", forged)
        assert status == 403, (status, body)

        # Per-address limits follow each customer's own address, not nginx's.
        statuses = [(await post("127.0.0.4", f"c{n}", "hi"))[0] for n in range(3)]
        assert statuses == [200, 200, 429], statuses
        status, body = await post("127.0.0.5", "c9", "hi")
        assert status == 200, (status, body)
        status, body = await post("127.0.0.4", "c10", "hi")
        assert status == 429 and body["error"] == RATE_LIMITED_MESSAGE, (status, body)
        assert ("customer:c9", "hi") in recorder.seen
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        await server.close()


def main() -> None:
    nginx = os.environ["NGINX"]
    with tempfile.TemporaryDirectory() as temp:
        asyncio.run(_serve_and_check(nginx, Path(temp)))
    print("all checks passed")


if __name__ == "__main__":
    main()
