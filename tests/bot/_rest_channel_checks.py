"""Checks of bot/channels.py's REST channel under Rasa's Python: run by test_rest_channel.py.

The channel's blueprint is served by a real Sanic server on a loopback port, with a
recording ``on_new_message`` in place of Rasa's agent, so the checks see exactly
what the channel hands Rasa and what it answers over HTTP. Run as a script
(``.venv-bot/bin/python tests/bot/_rest_channel_checks.py``) with the repository
root on ``PYTHONPATH``; prints ``all checks passed`` or fails on an assert.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any


class Recorder:
    """Stands in for Rasa: records each message and answers with its text."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, message: Any) -> None:
        self.seen.append((message.sender_id, message.text))
        await message.output_channel.send_text_message(message.sender_id, f"echo {message.text}")


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, payload.decode(errors="replace")


async def _serve_and_check() -> None:
    import ipaddress
    import socket
    import tempfile
    from pathlib import Path

    from sanic import Sanic

    from bot._rate_limit import DAILY_LIMIT_MESSAGE, FRESH_SESSION_NOTE, CustomerLimits
    from bot.channels import MAX_REQUEST_BYTES, BeaconRestInput
    from foundation.staff_tokens import StaffTokenStore

    limits = CustomerLimits(session_per_minute=600, max_turns=3, session_per_day=5)
    channel = BeaconRestInput(staff_token="s" * 32, limits=limits)
    recorder = Recorder()
    app = Sanic("beacon_rest_checks")
    app.blueprint(channel.blueprint(recorder), url_prefix="/webhooks/rest")
    folder = tempfile.TemporaryDirectory()
    store = StaffTokenStore(Path(folder.name) / "staff-tokens.json")
    inside = BeaconRestInput(staff_token="s" * 32, staff_tokens=store)
    # The same channel where only 10.0.0.0/8 is staff: this test's 127.0.0.1 is "outside".
    outside = BeaconRestInput(
        staff_token="s" * 32,
        staff_tokens=store,
        staff_networks=(ipaddress.ip_network("10.0.0.0/8"),),
    )
    for prefix, rest in (("inside", inside), ("outside", outside)):
        blueprint = rest.blueprint(recorder)
        blueprint.name = f"beacon_rest_{prefix}"
        app.blueprint(blueprint, url_prefix=f"/{prefix}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    loop = asyncio.get_running_loop()

    async def post(body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return await loop.run_in_executor(None, _post, url, body, headers)

    def said(sender: str, text: str) -> bytes:
        return json.dumps({"sender": sender, "message": text}).encode()

    try:
        # Turn cap: the fourth turn of a customer session starts a fresh session first.
        replies = [await post(said("c1", f"question {n}")) for n in range(1, 5)]
        assert all(status == 200 for status, _ in replies), replies
        assert [text for sender, text in recorder.seen] == [
            "question 1",
            "question 2",
            "question 3",
            "/session_start",
            "question 4",
        ], recorder.seen
        assert {sender for sender, _ in recorder.seen} == {"customer:c1"}
        fourth = [m["text"] for m in replies[3][1]]
        assert fourth == [FRESH_SESSION_NOTE, "echo question 4"], fourth
        assert all(FRESH_SESSION_NOTE not in str(body) for _, body in replies[:3])

        # Staff conversations are never capped.
        staff = {"Authorization": "Bearer " + "s" * 32}
        recorder.seen.clear()
        for n in range(5):
            status, _ = await post(said("st", f"staff {n}"), staff)
            assert status == 200
        assert "/session_start" not in [text for _, text in recorder.seen]

        # Daily cap: c1 has sent 4 of its 5; the fifth goes through, the sixth is refused.
        status, _ = await post(said("c1", "five"))
        assert status == 200
        status, body = await post(said("c1", "six"))
        assert status == 429 and body["error"] == DAILY_LIMIT_MESSAGE, (status, body)
        assert body["retry_after_s"] >= 1

        # A body over the cap is refused before anything parses it.
        huge = said("c2", "x" * (MAX_REQUEST_BYTES + 10))
        status, _ = await post(huge)
        assert status == 413, status
        assert all(sender != "customer:c2" for sender, _ in recorder.seen)

        await _check_tokens(store, f"http://127.0.0.1:{port}", recorder)
    finally:
        folder.cleanup()
        server.close()
        await server.wait_closed()
        await server.after_stop()


def check_rest_channel_limits() -> None:
    asyncio.run(_serve_and_check())


async def _check_tokens(store: Any, base: str, recorder: Recorder) -> None:
    from bot.channels import STAFF_FROM_OUTSIDE_MESSAGE

    alice, record = store.create("alice", days=30)
    loop = asyncio.get_running_loop()

    async def post(prefix: str, token: str | None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = json.dumps({"sender": "t", "message": "hello"}).encode()
        return await loop.run_in_executor(None, _post, f"{base}/{prefix}/webhook", body, headers)

    # A per-person token is staff (the sender id is not namespaced as a customer's).
    assert (await post("inside", alice))[0] == 200
    assert recorder.seen[-1][0] == "t"
    # From outside the staff networks, any staff token is refused with a reason.
    for token in (alice, "s" * 32):
        status, body = await post("outside", token)
        assert status == 403 and body["error"] == STAFF_FROM_OUTSIDE_MESSAGE, (status, body)
    # Customers are still welcome from outside.
    assert (await post("outside", None))[0] == 200
    assert recorder.seen[-1][0] == "customer:t"
    # Revoked: the next message is a customer's, without a restart.
    store.revoke(record.token_id)
    assert (await post("inside", alice))[0] == 200
    assert recorder.seen[-1][0] == "customer:t"


if __name__ == "__main__":
    check_rest_channel_limits()
    print(json.dumps("all checks passed"))
