"""``tag_image`` → :class:`ActionTagImage`: what is in an image or video, and is it brand-safe.

Where the media comes from (first match wins), and what is allowed:

1. **A Slack file** shared with the message (``metadata.slack.files[0].url_private``,
   passed on by bot/slack.py). Downloaded with ``SLACK_BOT_TOKEN``, and only from
   ``https://files.slack.com`` or the origin of ``BEACON_SLACK_API_URL`` (a local fake in
   tests), so the token is never sent anywhere else.
2. **A URL on the local network** in the message. Every address the host name resolves
   to must be private, loopback or link-local, and the connection goes to the address
   that was checked (no second lookup to rebind). Redirects are refused, the response
   must be ``image/*`` or ``video/*``, and at most :data:`MAX_MEDIA_BYTES` are read.
3. **A local file** named in the message. Relative paths are taken from the workspace's
   folder (where posts' ``media_path`` values point); after following links the file
   must lie in ``<workspace folder>/media``, ``<workspace folder>/demo-media`` or
   ``$BEACON_HOME/media``. Nothing else on the machine can be read this way.
4. **A post** named in the message (``ig-000045``) whose ``media_path`` is a file as in 3.

Images get tags, categories, faces, brand safety and an occlusion heatmap sent as an
image; videos get timed segments with brand safety per segment. Models load once per
process: at the action server's start (``actions/server.py``), else on the first question.

The chat answer uses EfficientNet-Lite0 for both the tags and the heatmap (so the
heatmap explains the tag shown first) and a 5x5 occlusion grid: on the 2 shared cores
the ensemble took about 2-13 s per image and a 7x7 Lite0 heatmap 8-15 s, against
Rasa's 20 s action timeout; ``beacon vision tag`` keeps the ensemble as its default.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import mimetypes
import os
import socket
import tempfile
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
from foundation.workspace import queries

#: Largest image or video downloaded.
MAX_MEDIA_BYTES = 20 * 1024 * 1024
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

logger = logging.getLogger(__name__)


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


def resolve_local_media(given: str, base: Path, roots: tuple[Path, ...]) -> Path:
    """The file ``given`` names (relative to ``base``), if it lies inside one of ``roots``.

    Raises:
        MediaError: The file is outside the allowed folders, missing or not a regular file.
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
    return real


def check_local_url(url: str) -> tuple[str, int, str]:
    """``(host, port, address to connect to)`` for an http(s) URL on the local network.

    Raises:
        MediaError: Not http(s), no host, or a host that resolves to any public address.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise MediaError(f"expected an http:// or https:// link, got '{url[:100]}'")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as error:
        raise MediaError(f"cannot resolve the link's host '{parts.hostname}' ({error})") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not (ip.is_private or ip.is_loopback or ip.is_link_local) or ip.is_unspecified:
            raise MediaError(
                f"I only fetch links on the local network; '{parts.hostname}' is a public "
                f"address ({address}). Download the file and attach it in Slack instead."
            )
    return parts.hostname, port, addresses[0]


def http_get(
    url: str,
    timeout_s: float,
    max_bytes: int = MAX_MEDIA_BYTES,
    headers: dict[str, str] | None = None,
    connect_to: str | None = None,
) -> tuple[str, bytes]:
    """GET ``url`` without following redirects: ``(content type, body)`` of an image or video.

    Args:
        url: The http(s) URL.
        timeout_s: Socket timeout for connecting and for each read.
        max_bytes: Refuse bodies larger than this.
        headers: Extra request headers.
        connect_to: Connect to this address instead of resolving the host again.

    Raises:
        MediaError: Not 200, a redirect, not ``image/*``/``video/*``, too large, or a
            network failure.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = cls(host, parts.port, timeout=timeout_s)
    if connect_to is not None:
        pinned = connect_to

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
            return socket.create_connection((pinned, address[1]), *args, **kwargs)

        connection._create_connection = create_connection  # type: ignore[attr-defined]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.request("GET", target, headers={"User-Agent": "beacon", **(headers or {})})
        response = connection.getresponse()
        if 300 <= response.status < 400:
            raise MediaError(
                f"the link answered with a redirect ({response.status}); send the final address"
            )
        if response.status != 200:
            raise MediaError(f"the link answered HTTP {response.status}, not the file")
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if not kind.startswith(("image/", "video/")):
            raise MediaError(
                f"the link sent '{kind or 'no content type'}', expected an image or a video"
            )
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise MediaError(_too_large(int(declared), max_bytes))
        body = response.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise MediaError(_too_large(len(body), max_bytes))
        return kind, body
    except (OSError, http.client.HTTPException) as error:
        raise MediaError(f"could not download the file ({type(error).__name__}: {error})") from None
    finally:
        connection.close()


def _too_large(size: int, limit: int) -> str:
    return f"the file is {size / 1e6:.1f} MB; I take at most {limit / 1e6:.0f} MB"


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
        from analytics.vision import explain_image, is_video, tag_images, tag_video

        with tempfile.TemporaryDirectory(prefix="beacon-media-") as scratch:
            media = self._media(tracker, services, Path(scratch))
            chart_url = None
            if is_video(media.path):
                video = tag_video(media.path, model=TAG_MODEL, max_frames=VIDEO_MAX_FRAMES)
                if not video.ok:
                    raise MediaError(f"{media.name}: {video.error}")
                output: dict[str, Any] = video.to_dict()
                text = describe_video(media.name, output)
            else:
                (image,) = tag_images([media.path], model=TAG_MODEL)
                if not image.ok:
                    raise MediaError(f"{media.name}: {image.error}")
                output = image.to_dict()
                chart_path, chart_url = services.charts.new_chart()
                heat = explain_image(
                    media.path, chart_path, model=TAG_MODEL, grid_size=EXPLAIN_GRID
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
    kind, body = http_get(url, timeout_s, headers={"Authorization": f"Bearer {token}"})
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
