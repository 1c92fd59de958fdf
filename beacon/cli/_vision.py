"""``beacon vision ...`` commands: tag images and videos, explain a tag, fit the embedding PCA.

Exit codes of ``beacon vision tag``: 0 when every file was tagged; 1 when at least
one file could not be used (each such file still gets its one-line ``error`` in the
output, and every other file is tagged); 2 on bad options (unknown ``--model``,
``--top`` out of range) or when the models cannot be loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beacon.cli._common import JSON_OPTION, print_json, progress, run_command

app = typer.Typer(
    help="Vision: tag images and videos with objects, categories, faces and brand safety.",
    no_args_is_help=True,
)

#: Exit code when some files could not be read (the others are still tagged and printed).
EXIT_SOME_FAILED = 1


@app.command("tag")
def tag(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Image files (JPEG, PNG, GIF, BMP, WEBP, TIFF) or videos (MP4, MOV, AVI, MKV, "
            "WEBM, ...; by extension or content)."
        ),
    ],
    as_json: bool = JSON_OPTION,
    top: Annotated[int, typer.Option("--top", help="Tags per image (1-1000).")] = 5,
    model: Annotated[
        str, typer.Option("--model", help="lite0, lite1, lite2 or ensemble (mean of the three).")
    ] = "ensemble",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Images per forward pass.")] = 16,
    device: Annotated[
        str | None,
        typer.Option("--device", help="Torch device (default: cuda if present, else cpu)."),
    ] = None,
) -> None:
    """Tag image and video files: ranked ImageNet tags, categories, faces and brand safety.

    A video also gets timed ``segments`` (each with its top tag, category and safety)
    and video-level ``features``. Exit code 0 when all files were tagged, 1 when some could not be read (each gets a
    one-line error; the rest are tagged), 2 on bad options.
    """
    from analytics.vision import is_video, tag_images, tag_videos

    def body() -> list[dict[str, object]]:
        videos = [i for i, path in enumerate(files) if is_video(path)]
        images = [i for i in range(len(files)) if i not in set(videos)]
        payload: dict[int, dict[str, object]] = {}
        with progress("tagging images and videos", total=len(files)) as advance:
            image_results = tag_images(
                [str(files[i]) for i in images],
                model=model,
                top_k=top,
                batch_size=batch_size,
                device=device,
                on_progress=advance,
            )
            payload |= {i: r.to_dict() for i, r in zip(images, image_results, strict=True)}
            video_results = tag_videos(
                [str(files[i]) for i in videos],
                model=model,
                top_k=top,
                device=device,
                on_progress=advance,
            )
            payload |= {i: r.to_dict() for i, r in zip(videos, video_results, strict=True)}
        return [payload[i] for i in range(len(files))]

    payload = run_command(body)
    if as_json:
        print_json(payload)
    else:
        for item in payload:
            typer.echo(_format(item))
    if any("error" in item for item in payload):
        raise typer.Exit(EXIT_SOME_FAILED)


@app.command("explain")
def explain(
    file: Annotated[Path, typer.Argument(help="Image file.")],
    out: Annotated[Path, typer.Option("--out", help="PNG to write the heatmap overlay to.")],
    model: Annotated[str, typer.Option("--model", help="lite0, lite1 or lite2.")] = "lite0",
    grid: Annotated[int, typer.Option("--grid", help="Occlusion positions per side.")] = 7,
    as_json: bool = JSON_OPTION,
) -> None:
    """Explain the top tag with an occlusion heatmap: where the model saw it."""
    from analytics.vision import explain_image

    heat = run_command(lambda: explain_image(file, out, model=model, grid_size=grid))
    payload = {
        "file": str(file),
        "png": str(heat.png_path),
        "label": heat.label,
        "imagenet_id": heat.imagenet_id,
        "score": heat.score,
        "region": list(heat.region),
        "max_drop": heat.max_drop,
    }
    if as_json:
        print_json(payload)
    else:
        left, top, right, bottom = heat.region
        typer.echo(
            f"the model saw '{heat.label}' ({heat.score:.0%}) mostly in x {left}-{right}, "
            f"y {top}-{bottom}; heatmap written to {heat.png_path}"
        )


def _format(item: dict[str, object]) -> str:
    if "error" in item:
        return f"{item['file']}: error: {item['error']}"
    tags = item["tags"]
    categories = item["categories"]
    faces = item["faces"]
    safety = item["safety"]
    assert isinstance(tags, list) and isinstance(categories, list)
    tag_text = ", ".join(f"{entry['label']} {entry['score']:.0%}" for entry in tags)
    parts = [f"{item['file']}: {tag_text}"]
    if categories:
        parts.append("categories: " + ", ".join(str(entry["name"]) for entry in categories))
    if isinstance(faces, dict) and "count" in faces:
        parts.append(f"faces: {faces['count']}")
    elif isinstance(faces, dict):
        parts.append(f"faces in {faces['face_frames']:.0%} of frames")
    if isinstance(safety, dict):
        parts.append(f"safety: {safety['verdict']} (nsfw {safety['nsfw_score']:.2f})")
    segments = item.get("segments")
    if isinstance(segments, list):
        parts.append("segments: " + ", ".join(str(entry["text"]) for entry in segments))
    return " | ".join(parts)


@app.command("fit-projection")
def fit_projection_command(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of images to fit on (default: the shared data's "
            "images/imagenet-sample, one image per ImageNet class)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Projection file to write; MODEL_CARD.md goes beside it "
            "(default: artifacts/vision/image-embedding-pca.npz).",
        ),
    ] = None,
    components: Annotated[
        int, typer.Option("--components", min=1, max=64, help="PCA components kept.")
    ] = 8,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads for torch.")] = 1,
    as_json: bool = JSON_OPTION,
) -> None:
    """Fit the PCA that compresses image embeddings for the engagement image block."""
    from analytics.vision import (
        default_projection_path,
        fit_projection,
        write_projection_card,
    )
    from analytics.vision._features import FIT_PROJECTION_COMMAND, image_files
    from foundation.exceptions import InputError
    from foundation.settings import get_settings

    def body() -> tuple[dict[str, object], str]:
        import torch

        torch.set_num_threads(threads)
        source = folder
        if source is None:
            data = get_settings().data_dir
            if data is None or not (data / "images" / "imagenet-sample").is_dir():
                raise InputError(
                    "no image folder: pass FOLDER, or set BEACON_DATA_DIR to the shared data "
                    "folder holding images/imagenet-sample (fresh clones have none; the "
                    "committed artifacts/vision projection needs no refit)"
                )
            source = data / "images" / "imagenet-sample"
        target = out or default_projection_path()
        total = len(image_files(source))
        with progress("embedding images", total=total, enabled=not as_json) as advance:
            projection = fit_projection(source, n_components=components, on_progress=advance)
        projection.save(target)
        flags = [] if folder is None else [str(folder)]
        flags += [] if out is None else ["--out", str(out)]
        flags += [] if components == 8 else ["--components", str(components)]
        command = " ".join([FIT_PROJECTION_COMMAND, *flags])
        card = write_projection_card(projection, target, source, command)
        ratio = projection.explained_variance_ratio
        message = (
            f"wrote {target} ({projection.n_components} components from {projection.n_images} "
            f"images, {float(ratio.sum()):.1%} of the variance) and {card}"
        )
        return {
            "file": str(target),
            "card": str(card),
            "images": projection.n_images,
            "components": projection.n_components,
            "explained_variance_ratio": [round(float(r), 4) for r in ratio],
            "explained_variance_total": round(float(ratio.sum()), 4),
            "weights_sha256": projection.weights_sha256,
        }, message

    payload, message = run_command(body)
    if as_json:
        print_json(payload)
    else:
        typer.echo(message)
