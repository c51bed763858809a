"""The Python API: `Stylizer.from_style(...)` called on each kind of image returns the same kind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import stylecam
from conftest import probe, write_video
from stylecam import Stylizer
from stylecam.errors import StylecamError
from stylecam.weights import StyleError

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def stylizer(style_file) -> Stylizer:
    return Stylizer.from_style(style_file, device="cpu", scale=1.0, backend="eager")  # exact: the API, not a runtime's rounding


@pytest.fixture(scope="module")
def bgr() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (45, 61, 3), dtype=np.uint8)


def test_numpy_bgr_in_bgr_out(stylizer, bgr):
    out = stylizer(bgr)
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == bgr.shape
    assert np.array_equal(out, stylizer.stylize(bgr))  # the same path as the CLI's loops


def test_numpy_rgb_is_read_and_returned_as_rgb(stylizer, bgr):
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    out = stylizer(rgb, channels="rgb")
    assert np.array_equal(out, stylizer(bgr)[..., ::-1])
    assert not np.array_equal(out, stylizer(rgb))  # the order matters: read as BGR it is another picture


def test_a_read_only_array_is_stylized_without_a_warning(stylizer, bgr):
    # np.asarray(PIL image) is read-only; torch.from_numpy warns on such arrays
    frozen = bgr.copy()
    frozen.flags.writeable = False
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = stylizer(frozen)
    assert np.array_equal(out, stylizer(bgr)) and np.array_equal(frozen, bgr)


def test_numpy_batch(stylizer, bgr):
    batch = np.stack([bgr, bgr[::-1].copy()])
    out = stylizer(batch)
    assert out.shape == batch.shape and np.array_equal(out[0], stylizer(bgr))


def test_pil_image_in_pil_image_out(stylizer, bgr):
    image = Image.fromarray(np.ascontiguousarray(bgr[..., ::-1]))
    out = stylizer(image)
    assert isinstance(out, Image.Image) and out.size == image.size and out.mode == "RGB"
    assert np.array_equal(np.asarray(out), stylizer(bgr)[..., ::-1])


def test_pil_alpha_is_kept(stylizer, bgr):
    rgba = Image.fromarray(np.ascontiguousarray(bgr[..., ::-1])).convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 77))
    out = stylizer(rgba)
    assert out.mode == "RGBA" and np.all(np.asarray(out)[..., 3] == 77)


def test_float_tensor_in_float_tensor_out(stylizer, bgr):
    rgb = torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(2, 0, 1).float() / 255  # (3, H, W) in [0, 1]
    out = stylizer(rgb)
    assert isinstance(out, torch.Tensor) and out.shape == rgb.shape and out.dtype == torch.float32 and out.device == rgb.device
    assert 0 <= out.min() and out.max() <= 1
    expected = torch.from_numpy(stylizer(bgr)[..., ::-1].copy()).permute(2, 0, 1).float() / 255
    assert (out - expected).abs().max() <= 1 / 255 + 1e-6  # the uint8 path only rounds


def test_uint8_and_batched_tensors_keep_their_dtype_and_shape(stylizer, bgr):
    rgb = torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(2, 0, 1)
    out = stylizer(rgb[None].repeat(2, 1, 1, 1))
    assert out.dtype == torch.uint8 and out.shape == (2, 3, 45, 61)
    # the same picture as the numpy path; its channel flip happens at another step, which may round a pixel the other way
    difference = np.abs(out[0].permute(1, 2, 0).numpy().astype(int) - stylizer(bgr)[..., ::-1].astype(int))
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((8, 8, 3), np.float32), "uint8"),
        (np.zeros((8, 8), np.uint8), r"\(H, W, 3\)"),
        (torch.zeros(1, 8, 8), r"\(3, H, W\)"),
        ("photo.jpg", "NumPy array, a PIL image or a torch tensor"),
    ],
)
def test_wrong_inputs_get_a_clear_message(stylizer, image, message):
    with pytest.raises((TypeError, ValueError), match=message):
        stylizer(image)


def test_from_style_finds_a_shipped_style_by_name():
    stylizer = Stylizer.from_style("starry_night", device="cpu")
    assert stylizer.style.name == "starry_night" and stylizer.scale == stylizer.style.default_scale
    assert "starry_night" in stylecam.styles()


def test_from_style_refuses_unknown_styles_clearly():
    with pytest.raises(StyleError, match="unknown style 'no_such_style'"):
        Stylizer.from_style("no_such_style")
    with pytest.raises(StylecamError):
        Stylizer.from_style("starry_night", device="cpu", scale=0)


def test_stylize_video_and_folder(tmp_path, stylizer, bgr):
    import cv2

    source = write_video(tmp_path / "in.mp4", frames=5, width=64, height=48)
    report = stylecam.stylize_video(stylizer, source, tmp_path / "out.mp4", progress=False)
    assert report.frames == 5 and probe(tmp_path / "out.mp4")["frames"] == 5
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), bgr)
    written = stylecam.stylize_folder(stylizer, photos, tmp_path / "painted", progress=False).written
    assert [Path(p).name for p in written] == ["a-random.png"]


def test_stylize_video_takes_the_cli_s_options_and_containers(tmp_path, stylizer):
    from stylecam.errors import OutputError, SettingError

    source = write_video(tmp_path / "in.mp4", frames=6, width=64, height=48)
    report = stylecam.stylize_video(
        stylizer, source, tmp_path / "out.mkv", progress=False, batch=2, steady=0.5, measure_flicker=True, crf=30, preset="ultrafast"
    )
    assert report.frames == 6 and probe(tmp_path / "out.mkv")["frames"] == 6
    assert report.warping_error is not None and report.warping_error_input is not None
    with pytest.raises(OutputError, match=r"\.mp4, \.mov, \.mkv"):
        stylecam.stylize_video(stylizer, source, tmp_path / "out.avi", progress=False)  # what the CLI refuses too
    with pytest.raises(SettingError, match="steady"):
        stylecam.stylize_video(stylizer, source, tmp_path / "x.mp4", progress=False, steady=1.5)
    with pytest.raises(SettingError, match="steady_flow must be one of fine, fast"):
        stylecam.stylize_video(stylizer, source, tmp_path / "x.mp4", progress=False, steady=0.5, steady_flow="slow")
    with pytest.raises(OutputError, match="crf"):
        stylecam.stylize_video(stylizer, source, tmp_path / "x.mp4", progress=False, crf=99)
    assert not (tmp_path / "out.avi").exists() and not (tmp_path / "x.mp4").exists()


def test_importing_stylecam_loads_neither_the_recipe_nor_torch():
    code = "import sys, stylecam; print(sorted(m for m in ('torch', 'cv2', 'stylecam_train') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_readme_python_example_runs_as_written(tmp_path):
    """The README's example, run in a folder that holds the photo and the video it names."""
    import cv2

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    example = next(block for block in blocks if "Stylizer.from_style" in block)
    photo = np.random.default_rng(0).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "photo.jpg"), photo)
    write_video(tmp_path / "clip.mp4", frames=3, width=96, height=64)
    result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert cv2.imread(str(tmp_path / "photo-painted.jpg")).shape == photo.shape
    assert probe(tmp_path / "clip-painted.mp4")["frames"] == 3
