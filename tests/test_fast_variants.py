"""Fast variants: the smaller network, its style files, `stylecam distill`, and the webcam picking NAME_fast on a CPU."""

import hashlib
import json

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from conftest import make_style
from stylecam import capture, cli, webcam
from stylecam.commands import webcam as webcam_command
from stylecam.fastvariants import fast_variant, live_cycle, live_style
from stylecam.model import TransformerNet
from stylecam.weights import ARCHITECTURE, ARCHITECTURE_SMALL_EDGES, StyleError, load_style, read_metadata, save_style
from stylecam_train import distill


@pytest.mark.parametrize("edge_kernel", [9, 5])
@pytest.mark.parametrize("height, width", [(479, 641), (17, 23), (101, 30)])
def test_a_small_network_keeps_any_frame_size(height, width, edge_kernel):
    model = TransformerNet(width=8, blocks=2, edge_kernel=edge_kernel).eval()
    with torch.inference_mode():
        out = model(torch.rand(1, 3, height, width))
    assert out.shape == (1, 3, height, width) and torch.isfinite(out).all()
    assert len(model.residuals) == 2


def test_fewer_blocks_and_smaller_edges_mean_fewer_weights():
    def count(model):
        return sum(p.numel() for p in model.parameters())

    assert count(TransformerNet(8, blocks=2)) < count(TransformerNet(8, blocks=5))
    assert count(TransformerNet(8, edge_kernel=5)) < count(TransformerNet(8))


def test_a_style_file_keeps_blocks_and_edge_kernel(tmp_path):
    path = make_style(tmp_path / "small.safetensors", name="small", blocks=2, edge_kernel=5)
    style, model = load_style(path)
    assert (style.metadata.blocks, style.metadata.edge_kernel, model.blocks, model.edge_kernel) == (2, 5, 2, 5)
    assert style.metadata.architecture == ARCHITECTURE_SMALL_EDGES  # an older stylecam refuses it by name
    torch.manual_seed(0)
    expected = TransformerNet(8, blocks=2, edge_kernel=5).state_dict()
    assert all(torch.equal(model.state_dict()[key], expected[key]) for key in expected)


def test_a_file_written_before_the_fields_existed_loads_as_the_classic_network(tmp_path, style_file):
    metadata = read_metadata(style_file).to_dict()
    for key in ("blocks", "edge_kernel"):
        del metadata[key]
    path = tmp_path / "old.safetensors"
    state = {key: value.contiguous() for key, value in load_style(style_file)[1].state_dict().items()}
    save_file(state, str(path), metadata={"stylecam": json.dumps(metadata)})
    style, model = load_style(path)
    assert (style.metadata.blocks, style.metadata.edge_kernel, style.metadata.architecture) == (5, 9, ARCHITECTURE)
    assert len(model.residuals) == 5


def test_metadata_that_contradicts_itself_or_the_tensors_is_refused(tmp_path, style_file):
    metadata = read_metadata(style_file).to_dict()
    state = {key: value.contiguous() for key, value in load_style(style_file)[1].state_dict().items()}
    wrong_kernel = tmp_path / "wrong-kernel.safetensors"
    save_file(state, str(wrong_kernel), metadata={"stylecam": json.dumps(metadata | {"edge_kernel": 5})})
    with pytest.raises(StyleError, match="says architecture 'johnson2016' but edge_kernel 5"):
        load_style(wrong_kernel)
    wrong_blocks = tmp_path / "wrong-blocks.safetensors"
    save_file(state, str(wrong_blocks), metadata={"stylecam": json.dumps(metadata | {"blocks": 2})})
    with pytest.raises(StyleError, match="does not fit .*2 blocks"):
        load_style(wrong_blocks)
    with pytest.raises(ValueError, match="blocks"):  # a writer cannot describe a network wrongly either
        save_style(TransformerNet(8, blocks=2), tmp_path / "x.safetensors", read_metadata(style_file))


# -- stylecam distill -----------------------------------------------------------------------------
def _photos(folder, count=3):
    """Small pictures with edges and colours: bands, a disc and noise, different in each."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        image = np.zeros((96, 128, 3), np.uint8)
        image[:, :, index % 3] = np.linspace(0, 255, 128, dtype=np.uint8)
        cv2.circle(image, (30 + 20 * index, 50), 18, (255, 200, 40), -1)
        image = cv2.add(image, rng.integers(0, 40, image.shape, dtype=np.uint8))
        cv2.imwrite(str(folder / f"photo{index}.png"), image)
    return folder


def test_a_tiny_distillation_lowers_the_loss_and_exports_a_file_that_names_its_teacher(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(distill, "TEACHER_SIDES", (64,))  # the teacher's pass and the preview, small
    monkeypatch.setattr(distill, "PREVIEW_ROWS", 96)
    teacher = make_style(tmp_path / "teacher.safetensors", name="teacher", default_scale=0.75)
    out = tmp_path / "out"
    argv = ["distill", str(teacher), "--data", str(_photos(tmp_path / "photos")), "--out", str(out)]
    argv += ["--width", "4", "--blocks", "1", "--edge-kernel", "5", "--scale", "0.5", "--steps", "40"]
    argv += ["--crop-size", "48", "--batch-size", "2", "--quiet"]
    assert cli.main(argv) == 0
    path = out / "teacher_fast.safetensors"
    stdout, stderr = capsys.readouterr()
    assert stdout == "" and f"wrote {path}" in stderr.splitlines()
    style, model = load_style(path)
    metadata = style.metadata
    training = metadata.training
    assert training["loss_after"] < training["loss_before"]
    assert training["distilled_from"]["style"] == "teacher"
    assert training["distilled_from"]["sha256"] == hashlib.sha256(teacher.read_bytes()).hexdigest()
    assert training["distilled_from"]["default_scale"] == 0.75
    assert metadata.style_image == read_metadata(teacher).style_image  # the teacher's credit
    assert (metadata.width, metadata.blocks, metadata.edge_kernel, metadata.default_scale) == (4, 1, 5, 0.5)
    assert metadata.default_detail == distill.DistillConfig().detail > 0  # the runtime adds the input's detail back by default
    assert model(torch.rand(1, 3, 33, 47)).shape == (1, 3, 33, 47)
    assert (out / "teacher_fast.png").is_file()
    assert "| teacher_fast |" in (out / "README.md").read_text()


def test_a_student_can_start_from_another_of_its_shape_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(distill, "TEACHER_SIDES", (48,))
    monkeypatch.setattr(distill, "PREVIEW_ROWS", 48)
    teacher = make_style(tmp_path / "teacher.safetensors", name="teacher")
    start = make_style(tmp_path / "start.safetensors", name="start", width=4, blocks=1, seed=3)
    photos = _photos(tmp_path / "photos", count=1)
    common = ["distill", str(teacher), "--data", str(photos), "--out", str(tmp_path / "out"), "--steps", "1", "--crop-size", "32"]
    common += ["--batch-size", "1", "--quiet", "--lr", "1e-9"]
    assert cli.main([*common, "--width", "4", "--blocks", "1", "--init", str(start), "--detail", "0.4"]) == 0
    style, model = load_style(tmp_path / "out" / "teacher_fast.safetensors")
    assert style.default_detail == 0.4
    assert style.metadata.training["initialized_from"] == {"style": "start", "sha256": hashlib.sha256(start.read_bytes()).hexdigest()}
    started = load_style(start)[1].state_dict()
    assert all(torch.allclose(model.state_dict()[key], started[key], atol=1e-5) for key in started)  # a step at lr 1e-9 moves nothing
    capsys.readouterr()
    code = cli.main([*common, "--width", "8", "--init", str(start), "--overwrite"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "width 4, 1 blocks" in err[0] and "the student is width 8" in err[0]


def test_styles_marks_fast_variants(tmp_path, monkeypatch, capsys):
    make_style(tmp_path / "alpha.safetensors", name="alpha")
    make_style(tmp_path / "alpha_fast.safetensors", name="alpha_fast", training={"distilled_from": {"style": "alpha"}})
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    assert cli.main(["styles", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["alpha_fast"]["fast_variant_of"] == "alpha" and "fast_variant_of" not in rows["alpha"]
    assert cli.main(["styles"]) == 0
    assert "fast variant of alpha" in capsys.readouterr().out


def test_distill_refuses_an_existing_file_before_any_work(tmp_path, capsys):
    teacher = make_style(tmp_path / "teacher.safetensors", name="teacher")
    make_style(tmp_path / "teacher_fast.safetensors", name="teacher_fast")
    code = cli.main(["distill", str(teacher), "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "exists (use --overwrite" in err[0]


@pytest.mark.parametrize(
    ("flag", "value", "limit"),
    [
        ("--width", "100000", "4 to 256"), ("--width", "0", "4 to 256"), ("--blocks", "100000", "0 to 16"),
        ("--edge-kernel", "99", "1 to 15"), ("--threads", "100000", "1 to 1024"), ("--threads", "0", "1 to 1024"),
        ("--crop-size", "100000", "32 to 2048"), ("--crop-size", "8", "32 to 2048"), ("--batch-size", "100000", "1 to 1024"),
        ("--steps", "0", "1 to 10000000"), ("--seed", str(2**70), "0 to 4294967295"), ("--seed", "-1", "0 to 4294967295"),
        ("--scale", "0", "above 0 and at most 4"), ("--scale", "5", "above 0 and at most 4"), ("--scale", "nan", "above 0"),
        ("--max-minutes", "0", "above 0 and at most 1000000"), ("--max-minutes", "nan", "above 0"), ("--lr", "nan", "above 0 and at most 1"), ("--lr", "0", "above 0"),
        ("--gradient-weight", "-1", "0 to 1000000"), ("--device", "gpu", "choose from"), ("--detail", "3", "0 to 2"),
    ],
)  # fmt: skip
def test_out_of_range_distill_settings_are_refused_before_any_work(tmp_path, capsys, flag, value, limit):
    # The teacher and the photo folder do not exist: the flag's parser refuses the value before either is looked at.
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["distill", str(tmp_path / "teacher.safetensors"), "--data", str(tmp_path / "nowhere"), flag, value])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1, lines
    assert flag in lines[0] and limit in lines[0]


def test_a_distill_config_from_python_checks_the_flags_bounds_and_an_even_edge_is_one_line(tmp_path, capsys):
    from stylecam_train.errors import TrainingInputError

    with pytest.raises(TrainingInputError, match=r"--crop-size must be a whole number from 32 to 2048, got 8"):
        distill.DistillConfig(crop_size=8)
    with pytest.raises(TrainingInputError, match=r"--scale must be a number above 0 and at most 4, got 0"):
        distill.DistillConfig(scale=0)
    code = cli.main(["distill", str(tmp_path / "teacher.safetensors"), "--data", str(tmp_path), "--edge-kernel", "4"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--edge-kernel must be an odd number, got 4" in err[0]


def test_a_time_limit_that_passes_at_once_still_takes_one_step_and_counts_only_the_loop():
    # As in `stylecam train`: the limit is the training loop's, and the run always has a step to export.
    teacher = TransformerNet(4, 1, 5)
    photos = [torch.randint(0, 256, (3, 40, 48), dtype=torch.uint8) for _ in range(2)]
    config = distill.DistillConfig(width=4, blocks=1, edge_kernel=5, steps=50, crop_size=32, batch_size=1, max_minutes=1e-9)
    result = distill.distill(teacher, 0.5, photos, config, torch.device("cpu"), sides=(32,), progress=False)
    assert result.steps == 1 and result.pairs >= 1


def test_max_minutes_and_the_scales_mean_the_same_in_train_and_distill():
    import argparse

    from stylecam.commands import import_style
    from stylecam_train import cli as train_cli

    def flag_help(add_arguments, flag):
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        action = next(action for action in parser._actions if flag in action.option_strings)
        return action.help, action.type

    train_help, train_type = flag_help(train_cli.add_arguments, "--max-minutes")
    distill_help, distill_type = flag_help(distill.add_arguments, "--max-minutes")
    assert train_help == distill_help and "training loop" in train_help and "exports" in train_help
    for text in ("0", "-1", "nan", "1e7"):
        for kind in (train_type, distill_type):
            with pytest.raises(argparse.ArgumentTypeError):
                kind(text)
    assert train_type("0.5") == distill_type("0.5") == 0.5
    # --default-scale (train, import) and distill's --scale (its file's default scale): above 0, at most 4.
    scales = [flag_help(train_cli.add_arguments, "--default-scale")[1], flag_help(distill.add_arguments, "--scale")[1]]
    scales.append(flag_help(import_style.add_arguments, "--default-scale")[1])
    for kind in scales:
        assert kind("4") == 4.0 and kind("0.01") == 0.01
        for text in ("0", "4.01", "nan"):
            with pytest.raises(argparse.ArgumentTypeError):
                kind(text)


# -- the webcam picks NAME_fast on a CPU ----------------------------------------------------------
INSTALLED = ["alpha", "alpha_fast", "beta", "gamma_fast"]


def test_the_fast_variant_is_chosen_only_when_asked_for_and_installed():
    assert fast_variant("alpha", INSTALLED) == "alpha_fast"
    assert fast_variant("beta", INSTALLED) is None
    assert live_style("alpha", use_fast=True, installed=INSTALLED) == "alpha_fast"
    assert live_style("alpha", use_fast=False, installed=INSTALLED) == "alpha"
    assert live_style("beta", use_fast=True, installed=INSTALLED) == "beta"


def test_a_blend_runs_as_the_blend_of_fast_variants_when_each_style_has_one():
    installed = [*INSTALLED, "gamma"]
    assert live_style("alpha:0.6,gamma:0.4", use_fast=True, installed=installed) == "alpha_fast:0.6,gamma_fast:0.4"
    assert live_style("alpha:0.6,beta:0.4", use_fast=True, installed=installed) == "alpha:0.6,beta:0.4"  # beta has none
    assert live_style("alpha:0.6,gamma:0.4", use_fast=False, installed=installed) == "alpha:0.6,gamma:0.4"


def test_the_style_keys_step_through_fast_variants_on_the_cpu_and_full_styles_elsewhere():
    # gamma_fast has no full style installed: it is listed either way.
    assert live_cycle("alpha_fast", use_fast=True, installed=INSTALLED) == (["alpha_fast", "beta", "gamma_fast"], 0)
    assert live_cycle("beta", use_fast=False, installed=INSTALLED) == (["alpha", "beta", "gamma_fast"], 1)
    # A fast variant asked for by name where full styles run is kept, beside its full style.
    assert live_cycle("alpha_fast", use_fast=False, installed=INSTALLED) == (["alpha", "alpha_fast", "beta", "gamma_fast"], 1)


def test_a_style_file_given_by_path_comes_first(tmp_path):
    path = make_style(tmp_path / "mine.safetensors", name="mine")
    refs, index = live_cycle(str(path), use_fast=True, installed=INSTALLED)
    assert refs == [str(path.resolve()), "alpha_fast", "beta", "gamma_fast"] and index == 0


class ClosedCamera:
    """A camera that cannot be opened: the webcam command stops right after choosing its style."""

    def isOpened(self):
        return False

    def release(self):
        pass


@pytest.mark.parametrize("extra, expected", [([], "alpha_fast"), (["--full"], None)])
def test_webcam_on_the_cpu_runs_the_fast_variant_unless_full(tmp_path, monkeypatch, capsys, extra, expected):
    make_style(tmp_path / "alpha.safetensors", name="alpha")
    make_style(tmp_path / "alpha_fast.safetensors", name="alpha_fast", blocks=2, default_scale=0.5, default_detail=0.5)
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(webcam, "display_problem", lambda: None)
    picked = {}
    real_load = webcam_command.load_stylizer

    def load_and_note(args, default_scale=None):
        style, stylizer = real_load(args, default_scale)
        picked.update(style=style.name, scale=stylizer.scale, detail=stylizer.detail)
        return style, stylizer

    monkeypatch.setattr(webcam_command, "load_stylizer", load_and_note)
    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda source: ClosedCamera())
    code = cli.main(["webcam", "--style", "alpha", "--device", "cpu", "--source", "7", "--save-dir", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert code == 2  # the camera that is not there; the style was chosen before
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("stylecam: error:"), err  # the note comes once the camera is open
    if expected:
        assert picked == {"style": "alpha_fast", "scale": 0.5, "detail": 0.5}  # at its own processing scale and detail
    else:
        assert picked["style"] == "alpha" and picked["detail"] == 0 and "fast variant" not in err
