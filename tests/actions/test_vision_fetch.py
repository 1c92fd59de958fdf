"""The link fetcher of action_tag_image: which addresses it reaches, and its deadline.

Links may point at RFC 1918 and IPv6 unique local addresses, plus the networks of
``BEACON_MEDIA_ALLOWED_NETS``; never at the machine itself or link-local addresses
unless a listed network is inside them, and IPv4 addresses wrapped in IPv6 ones are
judged by what they reach. A download has a wall-clock deadline however slowly the
server sends (checked with a real socket server that drips bytes).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from actions.vision import (
    ALLOWED_NETS_ENV,
    LINK_FAILED,
    MediaError,
    address_allowed,
    allowed_networks,
    check_local_url,
    http_get,
)
from foundation.exceptions import ConfigError


@pytest.fixture(autouse=True)
def _no_extra_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOWED_NETS_ENV, raising=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5055/charts/x.png",  # the action server itself
        "http://localhost/x.jpg",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://0.0.0.0/x.jpg",
        "http://[::ffff:0.0.0.0]/x.jpg",  # passed the old unspecified-address check
        "http://[::ffff:127.0.0.1]/x.jpg",
        "http://[::1]/x.jpg",
        "http://[fe80::1]/x.jpg",
        "http://[64:ff9b::7f00:1]/x.jpg",  # NAT64 of 127.0.0.1
        "http://[2002:7f00:1::]/x.jpg",  # 6to4 of 127.0.0.1
        "http://8.8.8.8/x.jpg",
        "http://100.64.0.1/x.jpg",  # carrier-grade NAT, not RFC 1918
    ],
)
def test_loopback_link_local_and_public_addresses_are_refused(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(MediaError) as refused:
        check_local_url(url)
    assert str(refused.value) == LINK_FAILED
    assert "outside the allowed networks" in caplog.text


def test_the_team_network_is_allowed_without_configuration_and_the_machine_is_not() -> None:
    for url, address in (
        ("http://10.0.0.4/x.jpg", "10.0.0.4"),
        ("http://172.20.1.2:8080/x.jpg", "172.20.1.2"),
        ("https://192.168.1.20/x.jpg", "192.168.1.20"),
        ("http://[fd12:3456::1]/x.jpg", "fd12:3456::1"),
        ("http://[::ffff:192.168.1.20]/x.jpg", "::ffff:192.168.1.20"),
    ):
        assert check_local_url(url)[2] == address
    with pytest.raises(MediaError):
        check_local_url("http://127.0.0.1/x.jpg")


def test_listed_networks_open_exactly_what_they_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOWED_NETS_ENV, " 127.0.0.1/32, 100.64.0.0/10 ,")
    networks = allowed_networks()
    assert address_allowed("127.0.0.1", networks)
    assert address_allowed("100.64.3.4", networks)
    assert not address_allowed("127.0.0.2", networks)
    assert not address_allowed("169.254.169.254", networks)
    # A wide network opens the internet, but never the machine or link-local addresses.
    monkeypatch.setenv(ALLOWED_NETS_ENV, "0.0.0.0/0,::/0")
    networks = allowed_networks()
    assert address_allowed("8.8.8.8", networks) and address_allowed("2001:db8::1", networks)
    for address in ("127.0.0.1", "169.254.169.254", "0.0.0.0", "::ffff:127.0.0.1", "fe80::1"):
        assert not address_allowed(address, networks), address
    assert not address_allowed("2002:a9fe:a9fe::", networks)  # 6to4 of 169.254.169.254
    monkeypatch.setenv(ALLOWED_NETS_ENV, "10.20.0.0/16,intranet")
    with pytest.raises(ConfigError, match=rf"^{ALLOWED_NETS_ENV} must list networks .*'intranet'"):
        allowed_networks()


@dataclass
class _Drip:
    """A TCP server on loopback that answers every request one byte at a time."""

    head: bytes
    drip: bytes
    interval_s: float
    port: int = 0
    sent: list[int] = field(default_factory=list)


def _serve_drip(listener: socket.socket, drip: _Drip) -> None:
    connection, _ = listener.accept()
    with connection:
        connection.recv(65536)
        count = 0
        try:
            connection.sendall(drip.head)
            for byte in drip.drip:
                time.sleep(drip.interval_s)
                connection.sendall(bytes([byte]))
                count += 1
        except OSError:
            pass  # the client hung up: what the deadline is for
        drip.sent.append(count)


@pytest.fixture
def dripping() -> Iterator[Callable[[bytes, bytes], _Drip]]:
    """Start a dripping server on 127.0.0.1 for a :class:`_Drip` (bounded: 40 bytes)."""
    listeners: list[tuple[socket.socket, threading.Thread]] = []

    def start(head: bytes, drip: bytes) -> _Drip:
        listener = socket.create_server(("127.0.0.1", 0))
        spec = _Drip(head, drip, interval_s=0.1, port=listener.getsockname()[1])
        thread = threading.Thread(target=_serve_drip, args=(listener, spec), daemon=True)
        thread.start()
        listeners.append((listener, thread))
        return spec

    yield start
    for listener, thread in listeners:
        thread.join(timeout=10)
        listener.close()


@pytest.mark.parametrize(
    ("scheme", "head", "drip"),
    [
        (
            "http",
            b"HTTP/1.1 200 OK\r\n",
            b"Content-Type: image/jpeg\r\nX: " + b"x" * 20 + b"\r\n\r\n",
        ),
        (
            "http",
            b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 40\r\n\r\n",
            b"y" * 40,
        ),
        ("http", b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\r\n", b"z" * 40),
        ("https", b"\x16\x03\x03\x40\x00", b"\x02" * 40),  # a TLS handshake record, slowly
    ],
    ids=["headers", "body", "body-without-length", "tls-handshake"],
)
def test_a_server_dripping_bytes_is_cut_off_at_the_deadline(
    scheme: str,
    head: bytes,
    drip: bytes,
    dripping: Callable[[bytes, bytes], _Drip],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each byte comes well within the socket timeout; only the whole-download deadline ends it."""
    server = dripping(head, drip)
    with pytest.raises(MediaError) as failed:
        http_get(
            f"{scheme}://127.0.0.1:{server.port}/slow.jpg",
            timeout_s=5,
            connect_to="127.0.0.1",
            deadline_s=0.5,
        )
    assert str(failed.value) == LINK_FAILED
    assert "no complete answer within 0.5 s" in caplog.text
    for _ in range(100):  # the server notices the hang-up at its next byte
        if server.sent:
            break
        time.sleep(0.1)
    assert server.sent and server.sent[0] < len(drip), "the whole drip was waited for"
