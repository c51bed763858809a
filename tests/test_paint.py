"""`stylecam paint`: the pixels move toward the painting, the weights mean what they say, bad input is one line."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from stylecam_train.losses import gram
from stylecam_train.paint import DEFAULTS, Weights, optimise
from stylecam_train.vgg import RANDOM, load_vgg
from test_cli import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def vgg():
    torch.manual_seed(0)
    return load_vgg(RANDOM)


def _smooth_photo() -> torch.Tensor:
    """(1, 3, 32, 32): gentle gradients, statistics far from the painting's."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    return torch.stack([xs, ys, (xs + ys) / 2]).unsqueeze(0)


def _stripy_painting() -> torch.Tensor:
    """(1, 3, 40, 40): saturated high-frequency stripes."""
    torch.manual_seed(1)
    xs = torch.arange(40).float()
    stripes = (torch.sin(xs[None, :] * 1.3 + xs[:, None] * 0.4) > 0).float()
    return torch.stack([stripes, 1 - stripes, torch.rand(40, 40)]).unsqueeze(0)


def _style_distance(vgg, image, painting) -> float:
    layers = list(DEFAULTS.style_layers)
    ours, theirs = vgg(image, layers), vgg(painting, layers)
    return sum(((gram(ours[name]) - gram(theirs[name])).pow(2).sum() / gram(theirs[name]).pow(2).sum()).item() for name in layers)


def test_the_losses_fall_over_a_few_steps(vgg):
    history = []
    optimise(
        _smooth_photo(), _stripy_painting(), vgg, Weights(3, 1, 2), steps=30, on_step=lambda s, i, losses: losses and history.append(losses)
    )
    first, last = history[0], history[-1]
    assert sum(last.values()) < 0.8 * sum(first.values())


def test_style_only_moves_toward_the_painting_and_content_only_keeps_the_photo(vgg):
    photo, painting = _smooth_photo(), _stripy_painting()
    before = _style_distance(vgg, photo, painting)
    styled, _ = optimise(photo, painting, vgg, Weights(style=1, content=0, tv=0), steps=40)
    assert _style_distance(vgg, styled, painting) < 0.5 * before
    kept, losses = optimise(photo, painting, vgg, Weights(style=0, content=1, tv=0), steps=40)
    assert (kept - photo).abs().max().item() < 2 / 255  # nothing to gain by moving: the photo stays
    assert losses["content"] < 1e-6


def test_paint_writes_the_image_a_summary_and_the_train_command(workdir, capsys):
    rng = np.random.default_rng(0)
    assert cv2.imwrite("photo.png", rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    assert cv2.imwrite("painting.jpg", rng.integers(0, 256, (50, 50, 3), dtype=np.uint8))
    argv = ["paint", "photo.png", "painting.jpg", "-o", "out.png", "--vgg-weights", RANDOM, "--steps", "4", "--size", "32"]
    code, out, err = run_cli(*argv, "--style-size", "48", "--save-every", "2", "--json", "--device", "cpu", capsys=capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["steps"] == 4 and summary["device"] == "cpu" and (summary["width"], summary["height"]) == (32, 24)
    assert cv2.imread("out.png").shape == (24, 32, 3) and cv2.imread("out-step2.png") is not None
    assert "stylecam train --style-image painting.jpg" in err and "--style-size 48" in err
    code, out, _ = run_cli(*argv, "--suggest-train", "--style-weight", "5", capsys=capsys)
    assert code == 0 and out.startswith("stylecam train ") and "--style-weight 5" in out


@pytest.mark.parametrize(
    ("flag", "value", "limit"),
    [
        ("--seed", str(2**70), "0 to 4294967295"), ("--seed", "-1", "0 to 4294967295"), ("--size", "1", "16 to 4096"),
        ("--size", "100000", "16 to 4096"), ("--style-size", "8", "16 to 4096"), ("--steps", "0", "1 to 10000"),
        ("--style-weight", "nan", "0 to 1000000"), ("--style-weight", "-1", "0 to 1000000"), ("--content-weight", "inf", "0 to 1000000"),
        ("--tv-weight", "nan", "0 to 1000000"), ("--save-every", "-1", "0 to 10000"), ("--steps", "1.5", "1 to 10000"),
        ("--device", "gpu", "choose from"),
    ],
)  # fmt: skip
def test_out_of_range_settings_are_refused_before_any_work(workdir, capsys, flag, value, limit):
    # No photo, painting or loss network: the flag's parser refuses the value before any of them is read.
    with pytest.raises(SystemExit) as exit_info:
        run_cli("paint", "photo.png", "painting.jpg", "-o", "out.png", flag, value, capsys=capsys)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1, lines
    assert flag in lines[0] and limit in lines[0] and "Traceback" not in lines[0]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--style-weight", "0", "--content-weight", "0"], "nothing to optimise"),
        (["-o", "out.gif"], "must end in .png"),
    ],
)
def test_bad_settings_get_one_line(workdir, capsys, extra, fragment):
    code, _, err = run_cli("paint", "photo.png", "painting.jpg", "-o", "out.png", *extra, capsys=capsys)
    assert_one_line_error(code, err, fragment)


def test_a_config_built_from_python_checks_the_same_bounds():
    from stylecam_train.errors import TrainingInputError
    from stylecam_train.paint import PaintConfig

    assert PaintConfig().steps == 150 and PaintConfig().style_weight == DEFAULTS.style_weight
    with pytest.raises(TrainingInputError, match=r"--steps must be a whole number from 1 to 10000, got 0"):
        PaintConfig(steps=0)
    with pytest.raises(TrainingInputError, match=r"--style-weight must be a number from 0 to 1000000, got nan"):
        PaintConfig(style_weight=float("nan"))


def test_bad_images_and_too_large_sizes_get_one_line(workdir, capsys, monkeypatch):
    assert cv2.imwrite("photo.png", np.zeros((20, 20, 3), np.uint8))
    (workdir / "painting.jpg").write_bytes(b"not a jpeg")
    code, _, err = run_cli("paint", "photo.png", "painting.jpg", "-o", "out.png", capsys=capsys)
    assert_one_line_error(code, err, "painting.jpg", "cannot be read")
    code, _, err = run_cli("paint", "missing.png", "painting.jpg", "-o", "out.png", capsys=capsys)
    assert_one_line_error(code, err, "missing.png", "does not exist")
    assert cv2.imwrite("painting.jpg", np.zeros((20, 20, 3), np.uint8))
    monkeypatch.setattr("stylecam_train.paint._BYTES_PER_PIXEL", 10**12)  # as if the machine had almost no memory
    code, _, err = run_cli("paint", "photo.png", "painting.jpg", "-o", "out.png", "--device", "cpu", capsys=capsys)
    assert_one_line_error(code, err, "GiB", "use --size")
    assert not (workdir / "out.png").exists()


def test_paint_runs_without_lightning(tmp_path):
    # Lightning is the optional extra stylecam[train]; paint is a plain optimisation loop and must
    # work on an install without it. A None in sys.modules makes any import of it fail.
    rng = np.random.default_rng(0)
    assert cv2.imwrite(str(tmp_path / "photo.png"), rng.integers(0, 256, (20, 20, 3), dtype=np.uint8))
    assert cv2.imwrite(str(tmp_path / "painting.png"), rng.integers(0, 256, (20, 20, 3), dtype=np.uint8))
    argv = ["paint", "photo.png", "painting.png", "-o", "out.png", "--vgg-weights", RANDOM, "--device", "cpu"]
    argv += ["--steps", "1", "--size", "16", "--style-size", "32"]
    code = (
        "import sys; sys.modules['pytorch_lightning'] = None; sys.modules['lightning'] = None;"
        f"from stylecam.cli import main; sys.exit(main({argv!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert cv2.imread(str(tmp_path / "out.png")) is not None
