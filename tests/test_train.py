"""The training recipe on tiny inputs: a random-init VGG (no download), 32 px crops, width 4."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from stylecam.errors import StylecamError
from stylecam.model import TransformerNet
from stylecam.weights import StyleImageCredit, load_style
from stylecam_train import cli, export
from stylecam_train.data import PhotoDataModule, random_crop
from stylecam_train.errors import TrainingDivergedError, TrainingInputError, UnknownLayerError
from stylecam_train.images import UnreadableImagesWarning
from stylecam_train.losses import content_loss, gram, style_loss, total_variation
from stylecam_train.module import StyleTransferModule, TrainConfig
from stylecam_train.vgg import LAYER_NAMES, RANDOM, VGGFeatures, load_vgg

STEPS = 3
BATCH = 2


def _photo(seed: int, width: int, height: int) -> np.ndarray:
    """A smooth colour field plus noise: different statistics per seed, cheap to make."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([xs * (seed + 1) % 256, ys * 3 % 256, (xs + ys * seed) % 256], axis=-1)
    return (base + rng.integers(0, 40, base.shape)).clip(0, 255).astype(np.uint8)


def make_photo_folder(folder: Path, count: int = 4) -> Path:
    (folder / "nested").mkdir(parents=True, exist_ok=True)
    names = ["a.jpg", "b.PNG", "nested/c.jpeg", "nested/d.webp", "e.jpg", "f.png"]
    for seed, name in enumerate(names[:count]):
        assert cv2.imwrite(str(folder / name), _photo(seed, 48 + 8 * seed, 40 + 4 * seed))
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture(scope="module")
def vgg() -> VGGFeatures:
    torch.manual_seed(0)
    return load_vgg(RANDOM)


@pytest.fixture(scope="module")
def style_image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("style") / "painting.png"
    assert cv2.imwrite(str(path), _photo(7, 64, 48))
    return path


def tiny_config(style_image: Path, **changes) -> TrainConfig:
    settings = dict(style_image=str(style_image), style_size=48, crop_size=32, batch_size=BATCH, width=4, vgg_weights=RANDOM)
    return TrainConfig(**{**settings, **changes})


def train_args(tmp: Path, style_image: Path, data: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args([
        "--style-image", str(style_image), "--data", str(data), "--name", "tiny",
        "--out", str(tmp / "weights"), "--workdir", str(tmp / "run"), "--vgg-weights", RANDOM,
        "--width", "4", "--crop-size", "32", "--style-size", "48", "--batch-size", str(BATCH),
        "--max-steps", str(STEPS), "--log-every", "1", "--preview-every", "2", "--accelerator", "cpu", "--full",
        "--title", "Test Field", "--artist", "A. Tester", "--year", "2026", "--licence", "CC0", "--credit", "made by the test",
        *extra,
    ])  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory, style_image) -> Path:
    """One tiny training run through the CLI entry point, shared by the tests that inspect its outputs."""
    tmp = tmp_path_factory.mktemp("trained")
    data = make_photo_folder(tmp / "photos")
    assert cli.run(train_args(tmp, style_image, data)) == 0
    return tmp


# ---- losses ------------------------------------------------------------------------------
def test_gram_of_known_tensor():
    features = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 4  # F Fᵀ / (C·H·W)
    assert torch.allclose(gram(features), expected.unsqueeze(0))


def test_losses_are_zero_for_identical_inputs_and_positive_otherwise():
    torch.manual_seed(0)
    features = {"relu2_2": torch.rand(2, 8, 6, 6)}
    grams = {"relu2_2": gram(features["relu2_2"][:1])}
    same = {"relu2_2": features["relu2_2"][:1]}
    assert style_loss(same, grams, {"relu2_2": 1.0}).item() == pytest.approx(0.0, abs=1e-6)
    assert content_loss(features, features, {"relu2_2": 1.0}).item() == pytest.approx(0.0, abs=1e-6)
    assert total_variation(torch.full((1, 3, 8, 8), 0.3)).item() == 0.0
    other = {"relu2_2": torch.rand(2, 8, 6, 6)}
    assert content_loss(other, features, {"relu2_2": 1.0}).item() > 0.01
    assert style_loss(other, {"relu2_2": gram(torch.rand(1, 8, 6, 6) ** 4)}, {"relu2_2": 1.0}).item() > 0.01


class ScaledVGG(nn.Module):
    """The same features times a constant per layer, 0.001 to 1000 (another VGG file's scale)."""

    def __init__(self, inner: VGGFeatures):
        super().__init__()
        self.inner = inner

    def forward(self, images, layers):
        return {name: value * 10.0 ** ((LAYER_NAMES.index(name) - 6) / 2) for name, value in self.inner(images, layers).items()}


def test_loss_balance_is_unchanged_when_activations_are_scaled(vgg, style_image):
    config = tiny_config(style_image, tv_weight=0.5)
    torch.manual_seed(1)
    plain = StyleTransferModule(config, vgg=vgg)
    scaled = StyleTransferModule(config, vgg=ScaledVGG(vgg))
    scaled.transformer.load_state_dict(plain.transformer.state_dict())
    for module in (plain, scaled):
        module.prepare_loss_network(torch.device("cpu"))
    photos = torch.rand(2, 3, 32, 32)
    expected, got = plain.compute_losses(photos), scaled.compute_losses(photos)
    assert expected["style"].item() > 0 and expected["content"].item() > 0
    for key in ("loss", "style", "content", "tv"):
        assert got[key].item() == pytest.approx(expected[key].item(), rel=1e-4), key


# ---- VGG ---------------------------------------------------------------------------------
def test_unknown_layer_lists_the_valid_names(vgg):
    with pytest.raises(UnknownLayerError, match="relu9_9.*valid layers: relu1_1, relu1_2"):
        vgg(torch.rand(1, 3, 32, 32), ["relu2_2", "relu9_9"])
    with pytest.raises(ValueError, match="relu4_4"):
        TrainConfig(style_layers={"relu4_4": 1.0})


def test_vgg_stops_at_the_deepest_requested_layer_and_keeps_its_input(vgg):
    reached = []
    handle = vgg.layers[4].register_forward_hook(lambda *_: reached.append(True))  # the pool after relu1_2
    try:
        images = torch.rand(1, 3, 32, 32)
        before = images.clone()
        features = vgg(images, ["relu1_2", "relu1_1"])
    finally:
        handle.remove()
    assert set(features) == {"relu1_1", "relu1_2"} and features["relu1_2"].shape == (1, 64, 32, 32)
    assert not reached
    assert torch.equal(images, before)


def test_vgg_weights_file_is_loaded_and_a_bad_one_is_refused(tmp_path, vgg):
    good = tmp_path / "features.pth"
    state = {key: value.half() for key, value in nn.Sequential(*vgg.layers).state_dict().items()}  # fp16, like the shared file
    torch.save(state, good)
    loaded = load_vgg(good)
    assert loaded.layers[0].weight.dtype == torch.float32
    assert torch.allclose(loaded.layers[0].weight, vgg.layers[0].weight, atol=1e-2)
    torch.save({"0.weight": torch.zeros(3)}, tmp_path / "bad.pth")
    with pytest.raises(TrainingInputError, match="bad.pth"):
        load_vgg(tmp_path / "bad.pth")
    with pytest.raises(TrainingInputError, match="missing.pth"):
        load_vgg(tmp_path / "missing.pth")


# ---- module ------------------------------------------------------------------------------
def test_gradients_reach_the_transformer_and_not_the_vgg(vgg, style_image):
    module = StyleTransferModule(tiny_config(style_image), vgg=vgg)
    module.prepare_loss_network(torch.device("cpu"))
    module.compute_losses(torch.rand(2, 3, 32, 32))["loss"].backward()
    grads = [p.grad for p in module.transformer.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum().item() for g in grads) > 0
    assert all(p.grad is None and not p.requires_grad for p in vgg.parameters())
    state_keys = set(module.state_dict())
    assert state_keys == {f"transformer.{key}" for key in module.transformer.state_dict()}  # no VGG, no Gram targets
    optimizer = module.configure_optimizers()["optimizer"]
    assert {id(p) for p in optimizer.param_groups[0]["params"]} == {id(p) for p in module.transformer.parameters()}


# ---- data --------------------------------------------------------------------------------
def test_crops_have_the_crop_size_and_an_epoch_has_a_fixed_length(tmp_path):
    folder = make_photo_folder(tmp_path / "photos", count=6)
    datamodule = PhotoDataModule(folder, crop_size=32, batch_size=3, steps_per_epoch=5)
    batches = list(datamodule.train_dataloader())
    assert len(datamodule.images) == 6  # jpg, PNG, jpeg and webp, nested ones too; notes.txt ignored
    assert len(batches) == 5
    assert batches[0].shape == (3, 3, 32, 32) and batches[0].dtype == torch.uint8
    image = datamodule.images[0]
    before = image.clone()
    random_crop(image, 16, (0.5, 1.0))
    assert torch.equal(image, before)


def test_corrupt_images_are_skipped_and_counted(tmp_path):
    folder = make_photo_folder(tmp_path / "photos", count=3)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    (folder / "nested" / "empty.png").write_bytes(b"")
    datamodule = PhotoDataModule(folder, crop_size=32)
    with pytest.warns(UnreadableImagesWarning, match="skipped 2 unreadable image"):
        datamodule.setup("fit")
    assert datamodule.skipped_count == 2
    assert {p.name for p in datamodule.skipped_files} == {"broken.jpg", "empty.png"}
    assert len(datamodule.images) == 3


def test_a_folder_without_usable_images_is_an_error_naming_it(tmp_path):
    empty = tmp_path / "empty-photos"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    with pytest.raises(TrainingInputError, match="empty-photos has no images"):
        PhotoDataModule(empty).setup("fit")
    broken = tmp_path / "broken-photos"
    broken.mkdir()
    (broken / "x.jpg").write_bytes(b"garbage")
    with warnings.catch_warnings(), pytest.raises(TrainingInputError, match="broken-photos has 1 image files but none"):
        PhotoDataModule(broken).setup("fit")
    with pytest.raises(TrainingInputError, match="does not exist"):
        PhotoDataModule(tmp_path / "nowhere").setup("fit")


# ---- end to end --------------------------------------------------------------------------
def test_training_writes_a_style_file_that_the_runtime_loads(trained):
    path = trained / "weights" / "tiny.safetensors"
    style, model = load_style(path)
    frame = torch.rand(1, 3, 37, 45)
    with torch.no_grad():
        output = model(frame)
    assert output.shape == frame.shape and torch.isfinite(output).all()
    training = style.metadata.training
    assert training["steps"] == STEPS and training["width"] == 4 and training["crop_size"] == 32
    assert training["hardware"].startswith(("CPU", "GPU")) and training["minutes"] >= 0
    assert training["style_image"] == "painting.png" and len(training["style_image_sha256"]) == 64  # no trainer's folders
    assert style.metadata.style_image == StyleImageCredit(
        title="Test Field", artist="A. Tester", year="2026", licence="CC0", credit="made by the test",
    )  # fmt: skip
    assert 0 < style.default_scale <= 1
    preview = cv2.imread(str(path.with_suffix(".png")))
    assert preview is not None and preview.shape[0] == 2 * export.PREVIEW_TILE
    assert "| tiny | Test Field, A. Tester, 2026 |" in (trained / "weights" / "README.md").read_text()
    previews = sorted((trained / "run").rglob("previews/step_*.png"))
    assert [p.name for p in previews] == ["step_0000002.png", "step_0000003.png"]


def test_a_checkpoint_carries_its_settings(trained, style_image):
    checkpoint = torch.load(trained / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    config = checkpoint["hyper_parameters"]["config"]
    assert config["style_size"] == 48 and config["crop_size"] == 32 and config["style_image"] == [str(style_image)]
    assert config["style_layers"] == {"relu1_2": 0.25, "relu2_2": 1.0, "relu3_3": 1.0, "relu4_3": 1.0}
    assert not any(key.startswith(("vgg", "_vgg", "style_gram")) for key in checkpoint["state_dict"])
    module = export.load_module(trained / "run" / "checkpoints" / "last.ckpt")
    assert module.config == tiny_config(style_image)


def test_resume_continues_the_step_count(trained, style_image, tmp_path):
    checkpoint = trained / "run" / "checkpoints" / "last.ckpt"
    args = train_args(tmp_path, style_image, trained / "photos", "--resume", str(checkpoint), "--max-steps", str(STEPS + 2), "--no-export")
    assert cli.run(args) == 0
    resumed = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert resumed["global_step"] == STEPS + 2
    record = export.checkpoint_record(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert record["steps"] == STEPS + 2
    throughput = next(v for k, v in resumed["callbacks"].items() if k.startswith("Throughput"))
    assert throughput["images"] == (STEPS + 2) * BATCH  # the images of the first run are carried over


def test_resume_refuses_another_painting_or_width(trained, style_image, tmp_path):
    checkpoint = trained / "run" / "checkpoints" / "last.ckpt"
    other = tmp_path / "another.png"
    assert cv2.imwrite(str(other), _photo(8, 64, 48))
    args = train_args(tmp_path, other, trained / "photos", "--resume", str(checkpoint), "--max-steps", str(STEPS + 2))
    with pytest.raises(TrainingInputError, match="was trained on painting.png, not on what --style-image gives now"):
        cli.run(args)
    args = train_args(tmp_path, style_image, trained / "photos", "--resume", str(checkpoint), "--max-steps", str(STEPS + 2), "--width", "8")
    with pytest.raises(TrainingInputError, match="has --width 4, this run asks for 8"):
        cli.run(args)
    assert not (tmp_path / "run").exists()  # refused before the trainer started


def test_a_resumed_run_records_the_settings_of_its_earlier_steps(trained, style_image, tmp_path):
    checkpoint = trained / "run" / "checkpoints" / "last.ckpt"
    extra = ("--resume", str(checkpoint), "--max-steps", str(STEPS + 2), "--lr", "0.0005", "--crop-size", "24")
    assert cli.run(train_args(tmp_path, style_image, trained / "photos", *extra, "--overwrite")) == 0
    metadata = load_style(tmp_path / "weights" / "tiny.safetensors")[0].metadata.training
    assert metadata["lr"] == 0.0005 and metadata["crop_size"] == 24  # the settings of the last span
    (span,) = metadata["earlier_spans"]
    assert span["steps"] == [1, STEPS] and span["settings"]["crop_size"] == 32 and "lr" in span["settings"]


def test_export_refuses_to_overwrite_and_needs_credit_for_unknown_paintings(trained, style_image):
    with pytest.raises(TrainingInputError, match="exists.*--overwrite"):
        export.check_can_write("tiny", trained / "weights", overwrite=False)
    with pytest.raises(TrainingInputError, match="--title, --artist, --licence"):
        export.style_image_credit("my_painting", {})
    known = export.style_image_credit("starry_night", {})
    assert known["artist"] == "Vincent van Gogh" and known["licence"] == "public domain"


def test_export_from_checkpoint_replaces_the_readme_line(trained, tmp_path):
    out = tmp_path / "weights"
    out.mkdir()
    (out / "README.md").write_text(export.README_HEADER + "| tiny | old line |\n| other | kept |\n")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([
        "--export-from", str(trained / "run" / "checkpoints" / "last.ckpt"), "--name", "tiny", "--out", str(out),
        "--data", str(trained / "photos"), "--title", "T", "--artist", "A", "--licence", "CC0",
    ])  # fmt: skip
    assert cli.run(args) == 0
    lines = (out / "README.md").read_text().splitlines()
    assert "| other | kept |" in lines and not any("old line" in line for line in lines)
    assert sum(line.startswith("| tiny |") for line in lines) == 1
    assert load_style(out / "tiny.safetensors")[0].metadata.training["steps"] == STEPS


def test_writing_a_styles_readme_line_again_unchanged_keeps_one_line(tmp_path):
    readme = tmp_path / "README.md"
    export.update_readme(readme, "tiny", "| tiny | a line |")
    export.update_readme(readme, "other", "| other | b line |")
    export.update_readme(readme, "tiny", "| tiny | a line |")  # a preview redrawn: the same row again
    lines = readme.read_text().splitlines()
    assert lines.count("| tiny | a line |") == 1 and lines.count("| other | b line |") == 1


def test_cli_reports_bad_layer_names_as_input_errors(tmp_path, style_image):
    args = train_args(tmp_path, style_image, tmp_path, "--style-layers", "relu1_2:0.25,conv9")
    with pytest.raises(TrainingInputError, match="conv9"):
        cli.run(args)


def test_building_the_train_flags_does_not_import_lightning():
    # Lightning is the optional extra stylecam[train]: `stylecam train --help` must work without it.
    code = (
        "import sys; from stylecam.argtypes import Parser; from stylecam_train.commands import train;"
        "train.add_arguments(Parser()); print(any(name.startswith(('pytorch_lightning', 'lightning')) for name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_command_modules_import_only_the_standard_library():
    # `stylecam --help` imports every registered command module to list it: none may bring torch,
    # OpenCV, PyAV or Lightning at import.
    heavy = ("torch", "cv2", "av", "numpy", "pytorch_lightning", "lightning")
    code = (
        "import sys; import stylecam_train.commands.train, stylecam_train.commands.paint, stylecam_train.commands.distill,"
        " stylecam_train.commands.bench_train;"
        f"print(sorted({{name.split('.')[0] for name in sys.modules}} & set({heavy!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("argv", [["train", "--style-image", "p.jpg", "--data", "photos"], ["bench-train", "--size", "32"]])
def test_without_lightning_a_training_command_says_which_extra_to_install(tmp_path, argv):
    # A None in sys.modules makes every import of the module fail, as on an install without stylecam[train].
    code = f"import sys; sys.modules['pytorch_lightning'] = None; from stylecam.cli import main; sys.exit(main({argv!r}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"stylecam: error: stylecam {argv[0]} needs PyTorch Lightning, which this install leaves out: pip install 'stylecam[train]'"
    ]


# ---- divergence guard and schedule -------------------------------------------------------
def test_learning_rate_warms_up_then_decays_along_a_cosine(style_image):
    from stylecam_train.schedule import lr_factor

    config = tiny_config(style_image, lr_warmup_steps=10, lr_final_fraction=0.1)
    factors = [lr_factor(step, 110, config.lr_final_fraction, config.lr_warmup_steps) for step in range(111)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[60] == pytest.approx(0.55) and factors[110] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))  # never rises after the warm-up
    assert lr_factor(10**6, float("inf"), config.lr_final_fraction, config.lr_warmup_steps) == 1.0  # no step limit: constant


def test_the_guard_stops_a_diverging_run_and_keeps_weights_from_before_it(tmp_path, style_image, monkeypatch):
    data = make_photo_folder(tmp_path / "photos")
    original = StyleTransferModule.compute_losses
    blow_up_from = 14  # the loss is checked every step (--log-every 1): steps 1 to 13 pass, step 14 is NaN

    def diverging(self, photos, style=None):
        if self.global_step + 1 >= blow_up_from:
            with torch.no_grad():
                for parameter in self.transformer.parameters():
                    parameter.fill_(float("nan"))  # what an exploded update leaves behind
        return original(self, photos, style)

    monkeypatch.setattr(StyleTransferModule, "compute_losses", diverging)
    args = train_args(tmp_path, style_image, data, "--max-steps", "40", "--preview-every", "0")
    with pytest.raises(TrainingDivergedError, match=r"became nan at step 14; the weights of step 12 are in .*last.ckpt"):
        cli.run(args)
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    weights = [value for key, value in checkpoint["state_dict"].items() if key.startswith("transformer.")]
    assert weights and all(torch.isfinite(value).all() for value in weights)
    assert checkpoint["global_step"] < 40  # stopped, not run to the end
    assert not (tmp_path / "weights" / "tiny.safetensors").exists()  # a diverged run is not exported


def test_the_guard_trips_on_an_exploding_loss_but_not_on_noise():
    from stylecam_train.callbacks import DivergenceGuard

    guard = DivergenceGuard(check_every=1, explode_factor=10, warmup_checks=3)
    noisy = [5.0, 3.0, 4.5, 2.0, 6.0, 2.5, 4.0]
    assert all(
        guard._problem(value) is None and guard._record_healthy(step, value, _FakeModule()) is None for step, value in enumerate(noisy)
    )
    assert "times its recent average" in guard._problem(400.0)
    assert "inf" in guard._problem(float("inf"))


class _FakeModule:
    transformer = nn.Linear(2, 2)


def test_gradient_spikes_are_clipped_relative_to_the_running_norm(style_image, vgg):
    module = StyleTransferModule(tiny_config(style_image, grad_clip=4.0), vgg=vgg)
    parameters = list(module.transformer.parameters())

    def set_gradients(norm: float) -> None:
        for parameter in parameters:
            parameter.grad = torch.ones_like(parameter)
        total = torch.nn.utils.get_total_norm([p.grad for p in parameters])
        for parameter in parameters:
            parameter.grad.mul_(norm / total)

    def clipped_norm() -> float:
        module.configure_gradient_clipping(None)
        return torch.nn.utils.get_total_norm([p.grad for p in parameters]).item()

    set_gradients(1000.0)
    assert clipped_norm() == pytest.approx(1000.0, rel=1e-4)  # the first step only sets the scale
    set_gradients(3000.0)
    assert clipped_norm() == pytest.approx(3000.0, rel=1e-4)  # within 4x of the average: untouched
    set_gradients(1e6)  # a spike: capped at 4x the running average, 0.98 * 1000 + 0.02 * 3000 = 1040
    assert clipped_norm() == pytest.approx(4 * 1040.0, rel=1e-4)
    set_gradients(float("nan"))
    module.configure_gradient_clipping(None)
    assert torch.isfinite(module._grad_norm_average)  # left to the divergence guard, not averaged in


def test_inputs_are_checked_before_any_training_starts(tmp_path, style_image):
    data = make_photo_folder(tmp_path / "photos")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    base = ["--data", str(data), "--out", str(tmp_path / "weights"), "--workdir", str(tmp_path / "run"), "--vgg-weights", RANDOM]
    uncredited = parser.parse_args(["--style-image", str(style_image), "--name", "mine", *base])
    with pytest.raises(TrainingInputError, match="--title, --artist, --licence"):
        cli.run(uncredited)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    unreadable = parser.parse_args(
        ["--style-image", str(broken), "--name", "mine", "--title", "T", "--artist", "A", "--licence", "CC0", *base]
    )
    with pytest.raises(TrainingInputError, match="broken.jpg"):
        cli.run(unreadable)
    assert not (tmp_path / "run").exists()  # no Trainer was set up


def test_an_offline_machine_is_told_to_give_vgg_weights(monkeypatch):
    import urllib.error

    from stylecam_train import vgg as vgg_module

    def offline(weights=None):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(vgg_module, "_torchvision_features", offline)
    with pytest.raises(TrainingInputError, match="cannot be downloaded.*--vgg-weights FILE"):
        load_vgg(None)


@pytest.mark.parametrize(("flag", "value"), [("--max-steps", "0"), ("--batch-size", "0"), ("--steps-per-epoch", "-3")])
def test_zero_steps_or_batches_are_refused_by_the_parser(flag, value, capsys):
    from stylecam import cli as stylecam_cli

    with pytest.raises(SystemExit) as exit_info:
        stylecam_cli.main(["train", "--style-image", "p.jpg", "--data", "photos", flag, value])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and flag in lines[0] and ("at least 1" in lines[0] or "from 1 to" in lines[0])


def test_resume_or_export_from_a_file_that_is_not_our_checkpoint_is_one_clear_error(tmp_path, style_image):
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint")
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {"layer.weight": torch.zeros(2)}, "epoch": 3}, foreign)
    pickled_object = tmp_path / "object.ckpt"
    torch.save({"model": nn.Linear(2, 2)}, pickled_object)  # needs unpickling of a class: refused safely
    for path in (text, foreign, pickled_object):
        with pytest.raises(TrainingInputError, match=f"{path.name} is not a stylecam training checkpoint") as error:
            export.read_training_checkpoint(path)
        assert "weights_only=False" not in str(error.value)
    data = make_photo_folder(tmp_path / "photos")
    with pytest.raises(TrainingInputError, match="not a stylecam training checkpoint"):
        cli.run(train_args(tmp_path, style_image, data, "--resume", str(foreign)))
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    with pytest.raises(TrainingInputError, match="not a stylecam training checkpoint"):
        cli.run(parser.parse_args(["--export-from", str(text), "--name", "x", "--data", str(data)]))


def test_train_stderr_holds_only_stylecam_lines_and_the_progress_bar(tmp_path, style_image):
    data = make_photo_folder(tmp_path / "photos")
    argv = [
        sys.executable, "-m", "stylecam", "train", "--style-image", str(style_image), "--data", str(data), "--name", "quiet",
        "--out", str(tmp_path / "weights"), "--workdir", str(tmp_path / "run"), "--vgg-weights", RANDOM, "--width", "4",
        "--crop-size", "32", "--style-size", "48", "--batch-size", "2", "--max-steps", "3", "--accelerator", "cpu",
        "--title", "T", "--artist", "A", "--licence", "CC0", "--full",
    ]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "default"})
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stderr.replace("\r", "\n").splitlines() if line.strip()]
    noise = [
        line for line in lines if not line.startswith(("Epoch", "Training", "step ", "training on", "trained ", "training took", "wrote "))
    ]
    assert noise == [], noise
    assert result.stdout == ""  # notes and the bar on stderr; stdout is for the result (--json)


@pytest.mark.parametrize(("max_steps", "expected"), [(30, 30), (500, 50)])
def test_the_logging_interval_never_exceeds_a_short_run(tmp_path, max_steps, expected):
    # A code fit's epoch is its run; an interval longer than that, Lightning warns of on stderr (a 30-step fit).
    import argparse

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--style-image", "p.jpg", "--max-steps", str(max_steps), "--accelerator", "cpu"])
    assert cli.build_trainer(args, tmp_path, []).log_every_n_steps == expected


def test_each_setting_is_declared_once_and_becomes_a_flag():
    import argparse
    from dataclasses import fields

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    flags = {action.dest for action in parser._actions}
    settings = [spec.name for spec in fields(TrainConfig) if "help" in spec.metadata]
    assert set(settings) <= flags and len(settings) >= 15
    args = parser.parse_args(["--style-image", "p.jpg", "--style-weight", "2.5", "--crop-scale", "0.5,0.9", "--style-layers", "relu2_2:2"])
    config = cli.config_from_args(args)
    assert (config.style_weight, config.crop_scale, config.style_layers) == (2.5, (0.5, 0.9), {"relu2_2": 2.0})
    assert config.tv_weight == TrainConfig().tv_weight  # a flag not given keeps the field's default


# ---- temporal stability and fine-tuning --------------------------------------------------
def test_an_integer_shift_moves_the_image_by_that_many_pixels():
    from stylecam_train.temporal import motion_theta, warp

    torch.manual_seed(0)
    images = torch.rand(2, 3, 16, 20)
    none = torch.zeros(2)
    theta = motion_theta(torch.tensor([3.0, -2.0]), torch.tensor([0.0, 1.0]), none, torch.ones(2), 16, 20)  # right 3; left 2, down 1
    moved, valid = warp(images, theta)
    assert torch.allclose(moved[0, :, :, 3:], images[0, :, :, :-3], atol=1e-5)
    assert torch.allclose(moved[1, :, 1:, :-2], images[1, :, :-1, 2:], atol=1e-5)
    assert valid[0, 0, :, :3].sum() == 0 and valid[0, 0, :, 3:].all()  # the 3 columns that came from outside are invalid
    assert valid[1].sum() == 15 * 18
    still, everywhere = warp(images, motion_theta(none, none, none, torch.ones(2), 16, 20))
    assert torch.allclose(still, images, atol=1e-5) and everywhere.all()


class _PaintedOn(nn.Module):
    """Adds a fixed pattern that does not move with the picture: the opposite of equivariant."""

    def forward(self, images):
        ys, xs = torch.meshgrid(torch.arange(images.shape[-2]), torch.arange(images.shape[-1]), indexing="ij")
        return images + 0.3 * torch.sin(xs * 1.3 + ys * 0.7)


def test_the_temporal_term_is_zero_for_an_equivariant_network_and_positive_otherwise():
    from stylecam_train.temporal import NOISE_STD, stability_losses

    torch.manual_seed(0)
    photos = torch.rand(3, 3, 32, 32) * 0.5 + 0.25  # away from 0 and 1, so clipping the noise changes little

    def terms(network):
        return stability_losses(network, photos, network(photos))

    identity = terms(nn.Identity())
    assert identity["temporal"].item() < 1e-9  # moving the input moves the output exactly
    assert identity["noise"].item() == pytest.approx(NOISE_STD**2, rel=0.1)  # the identity passes the noise on
    constant = terms(lambda images: torch.full_like(images, 0.5))
    assert constant["noise"].item() < 1e-12  # a network that ignores its input ignores noise too
    assert terms(_PaintedOn())["temporal"].item() > 1e-3
    with torch.no_grad():
        assert terms(TransformerNet(width=4))["temporal"].item() > 1e-6  # a random network is not equivariant
    assert set(stability_losses(nn.Identity(), photos, photos, noise=False)) == {"temporal"}


def test_init_from_starts_from_the_style_and_takes_its_width(tmp_path, style_image):
    from conftest import make_style

    path = make_style(tmp_path / "start.safetensors", width=6, seed=3)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    base = ["--style-image", str(style_image), "--vgg-weights", RANDOM, "--init-from", str(path)]
    config = cli.config_from_args(parser.parse_args(base))
    assert config.width == 6 and config.init_from == str(path)
    module = cli.build_module(parser.parse_args(base), config)
    _, loaded = load_style(path)
    frame = torch.rand(1, 3, 36, 40)
    assert torch.equal(module.stylize(frame), loaded(frame).clamp(0, 1))  # step 0 is the loaded style
    with pytest.raises(TrainingInputError, match="--width 4 does not fit --init-from start.safetensors, which has width 6"):
        cli.config_from_args(parser.parse_args([*base, "--width", "4"]))
    with pytest.raises(StylecamError, match="unknown style 'no_such_style'"):
        cli.config_from_args(parser.parse_args(["--style-image", str(style_image), "--init-from", "no_such_style"]))


def test_fine_tuning_with_the_stability_terms_logs_them_and_exports(tmp_path, style_image):
    import csv

    from conftest import make_style

    start = make_style(tmp_path / "start.safetensors", width=4, seed=5, training={"steps": 1500})
    data = make_photo_folder(tmp_path / "photos")
    extra = ["--init-from", str(start), "--temporal-weight", "100", "--noise-weight", "50", "--preview-every", "0"]
    assert cli.run(train_args(tmp_path, style_image, data, *extra)) == 0
    rows = list(csv.DictReader((tmp_path / "run" / "logs" / "version_0" / "metrics.csv").open()))
    temporal = [float(row["loss/temporal"]) for row in rows if row.get("loss/temporal")]
    noise = [float(row["loss/noise"]) for row in rows if row.get("loss/noise")]
    assert len(temporal) == STEPS and len(noise) == STEPS and all(value > 0 for value in temporal + noise)
    style, model = load_style(tmp_path / "weights" / "tiny.safetensors")
    training = style.metadata.training
    assert (training["temporal_weight"], training["noise_weight"]) == (100, 50)
    assert training["init_from"] == "start.safetensors" and len(training["init_from_sha256"]) == 64  # no trainer's folders
    assert training["init_from_steps"] == 1500 and training["steps"] == STEPS
    if training["hardware"].startswith("CPU"):  # the GPU retrain command keeps the stability terms
        assert training["gpu_command"].endswith("--temporal-weight 100 --noise-weight 50 --overwrite")
    _, started = load_style(start)
    assert any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(), started.state_dict().values(), strict=True))
    row = next(line for line in (tmp_path / "weights" / "README.md").read_text().splitlines() if line.startswith("| tiny |"))
    assert "temporal/noise 100/50, fine-tuned from start.safetensors after its 1500 steps" in row


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--style-weight", "nan"), ("--content-weight", "inf"), ("--tv-weight", "-1"), ("--temporal-weight", "nan"),
        ("--lr", "nan"), ("--lr", "-1"), ("--lr-warmup-steps", "-1"), ("--grad-clip", "nan"), ("--crop-size", "100000"),
        ("--style-size", "100000"), ("--width", "0"), ("--width", "1000000"), ("--seed", "-1"), ("--seed", str(2**70)),
        ("--decode-size", "0"), ("--epochs", "0"), ("--max-minutes", "-1"), ("--max-minutes", "nan"), ("--log-every", "0"),
        ("--checkpoint-every", "-5"), ("--preview-every", "-1"), ("--num-nodes", "0"), ("--num-workers", "-1"),
        ("--max-minutes", "0"), ("--default-scale", "0"), ("--default-scale", "4.5"), ("--default-scale", "nan"),
    ],
)  # fmt: skip
def test_out_of_range_training_settings_are_refused_before_any_work(flag, value, capsys):
    from stylecam import cli as stylecam_cli

    with pytest.raises(SystemExit) as exit_info:
        stylecam_cli.main(["train", "--style-image", "p.jpg", "--data", "photos", flag, value])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and flag in lines[0] and "must be" in lines[0]


def test_a_non_finite_layer_weight_is_refused_in_one_line(style_image):
    with pytest.raises(TrainingInputError, match=r"--style-layers relu1_2's weight must be a number from 0 to"):
        tiny_config(style_image, style_layers={"relu1_2": float("nan")})


def _start_training(tmp_path: Path, words: list[str], started, seconds: float = 180, stdout=subprocess.DEVNULL) -> subprocess.Popen:
    """``stylecam`` run with ``words`` in a process of its own, returned once ``started()`` holds (or after ``seconds``)."""
    import time

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "stylecam", *words], cwd=tmp_path, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not started():
        time.sleep(0.2)
    return process


def _logging_started(tmp_path: Path):
    """Training has started once Lightning's logger has a file."""
    return lambda: bool(list((tmp_path / "run").glob("logs/version_*/metrics.csv")))


@pytest.mark.slow
@pytest.mark.parametrize(("signal_name", "exit_code", "word"), [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_a_signal_saves_the_current_step_and_says_how_to_resume(tmp_path, style_image, signal_name, exit_code, word):
    import shlex
    import signal
    import time

    data = make_photo_folder(tmp_path / "photos")
    words = [
        "train", "--style-image", str(style_image), "--data", str(data), "--name", "sig", "--full",
        "--out", str(tmp_path / "weights"), "--workdir", str(tmp_path / "run"), "--vgg-weights", RANDOM, "--width", "4",
        "--crop-size", "32", "--style-size", "48", "--batch-size", "2", "--max-steps", "100000", "--accelerator", "cpu",
        "--checkpoint-every", "100000", "--preview-every", "0", "--title", "T", "--artist", "A", "--licence", "CC0",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = _start_training(tmp_path, words, _logging_started(tmp_path), seconds=120, stdout=subprocess.PIPE)
    checkpoint = tmp_path / "run" / "checkpoints" / "last.ckpt"
    time.sleep(1.0)
    process.send_signal(getattr(signal, signal_name))
    out, err = process.communicate(timeout=120)
    assert process.returncode == exit_code, err
    steps = int(torch.load(checkpoint, map_location="cpu", weights_only=True)["global_step"])
    assert steps >= 1
    line = next(line for line in err.splitlines() if line.startswith(f"stylecam: {word} at step {steps}, saved"))
    resume = shlex.split(line.split("continue with: ", 1)[1])
    assert resume[:2] == ["stylecam", "train"] and resume[-2:] == ["--resume", str(checkpoint)]
    # The printed command continues the run: here to two more steps than were taken, then it exports.
    finish = [*resume[1:], "--max-steps", str(steps + 2)]
    result = subprocess.run([sys.executable, "-m", "stylecam", *finish], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    style, _ = load_style(tmp_path / "weights" / "sig.safetensors")
    assert style.metadata.training["steps"] == steps + 2


@pytest.mark.slow
def test_a_run_killed_outright_resumes_from_its_last_checkpoint_to_the_same_step_count(tmp_path, style_image):
    """SIGKILL gives no chance to save: the run continues from the last periodic checkpoint (written
    atomically, so never half a file) and ends at the step count asked for, as an uninterrupted run does."""
    import signal
    import time

    data = make_photo_folder(tmp_path / "photos")
    words = [
        "train", "--style-image", str(style_image), "--data", str(data), "--name", "killed", "--full",
        "--out", str(tmp_path / "weights"), "--workdir", str(tmp_path / "run"), "--vgg-weights", RANDOM, "--width", "4",
        "--crop-size", "32", "--style-size", "48", "--batch-size", "2", "--accelerator", "cpu",
        "--checkpoint-every", "2", "--preview-every", "0", "--title", "T", "--artist", "A", "--licence", "CC0",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    checkpoint = tmp_path / "run" / "checkpoints" / "last.ckpt"
    process = _start_training(tmp_path, [*words, "--max-steps", "100000"], checkpoint.exists)
    time.sleep(1.0)  # a few more steps, maybe mid-write of the next checkpoint
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    steps = int(torch.load(checkpoint, map_location="cpu", weights_only=True)["global_step"])
    assert steps >= 2 and steps % 2 == 0  # a whole periodic checkpoint
    target = steps + 2
    resume = [*words, "--max-steps", str(target), "--resume", str(checkpoint)]
    result = subprocess.run([sys.executable, "-m", "stylecam", *resume], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    style, _ = load_style(tmp_path / "weights" / "killed.safetensors")
    assert style.metadata.training["steps"] == target
    assert not list((tmp_path / "run" / "checkpoints").glob("*.partial"))  # the killed run's half checkpoint was swept or never seen


def _ddp_words(tmp_path: Path, style_image: Path, data: Path, steps: int) -> list[str]:
    return [
        "train", "--style-image", str(style_image), "--data", str(data), "--name", "ddp", "--full",
        "--out", str(tmp_path / "weights"), "--workdir", str(tmp_path / "run"), "--vgg-weights", RANDOM, "--width", "4",
        "--crop-size", "32", "--style-size", "48", "--batch-size", "1", "--max-steps", str(steps), "--accelerator", "cpu",
        "--devices", "2", "--strategy", "ddp", "--checkpoint-every", "100000", "--title", "T", "--artist", "A", "--licence", "CC0",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="two training processes need two cores")
def test_ddp_on_two_cpu_processes_trains_exports_once_and_exits(tmp_path, style_image):
    data = make_photo_folder(tmp_path / "photos")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    words = _ddp_words(tmp_path, style_image, data, steps=6)
    # The preview written on rank 0 alone once asked every rank for the log folder: the run hung there.
    result = subprocess.run(
        [sys.executable, "-m", "stylecam", *words, "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["steps"] == 6 and summary["path"].endswith("ddp.safetensors")
    assert sorted(path.name for path in (tmp_path / "weights").iterdir()) == ["README.md", "ddp.png", "ddp.safetensors"]
    assert result.stderr.count("training took") == 1  # rank 0 speaks for the run
    training = load_style(tmp_path / "weights" / "ddp.safetensors")[0].metadata.training
    assert training["steps"] == 6 and training["images_seen"] == 6 * 1 * 2  # a step trains a batch on each process


@pytest.mark.parametrize("world_size", [1, 2])
def test_a_signal_stops_training_only_at_a_step_end_decided_by_every_rank(world_size):
    """The race that hung a DDP run in CI: SIGTERM landing on rank 0 after its vote at the end of a
    step stopped rank 0 alone, and rank 1 waited in its next all-reduce for ever. The handler now
    only records the signal; the stop is the ranks' joint decision at the next step end."""
    import signal
    from types import SimpleNamespace

    from stylecam_train.callbacks import GracefulStop

    votes: list[bool] = []

    def reduce_boolean_decision(decision: bool, all: bool = True) -> bool:  # noqa: A002 (Lightning's name)
        votes.append(decision)
        return decision or False  # the other rank, unsignalled, votes no

    trainer = SimpleNamespace(
        world_size=world_size, should_stop=False, strategy=SimpleNamespace(reduce_boolean_decision=reduce_boolean_decision)
    )
    stop = GracefulStop()
    before = signal.getsignal(signal.SIGTERM)
    stop.on_train_start(trainer, None)
    try:
        stop.on_train_batch_end(trainer, None)
        assert not trainer.should_stop
        # The handler is called as the interpreter would call it: a real SIGTERM raised inside the
        # pytest process crashed it (a segfault in CI, after earlier test files had run).
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler) and handler is not before
        handler(signal.SIGTERM, None)  # between this step's vote and the loop's check
        assert stop.signal_number == signal.SIGTERM and not trainer.should_stop
        stop.on_train_batch_end(trainer, None)
        assert trainer.should_stop
        assert votes == ([False, True] if world_size > 1 else [])
        with pytest.raises(KeyboardInterrupt):  # asked twice: at once
            handler(signal.SIGTERM, None)
    finally:
        stop.on_train_end(trainer, None)
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="two training processes need two cores")
def test_sigterm_stops_ddp_training_on_every_rank_with_143(tmp_path, style_image):
    import signal
    import time

    data = make_photo_folder(tmp_path / "photos")
    words = _ddp_words(tmp_path, style_image, data, steps=100000)
    process = _start_training(tmp_path, [*words, "--preview-every", "0"], _logging_started(tmp_path))
    time.sleep(2.0)
    process.send_signal(signal.SIGTERM)  # to the launching process only, as systemd or `timeout` would
    try:
        _, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("SIGTERM did not stop the DDP run within two minutes") from None
    assert process.returncode == 143, err[-3000:]
    assert "stylecam: terminated at step" in err and (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
