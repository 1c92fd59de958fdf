"""``tag_image`` → :class:`ActionTagImage`: what is in an image or video, and is it brand-safe.

Where the media comes from (first match wins), and what is allowed:

1. **A Slack file** shared with the message (``metadata.slack.files[0].url_private``,
   passed on by bot/slack.py). Downloaded with ``SLACK_BOT_TOKEN``, and only from
   ``https://files.slack.com`` or the origin of ``BEACON_SLACK_API_URL`` (a local fake in
   tests), so the token is never sent anywhere else.
2. **A URL on the team's network** in the message. Every address the host name
   resolves to must lie in an allowed network: the private ranges of RFC 1918 and IPv6
   unique local addresses (fc00::/7), plus those listed in ``BEACON_MEDIA_ALLOWED_NETS``
   (comma-separated, e.g. ``10.20.0.0/16,fd00:1::/64``). Loopback and link-local
   addresses (the action server itself, a cloud's metadata service) open only through a
   listed network inside them (``127.0.0.1/32``, as the tests do), never through a wider
   one; unspecified and multicast addresses never. IPv4 addresses inside IPv6 ones
   (``::ffff:a.b.c.d``, 6to4, NAT64, Teredo) are checked as what they reach. The
   connection goes to the address that was checked (no second lookup to rebind).
   Redirects are refused, the response must be ``image/*`` or ``video/*``, at most
   :data:`MAX_MEDIA_BYTES` are read, and the whole download has
   :data:`DOWNLOAD_DEADLINE_S` seconds, however slowly the server sends. Whatever goes
   wrong, the chat hears one sentence (:data:`LINK_FAILED`); the status, content type
   and address go to the log only, so the bot cannot be used to map the network.
3. **A local file** named in the message. Relative paths are taken from the workspace's
   folder (where posts' ``media_path`` values point); after following links the file
   must lie in ``<workspace folder>/media``, ``<workspace folder>/demo-media`` or
   ``$BEACON_HOME/media``, and be a regular file of at most :data:`MAX_LOCAL_MEDIA_BYTES`.
   Nothing else on the machine can be read this way.
4. **A post** named in the message (``ig-000045``) whose ``media_path`` is a file as in 3.

Images get tags, categories, faces, brand safety and an occlusion heatmap sent as an
image (at most :data:`CHAT_MAX_PIXELS`); videos get timed segments with brand safety
per segment (within :data:`CHAT_VIDEO_SECONDS` of length, :data:`CHAT_VIDEO_PIXELS`
decoded and :data:`CHAT_VIDEO_DECODE_S` of decoding). The work runs in the action
server's small heavy pool (``heavy = True``), never in the threads other questions use.
Models load once per process: at the action server's start (``actions/server.py``),
else on the first question.

The chat answer uses EfficientNet-Lite0 for both the tags and the heatmap (so the
heatmap explains the tag shown first) and a 5x5 occlusion grid: on the 2 shared cores
the ensemble took about 2-13 s per image and a 7x7 Lite0 heatmap 8-15 s, against
Rasa's 20 s action timeout; ``beacon vision tag`` keeps the ensemble as its default.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import mimetypes
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.parsing import media_reference, mentioned_post_ids
from actions.services import Services
from foundation.channel_metadata import SlackFile, read_slack_files
from foundation.exceptions import InputError
from foundation.networks import Address, Network, networks_from_env
from foundation.workspace import queries

#: Largest image or video downloaded.
MAX_MEDIA_BYTES = 20 * 1024 * 1024
#: Wall-clock seconds for a whole download: connecting, the headers and the body.
DOWNLOAD_DEADLINE_S = 15.0
#: Largest local media file (videos from the media folders are bigger than downloads).
MAX_LOCAL_MEDIA_BYTES = 100 * 1024 * 1024
#: Most pixels of an image in a chat answer: below Pillow's 89 MP, as 40 MP already
#: decode to 120 MB and the heatmap draws over the full picture.
CHAT_MAX_PIXELS = 40_000_000
#: Longest video in a chat answer, in seconds.
CHAT_VIDEO_SECONDS = 180.0
#: Most pixels decoded from one video in a chat answer (a minute of 1080p at 30 fps).
CHAT_VIDEO_PIXELS = 1920 * 1080 * 30 * 60
#: Wall-clock seconds a chat answer spends decoding one video.
CHAT_VIDEO_DECODE_S = 10.0
#: Networks links may point at without configuration: RFC 1918 and IPv6 unique local.
DEFAULT_MEDIA_NETS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
#: Environment variable listing more networks links may point at, comma-separated.
ALLOWED_NETS_ENV = "BEACON_MEDIA_ALLOWED_NETS"
#: Classifier for the tags and the heatmap in chat answers (see the module docstring).
TAG_MODEL = "lite0"
#: Occlusion positions per side of the heatmap.
EXPLAIN_GRID = 5
#: Uniform frames tagged at most per video in a chat answer (cuts come on top).
VIDEO_MAX_FRAMES = 20
SLACK_FILES_HOST = "files.slack.com"

ASK_FOR_MEDIA = (
    "Send me the image or video to tag: attach it in Slack, or give a link on the local "
    "network or a file under the workspace's media folder, e.g. “what's in media/shoe.jpg?”"
)

LINK_FAILED = (
    "I couldn't fetch an image or video from that link: I only fetch links on the team's "
    "own network that answer with the file itself (no redirect or sign-in page) within "
    f"{DOWNLOAD_DEADLINE_S:.0f} seconds and up to {MAX_MEDIA_BYTES // 2**20} MB. "
    "Download it and attach it in Slack instead."
)
SLACK_FILE_FAILED = (
    "I couldn't download that Slack file: it must be an image or a video of at most "
    f"{MAX_MEDIA_BYTES // 2**20} MB, and the Beacon app needs Slack's files:read permission. "
    "Share it again, or send a link on the team's network."
)

logger = logging.getLogger(__name__)

#: The machine itself and link-local addresses (169.254.169.254 is a cloud's metadata
#: service): only an allowed network inside one of these opens it, never 0.0.0.0/0.
_GUARDED_NETS = tuple(
    ipaddress.ip_network(net) for net in ("127.0.0.0/8", "169.254.0.0/16", "::1/128", "fe80::/10")
)
#: Never fetched from: "this host" (0.0.0.0 reaches the machine itself), multicast,
#: IPv4's reserved block and the broadcast address.
_NEVER_NETS = tuple(
    ipaddress.ip_network(net)
    for net in ("0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4", "::/128", "ff00::/8")
)
#: IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64).
_NAT64_NETS = tuple(ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48"))


class MediaError(InputError):
    """The image or video a message points at cannot be fetched or is not allowed."""


@dataclass(frozen=True)
class Media:
    """A fetched image or video.

    Attributes:
        path: The local file (a temporary copy for downloads).
        name: What to call it in the reply.
        source: ``slack``, ``url``, ``path`` or ``post``.
        reference: The URL, path or post id as given.
    """

    path: Path
    name: str
    source: str
    reference: str


#: Folder names next to the workspace that hold media: ``media`` (``media_path`` values such
#: as ``media/ig-000045.jpg``) and ``demo-media`` (the demo's generated pictures).
MEDIA_FOLDERS = ("media", "demo-media")


def allowed_media_roots(services: Services) -> tuple[Path, ...]:
    """Folders local files may come from: :data:`MEDIA_FOLDERS` next to the workspace, and
    ``$BEACON_HOME/media``."""
    folder = services.workspace.path.parent
    roots = (*(folder / name for name in MEDIA_FOLDERS), services.settings.home / "media")
    return tuple(dict.fromkeys(root.resolve() for root in roots))


def resolve_local_media(
    given: str, base: Path, roots: tuple[Path, ...], max_bytes: int | None = None
) -> Path:
    """The file ``given`` names (relative to ``base``), if it lies inside one of ``roots``.

    Raises:
        MediaError: The file is outside the allowed folders, missing, not a regular file
            or larger than ``max_bytes`` (default :data:`MAX_LOCAL_MEDIA_BYTES`).
    """
    candidate = Path(given).expanduser()
    if not candidate.is_absolute():
        candidate = base / candidate
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        real = None
    if real is None or not any(real.is_relative_to(root) for root in roots):
        # The same words whether or not the file exists, so paths outside can't be probed.
        # The folders' server paths stay out of the chat; the log has them.
        logger.info("media %r is outside the media folders %s", given, [str(r) for r in roots])
        raise MediaError(
            "I can only open files in the media folders (`media/` and `demo-media/` next to "
            f"the workspace, or `media/` in Beacon's home); '{given}' is not a file there. "
            "Copy it there, or send a link or a Slack file."
        )
    if not real.is_file():
        raise MediaError(f"'{given}' is not a file; expected an image or video file")
    size, limit = real.stat().st_size, max_bytes or MAX_LOCAL_MEDIA_BYTES
    if size > limit:
        raise MediaError(
            f"'{given}' is {_megabytes(size)} MB; I open media files of at most "
            f"{_megabytes(limit)} MB. Send a smaller copy."
        )
    return real


def allowed_networks() -> tuple[Network, ...]:
    """:data:`DEFAULT_MEDIA_NETS` and the networks in ``BEACON_MEDIA_ALLOWED_NETS``.

    Raises:
        ConfigError: An entry of the variable is not a network.
    """
    defaults = tuple(ipaddress.ip_network(net) for net in DEFAULT_MEDIA_NETS)
    return defaults + networks_from_env(ALLOWED_NETS_ENV)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, NAT64, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64_NETS) or (int(ip) >> 32 == 0 and int(ip) > 1):
        # NAT64, and the old IPv4-compatible ::a.b.c.d (not :: or ::1)
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _plainly_allowed(ip: Address, networks: Sequence[Network]) -> bool:
    if any(ip in net for net in _NEVER_NETS if net.version == ip.version):
        return False
    holders = [net for net in networks if net.version == ip.version and ip in net]
    guard = next((g for g in _GUARDED_NETS if g.version == ip.version and ip in g), None)
    if guard is None:
        return bool(holders)
    return any(net.subnet_of(guard) for net in holders)  # type: ignore[arg-type]


def address_allowed(address: str, networks: Sequence[Network]) -> bool:
    """Whether a link may be fetched from ``address`` (see the module docstring).

    Args:
        address: An IPv4 or IPv6 address, as ``getaddrinfo`` gives it (a ``%zone`` is
            ignored).
        networks: The allowed networks (:func:`allowed_networks`).
    """
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not _plainly_allowed(inner, networks):
            return False
        if ip.ipv4_mapped is not None:
            return True  # on the wire it is the IPv4 address just checked
    return _plainly_allowed(ip, networks)


def _megabytes(size: int) -> str:
    return f"{round(size / 2**20, 1):g}"


def check_local_url(url: str) -> tuple[str, int, str]:
    """``(host, port, address to connect to)`` for an http(s) URL on an allowed network.

    Raises:
        MediaError: Not http(s) or no host (said plainly), or a host that does not
            resolve or resolves to any address outside the allowed networks
            (:data:`LINK_FAILED`; the log has the addresses).
        ConfigError: ``BEACON_MEDIA_ALLOWED_NETS`` is malformed.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise MediaError(f"expected an http:// or https:// link, got '{url[:100]}'")
    networks = allowed_networks()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as error:
        logger.warning("media link %s: cannot resolve its host (%s)", url[:200], error)
        raise MediaError(LINK_FAILED) from None
    addresses = [str(info[4][0]) for info in infos]
    refused = [address for address in addresses if not address_allowed(address, networks)]
    if refused or not addresses:
        logger.warning(
            "media link %s refused: %s resolves to %s, outside the allowed networks (%s and %s)",
            url[:200],
            parts.hostname,
            ", ".join(refused) or "nothing",
            ", ".join(DEFAULT_MEDIA_NETS),
            ALLOWED_NETS_ENV,
        )
        raise MediaError(LINK_FAILED)
    return parts.hostname, port, addresses[0]


class _Refused(Exception):
    """Why a download failed, for the log (the chat hears one generic sentence)."""


class _Deadline:
    """A wall-clock limit on one download.

    A socket timeout bounds each read, not the download: a server that sends a byte
    every few seconds would hold a worker for ever. At the deadline a timer shuts the
    watched socket down, which wakes the read blocked on it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left; raises :class:`_Refused` when none are."""
        left = self._end - time.monotonic()
        if left <= 0 or self.expired:
            raise _Refused(f"no complete answer within {self.seconds:g} s")
        return left

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline (at once when it has passed)."""
        with self._lock:
            self._sock = sock
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                _shut(self._sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def http_get(
    url: str,
    timeout_s: float,
    max_bytes: int = MAX_MEDIA_BYTES,
    headers: dict[str, str] | None = None,
    connect_to: str | None = None,
    deadline_s: float = DOWNLOAD_DEADLINE_S,
    failure: str = LINK_FAILED,
) -> tuple[str, bytes]:
    """GET ``url`` without following redirects: ``(content type, body)`` of an image or video.

    Args:
        url: The http(s) URL.
        timeout_s: Socket timeout for connecting and for each read.
        max_bytes: Refuse bodies larger than this.
        headers: Extra request headers.
        connect_to: Connect to this address instead of resolving the host again.
        deadline_s: Wall-clock seconds for the whole download.
        failure: What the user is told when it fails (the log has the details).

    Raises:
        MediaError: ``failure``, for: not 200, a redirect, not ``image/*``/``video/*``, too
            large, past the deadline, or a network failure.
    """
    try:
        return _download(url, timeout_s, max_bytes, headers or {}, connect_to, deadline_s)
    except _Refused as error:
        logger.warning("media download %s failed: %s", url[:200], error)
        raise MediaError(failure) from None


def _download(
    url: str,
    timeout_s: float,
    max_bytes: int,
    headers: dict[str, str],
    connect_to: str | None,
    deadline_s: float,
) -> tuple[str, bytes]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection | None = None
    response: http.client.HTTPResponse | None = None
    sock: socket.socket | None = None
    with _Deadline(deadline_s) as deadline:
        try:
            sock = socket.create_connection(
                (connect_to or host, port), timeout=min(timeout_s, deadline.remaining())
            )
            deadline.watch(sock)
            if https:
                # Wrapped before the handshake, so the deadline can cut a slow one short.
                sock = ssl.create_default_context().wrap_socket(
                    sock, server_hostname=host, do_handshake_on_connect=False
                )
                deadline.watch(sock)
                sock.do_handshake()
            cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
            connection = cls(host, parts.port, timeout=timeout_s)
            connection.sock = sock  # already connected, to the checked address
            connection.request("GET", target, headers={"User-Agent": "beacon", **headers})
            response = connection.getresponse()
            deadline.remaining()  # a shut-down socket reads as the end of the headers
            if 300 <= response.status < 400:
                location = response.getheader("Location")
                raise _Refused(f"redirect {response.status} to {location}")
            if response.status != 200:
                raise _Refused(f"HTTP {response.status}")
            kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if not kind.startswith(("image/", "video/")):
                raise _Refused(f"content type '{kind or 'none'}', not an image or a video")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise _Refused(f"Content-Length {declared} over {max_bytes} bytes")
            body = bytearray()
            while True:
                deadline.remaining()
                chunk = response.read(min(64 * 1024, max_bytes + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
                if len(body) > max_bytes:
                    raise _Refused(f"body over {max_bytes} bytes")
            deadline.remaining()  # a shut-down socket reads as the end of the body
            return kind, bytes(body)
        except (OSError, http.client.HTTPException) as error:
            if deadline.expired:
                raise _Refused(f"no complete answer within {deadline_s:g} s") from None
            raise _Refused(f"{type(error).__name__}: {error}") from None
        finally:
            if response is not None:
                response.close()
            if connection is not None:
                connection.close()
            if sock is not None:
                sock.close()


def slack_file_allowed(url: str, api_url: str) -> bool:
    """True when ``url`` is on Slack's file host or on the Slack API's own origin."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if parts.scheme == "https" and parts.hostname == SLACK_FILES_HOST:
        return True
    return (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port)


class ActionTagImage(BeaconAction):
    """Tags, categories, faces and brand safety of an image or video, with a heatmap."""

    action_name = "action_tag_image"
    heavy = True

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        from analytics.vision import VideoLimits, explain_image, is_video, tag_images, tag_video

        with tempfile.TemporaryDirectory(prefix="beacon-media-") as scratch:
            media = self._media(tracker, services, Path(scratch))
            chart_url = None
            if is_video(media.path):
                limits = VideoLimits(
                    max_duration_s=CHAT_VIDEO_SECONDS,
                    max_total_pixels=CHAT_VIDEO_PIXELS,
                    max_decode_s=CHAT_VIDEO_DECODE_S,
                )
                video = tag_video(
                    media.path, model=TAG_MODEL, max_frames=VIDEO_MAX_FRAMES, limits=limits
                )
                if not video.ok:
                    raise MediaError(f"{media.name}: {video.error}")
                output: dict[str, Any] = video.to_dict()
                text = describe_video(media.name, output)
            else:
                (image,) = tag_images([media.path], model=TAG_MODEL, max_pixels=CHAT_MAX_PIXELS)
                if not image.ok:
                    raise MediaError(f"{media.name}: {image.error}")
                output = image.to_dict()
                chart_path, chart_url = services.charts.new_chart()
                heat = explain_image(
                    media.path,
                    chart_path,
                    model=TAG_MODEL,
                    grid_size=EXPLAIN_GRID,
                    max_pixels=CHAT_MAX_PIXELS,
                )
                output["heatmap"] = {"label": heat.label, "region": list(heat.region)}
                text = describe_image(media.name, output, heat.label)
        output["file"] = media.name
        services.workspace.record_audit(
            kind="tag_image",
            inputs={"source": media.source, "reference": media.reference},
            output=output,
            sources=[f"{media.source}:{media.reference}"]
            + ([f"chart:{chart_url.rsplit('/', 1)[-1]}"] if chart_url else []),
            model_version=f"efficientnet-{TAG_MODEL}",
            conversation_id=tracker.sender_id,
        )
        dispatcher.utter_message(text=text)
        if chart_url is not None:
            dispatcher.utter_message(image=chart_url)
        return []

    def _media(self, tracker: Tracker, services: Services, scratch: Path) -> Media:
        latest: dict[str, Any] = tracker.latest_message or {}
        timeout = services.settings.http_timeout_s
        slack_files = read_slack_files(latest.get("metadata"))
        if slack_files:
            return _slack_media(slack_files[0], scratch, timeout)
        reference = media_reference(latest.get("text") or "")
        if reference is not None and reference[0] == "url":
            url = reference[1]
            host, _port, address = check_local_url(url)
            kind, body = http_get(url, timeout, connect_to=address)
            name = Path(urlsplit(url).path).name or host
            return Media(_save(scratch, kind, body), name, "url", url)
        roots = allowed_media_roots(services)
        base = services.workspace.path.parent
        if reference is not None:
            path = resolve_local_media(reference[1], base, roots)
            return Media(path, Path(reference[1]).name, "path", reference[1])
        post = _mentioned_post(services, latest.get("text") or "")
        if post is not None:
            post_id, media_path = post
            if not media_path:
                raise MediaError(f"post {post_id} has no image or video in the workspace")
            path = resolve_local_media(media_path, base, roots)
            return Media(path, f"{post_id}'s {Path(media_path).name}", "post", post_id)
        raise MediaError(ASK_FOR_MEDIA)


def _mentioned_post(services: Services, text: str) -> tuple[str, str | None] | None:
    """``(post id, media path)`` of the first workspace post the text names, if any.

    Only ids that exist count, so hyphenated words ("brand-safe") are never taken for one.
    """
    candidates = mentioned_post_ids(text)
    if not candidates:
        return None
    with services.workspace.connect(read_only=True) as con:
        rows = queries.media_paths(con, candidates)
    found = [post_id for post_id in candidates if post_id in rows]
    return (found[0], rows[found[0]]) if found else None


def _slack_media(file: SlackFile, scratch: Path, timeout_s: float) -> Media:
    url = file["url_private"]
    token = os.environ.get("SLACK_BOT_TOKEN")
    api_url = os.environ.get("BEACON_SLACK_API_URL", "https://slack.com/api/")
    if not token:
        raise MediaError(
            "I can't open Slack files here: SLACK_BOT_TOKEN is not set for the action server"
        )
    if not slack_file_allowed(url, api_url):
        raise MediaError("that Slack file link is not on Slack's file server, so I won't fetch it")
    kind, body = http_get(
        url, timeout_s, headers={"Authorization": f"Bearer {token}"}, failure=SLACK_FILE_FAILED
    )
    name = str(file.get("name") or Path(urlsplit(url).path).name or "the file")
    return Media(_save(scratch, kind, body), name, "slack", str(file.get("id") or url))


def _save(folder: Path, content_type: str, body: bytes) -> Path:
    """Write a download under a safe name whose ending matches its content type."""
    suffix = mimetypes.guess_extension(content_type) or ".bin"
    path = folder / f"media{suffix}"
    path.write_bytes(body)
    return path


def _safety_words(safety: Any) -> str:
    if not isinstance(safety, dict):
        return "not checked"
    words = {"safe": "safe", "review": "needs a person to review", "unsafe": "not safe"}
    return (
        f"{words.get(safety['verdict'], safety['verdict'])} (NSFW score {safety['nsfw_score']:.2f})"
    )


def describe_image(name: str, item: dict[str, Any], heat_label: str) -> str:
    """The short, plain reply for one tagged image."""
    shown = [tag for tag in item["tags"][:3] if tag["score"] >= 0.01] or item["tags"][:1]
    tags = ", ".join(f"{tag['label']} {tag['score']:.0%}" for tag in shown)
    categories = ", ".join(entry["name"] for entry in item["categories"]) or "none clear"
    faces = item.get("faces") or {}
    count = faces.get("count", 0)
    lines = [
        f"{name}: {tags}.",
        f"Categories: {categories}. Faces: {count if count else 'none'}. "
        f"Brand safety: {_safety_words(item.get('safety'))}.",
        f"The model saw '{heat_label}' mostly here (red = where covering the image hurt "
        "that tag most):",
    ]
    return "\n".join(lines)


def describe_video(name: str, item: dict[str, Any]) -> str:
    """The short, plain reply for one tagged video."""
    from analytics.vision import format_time

    segments = item["segments"]
    parts = []
    for segment in segments[:8]:
        extra = f" ({segment['category']})" if segment["category"] else ""
        parts.append(f"{segment['text']}{extra}")
    more = f" and {len(segments) - 8} more" if len(segments) > 8 else ""
    flagged = [
        segment["text"].split(" ", 1)[0]
        for segment in segments
        if isinstance(segment.get("safety"), dict) and segment["safety"]["verdict"] != "safe"
    ]
    safety = (
        f"needs a look at {', '.join(flagged)}" if flagged else _safety_words(item.get("safety"))
    )
    features = item["features"]
    return "\n".join(
        [
            f"{name} ({format_time(features['duration_s'])}): " + "; ".join(parts) + more + ".",
            f"Brand safety: {safety}. Faces in {features['face_frames']:.0%} of sampled frames; "
            f"{features['cuts']} cut{'' if features['cuts'] == 1 else 's'}.",
        ]
    )
