"""--detail: the input's fine brightness detail added back to the stylized frame (what the small
fast networks blur away), its default in a style's file, and where it is offered."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from test_painter import install_painter

from conftest import make_style, write_video
from stylecam import cli
from stylecam.devices import Precision
from stylecam.frames import Stylizer, apply_controls, brightness_detail
from stylecam.model import TransformerNet
from stylecam.weights import METADATA_KEY, StyleError, load_style, save_style_code, set_style_defaults


def _edge_picture(height=48, width=64) -> torch.Tensor:
    """A darker left half and a brighter right half, in colour (mild, so that nothing it adds clips)."""
    picture = torch.full((1, 3, height, width), 0.3)
    picture[..., width // 2 :] = torch.tensor([0.5, 0.45, 0.4]).view(1, 3, 1, 1)
    return picture


def test_brightness_detail_is_the_edges_and_nothing_on_flat_ground():
    picture = _edge_picture()
    detail = brightness_detail(picture)[0, 0]
    width = picture.shape[-1]
    assert detail.shape == picture.shape[-2:]
    assert detail[:, :8].abs().max() < 1e-6 and detail[:, -8:].abs().max() < 1e-6  # flat: no detail
    assert detail[:, width // 2 - 1].max() < -0.02  # the dark side of the edge darker, the bright side brighter
    assert detail[:, width // 2].min() > 0.02
    assert brightness_detail(torch.full((1, 3, 20, 30), 0.5)).abs().max() < 1e-6


def test_detail_adds_the_same_brightness_to_every_channel_and_zero_changes_nothing():
    original = _edge_picture()
    stylized = torch.rand(original.shape, generator=torch.Generator().manual_seed(2)) * 0.2 + 0.4  # no channel clips
    assert torch.equal(apply_controls(stylized, original, detail=0.0), stylized)
    added = apply_controls(stylized, original, detail=1.0) - stylized
    torch.testing.assert_close(added[:, 0], added[:, 1], atol=1e-6, rtol=0)
    torch.testing.assert_close(added[:, 1], added[:, 2], atol=1e-6, rtol=0)
    torch.testing.assert_close(added[:, :1], brightness_detail(original), atol=1e-6, rtol=0)
    doubled = apply_controls(stylized, original, detail=2.0) - stylized
    torch.testing.assert_close(doubled, 2 * added, atol=1e-5, rtol=0)


def test_detail_works_on_frames_smaller_than_its_blur():
    out = apply_controls(torch.rand(1, 3, 2, 3), torch.rand(1, 3, 2, 3), detail=1.0)  # reflection needs pads below the side
    assert out.shape == (1, 3, 2, 3) and torch.isfinite(out).all()


def test_a_style_file_sets_the_default_detail_and_a_setting_overrides_it(tmp_path):
    plain = make_style(tmp_path / "plain.safetensors")
    detailed = make_style(tmp_path / "detailed.safetensors", default_detail=0.7)
    assert Stylizer.from_style(str(plain), device="cpu").detail == 0.0  # files without one: none, as before
    assert Stylizer.from_style(str(detailed), device="cpu").detail == 0.7
    assert Stylizer.from_style(str(detailed), device="cpu", detail=0).detail == 0.0
    stylizer = Stylizer.from_style(str(detailed), device="cpu")
    frame = cv2.resize(np.kron(np.eye(4), np.ones((8, 8))).astype(np.uint8) * 255, (64, 48))[..., None].repeat(3, axis=2)
    with_detail = stylizer.stylize(frame).astype(float)
    stylizer.detail = 0.0
    assert np.abs(with_detail - stylizer.stylize(frame)).mean() > 1  # it shows in the picture
    for wrong in (-0.1, 2.5, float("nan"), True, "1"):
        with pytest.raises(ValueError, match="detail must be a number from 0 to 2"):
            stylizer.detail = wrong


@pytest.mark.parametrize("value", [3, -1, "much", True])
def test_a_file_with_a_wrong_default_detail_is_refused_clearly(tmp_path, value):
    path = make_style(tmp_path / "odd.safetensors")
    with safe_open(str(path), "pt") as handle:  # written by hand: save_style refuses such metadata itself
        values = json.loads(handle.metadata()[METADATA_KEY])
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118  (safe_open is no mapping)
    values["default_detail"] = value
    save_file(tensors, str(path), metadata={METADATA_KEY: json.dumps(values)})
    with pytest.raises(StyleError, match="invalid default_detail"):
        load_style(str(path))


def test_a_blend_takes_the_weighted_mean_of_its_styles_detail(tmp_path, monkeypatch):
    folder = tmp_path / "styles"
    install_painter(folder, network="detail_painter")
    for name, detail in (("alpha", 1.0), ("gamma", 0.0)):
        path = folder / f"{name}.safetensors"
        style, model = load_style(str(path))
        save_style_code(style.code, path, dataclasses.replace(style.metadata, default_detail=detail))
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(folder))
    assert load_style("alpha:3,gamma:1")[0].default_detail == pytest.approx(0.75)
    assert Stylizer.from_style("alpha:1,gamma:1", device="cpu").detail == pytest.approx(0.5)


def test_switching_styles_takes_the_new_styles_detail_unless_kept(tmp_path):
    plain = load_style(str(make_style(tmp_path / "plain.safetensors")))
    detailed = load_style(str(make_style(tmp_path / "detailed.safetensors", default_detail=1.2)))
    stylizer = Stylizer(plain[1], torch.device("cpu"), Precision(torch.float32), style=plain[0])
    assert stylizer.detail == 0.0
    stylizer.set_model(detailed[1], detailed[0])
    assert stylizer.detail == 1.2
    stylizer.detail = 0.3  # as --detail sets it for the webcam, which then keeps it across style keys
    stylizer.set_model(plain[1], plain[0], keep_detail=True)
    assert stylizer.detail == 0.3
    assert Stylizer(TransformerNet(8), torch.device("cpu"), Precision(torch.float32)).detail == 0.0  # no style: none


def test_image_and_video_take_detail_and_refuse_a_wrong_one(workdir, capsys):
    style = make_style(workdir / "detailed.safetensors", name="detailed", default_detail=1.0)
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:, 32:] = 200
    picture[10:20, 10:20] = 255
    cv2.imwrite(str(workdir / "photo.png"), picture)
    outputs = {}
    for label, flags in (("default", []), ("none", ["--detail", "0"]), ("more", ["--detail", "2"])):
        assert cli.main(["image", "photo.png", "-o", label, "--style", str(style), "--device", "cpu", *flags]) == 0
        outputs[label] = cv2.imread(str(workdir / label / "photo-detailed.png")).astype(float)
    assert np.abs(outputs["default"] - outputs["none"]).mean() > 0.5  # the file's 1.0 applies by default
    assert np.abs(outputs["more"] - outputs["none"]).mean() > np.abs(outputs["default"] - outputs["none"]).mean()
    capsys.readouterr()
    for value in ("2.5", "-1", "lots"):
        with pytest.raises(SystemExit) as stop:
            cli.main(["video", "in.mp4", "-o", "out.mp4", "--detail", value])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert "--detail" in err and "Traceback" not in err


def test_video_reports_the_detail_it_ran_with(workdir, capsys):
    style = make_style(workdir / "detailed.safetensors", name="detailed", default_detail=1.0)
    source = write_video(workdir / "in.mp4", frames=3, width=48, height=32, audio=None)
    for flags, expected in (([], 1.0), (["--detail", "0.25"], 0.25)):
        capsys.readouterr()
        argv = ["video", str(source), "-o", "out.mp4", "--overwrite", "--style", str(style), "--device", "cpu", "--quiet", "--json"]
        assert cli.main([*argv, *flags]) == 0
        assert json.loads(capsys.readouterr().out)["detail"] == expected


def test_set_style_defaults_changes_the_metadata_and_keeps_the_tensors_as_stored(tmp_path):
    path = make_style(tmp_path / "half.safetensors")
    with safe_open(str(path), "pt") as handle:
        values = json.loads(handle.metadata()[METADATA_KEY])
        half = {key: handle.get_tensor(key).half() for key in handle.keys()}  # noqa: SIM118  (safe_open is no mapping)
    save_file(half, str(path), metadata={METADATA_KEY: json.dumps(values)})  # an fp16 file, as the shipped fast codes are
    assert set_style_defaults(path, default_detail=0.7).default_detail == 0.7
    assert load_style(str(path))[0].default_detail == 0.7
    with safe_open(str(path), "pt") as handle:
        assert all(handle.get_tensor(key).dtype == torch.float16 and torch.equal(handle.get_tensor(key), half[key]) for key in half)  # noqa: SIM118
    before = path.read_bytes()
    with pytest.raises(StyleError, match="invalid default_detail"):
        set_style_defaults(path, default_detail=5)
    assert path.read_bytes() == before  # refused before anything was written
