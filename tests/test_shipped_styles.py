"""Every style file in weights/ loads, says what it is, and stylizes without NaN."""

import numpy as np
import pytest
import torch

from stylecam.devices import Precision
from stylecam.fastvariants import FAST_SUFFIX, is_fast_name, teacher_name
from stylecam.frames import Stylizer
from stylecam.weights import (
    DEFAULT_STYLE,
    NETWORKS_DIR,
    REQUIRED_CREDIT_FIELDS,
    REQUIRED_FIELDS,
    SUFFIX,
    file_sha256,
    load_style,
    shipped_styles_dir,
)

WEIGHTS = shipped_styles_dir()
SHIPPED = sorted(WEIGHTS.glob(f"*{SUFFIX}"))
FULL = [path for path in SHIPPED if not is_fast_name(path.stem)]
FAST = [path for path in SHIPPED if is_fast_name(path.stem)]


# The twelve shared paintings, each a style code of the shipped painter network; the first five
# are the paintings of the classic fast-style-transfer models, under their names.
FIVE_STYLES = ["composition_vii", "starry_night", "the_scream", "udnie", "wave"]
PAINTER_STYLES = FIVE_STYLES + [
    "edtaonisl",
    "night_cafe",
    "shipwreck_of_the_minotaur",
    "tahiti",
    "thatched_cottages",
    "wheat_field",
    "woman_with_a_hat",
]


def test_the_default_style_and_the_twelve_paintings_are_shipped_each_with_a_fast_variant():
    assert WEIGHTS / f"{DEFAULT_STYLE}{SUFFIX}" in SHIPPED
    assert [path.stem for path in FULL] == sorted(PAINTER_STYLES)
    assert [path.stem for path in FAST] == sorted(f"{name}{FAST_SUFFIX}" for name in PAINTER_STYLES)


@pytest.mark.parametrize("name", PAINTER_STYLES)
def test_a_painter_style_is_a_code_of_the_shipped_network_and_blends(name):
    style, _ = load_style(name)
    network = WEIGHTS / NETWORKS_DIR / style.metadata.network["file"]
    assert style.code is not None and style.network_sha256 == file_sha256(network)
    assert (WEIGHTS / f"{name}{SUFFIX}").stat().st_size < 32_000  # a code, not a network
    blend, _ = load_style(f"{name}:0.5,{PAINTER_STYLES[0]}:0.5")
    assert blend.code is not None


@pytest.mark.parametrize("name", PAINTER_STYLES)
def test_a_painter_style_s_fast_variant_is_a_code_of_the_fast_painter_network_and_blends(name):
    style, _ = load_style(f"{name}{FAST_SUFFIX}")
    network = WEIGHTS / NETWORKS_DIR / style.metadata.network["file"]
    assert network.name == f"painter{FAST_SUFFIX}{SUFFIX}" and style.network_sha256 == file_sha256(network)
    blend, _ = load_style(f"{name}{FAST_SUFFIX}:0.5,{PAINTER_STYLES[0]}{FAST_SUFFIX}:0.5")
    assert blend.code is not None


@pytest.mark.parametrize("path", FULL, ids=[p.stem for p in FULL])
def test_shipped_style_names_its_files_not_the_trainers_folders(path):
    training = load_style(path)[0].metadata.training
    for key in ("style_image", "vgg_weights"):
        assert "/" not in str(training.get(key)) and "\\" not in str(training.get(key)), training.get(key)
    assert training["style_image"] == f"{path.stem}.jpg"
    if training["hardware"].startswith("CPU"):
        assert "CPU" in training["note"]  # CPU-trained styles say so, and how to retrain them on a GPU
        # A whole network retrains from its painting; a painter network's code with its network, from all its paintings.
        painting = "PAINTINGS/" if "styles" in training else f"{path.stem}.jpg"
        assert training["gpu_command"].startswith(f"stylecam train --style-image {painting} ")


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_style_loads_with_complete_metadata(path):
    style, model = load_style(path)
    metadata = style.metadata
    assert style.name == path.stem
    assert all(metadata.to_dict()[key] for key in REQUIRED_FIELDS)
    assert all(getattr(metadata.style_image, key) for key in REQUIRED_CREDIT_FIELDS)
    training = metadata.training
    if is_fast_name(path.stem):  # distilled: its own run's record, the teacher's under distilled_from
        assert {"steps", "hardware", "crop_size", "distilled_from", "loss_after"} <= training.keys()
    else:
        assert {"steps", "hardware", "style_size", "crop_size", "style_weight", "content_weight"} <= training.keys()
    assert 0 < style.default_scale <= 2
    frame = np.random.default_rng(0).integers(0, 256, (67, 93, 3), dtype=np.uint8)
    raw = model(torch.rand(1, 3, 67, 93))
    assert torch.isfinite(raw).all()
    out = Stylizer(model, torch.device("cpu"), Precision(torch.float32)).stylize(frame)
    assert out.shape == frame.shape and out.std() > 1  # a picture, not a flat colour


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_style_has_a_preview(path):
    assert (WEIGHTS / f"{path.stem}.png").is_file()


@pytest.mark.parametrize("path", FAST, ids=[p.stem for p in FAST])
def test_a_fast_variant_names_its_shipped_teacher_and_is_smaller(path):
    style, model = load_style(path)
    teacher_path = WEIGHTS / f"{teacher_name(path.stem)}{SUFFIX}"
    teacher, teacher_model = load_style(teacher_path)
    record = style.metadata.training["distilled_from"]
    assert record["style"] == teacher.name
    # Distilled from the very file shipped beside it: a teacher retrained without its fast
    # variant being distilled again fails here.
    assert record["sha256"] == file_sha256(teacher_path)
    assert record["training"] == teacher.metadata.training
    assert style.metadata.style_image == teacher.metadata.style_image  # the painting's credit carries over
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in teacher_model.parameters()) / 10
    assert style.default_scale <= teacher.default_scale
