"""Every option value that used to end in a traceback or an endless run is one line before any work (issue 20, case 9)."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from stylecam_train.vgg import RANDOM
from test_cli import assert_one_line_error, run_cli


def _refused(capsys, *argv) -> tuple[int, str]:
    """The exit code and stderr of a command line, whether argparse (SystemExit) or the command refused it."""
    try:
        code, _, err = run_cli(*argv, capsys=capsys)
    except SystemExit as exit_info:
        code, err = exit_info.code, capsys.readouterr().err
    return code, err


@pytest.fixture
def training_inputs(workdir):
    photos = workdir / "photos"
    photos.mkdir()
    for index in range(2):
        assert cv2.imwrite(str(photos / f"p{index}.png"), np.random.default_rng(index).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert cv2.imwrite("painting.png", np.random.default_rng(9).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    return ["train", "--style-image", "painting.png", "--data", photos, "--name", "mine", "--title", "t", "--artist", "a",
            "--licence", "CC0", "--credit", "me", "--out", "out", "--vgg-weights", RANDOM, "--max-steps", "2",
            "--crop-size", "32", "--batch-size", "1"]  # fmt: skip


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--precision", "bogus", "invalid choice"),
        ("--accelerator", "bogus", "invalid choice"),
        ("--strategy", "bogus", "is not a strategy Lightning offers here"),
        ("--devices", "99", "this machine has"),
        ("--devices", "0", "this machine has"),
        ("--devices", "two", "--devices must be"),
        ("--devices", "0,1", "ids name CUDA GPUs"),
    ],
)
def test_train_hardware_options_are_checked_in_stylecam_s_words(training_inputs, capsys, option, value, fragment):
    code, err = _refused(capsys, *training_inputs, option, value)
    assert_one_line_error(code, err, fragment)
    assert not os.path.exists("out") and not os.path.exists("runs")  # nothing started


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the message where no CUDA GPU is present")
def test_train_on_cuda_without_a_gpu_is_one_line(training_inputs, capsys):
    code, _, err = run_cli(*training_inputs, "--accelerator", "cuda", capsys=capsys)
    assert_one_line_error(code, err, "no CUDA GPU is available here")


def test_bench_refuses_a_frame_size_no_screen_has(capsys):
    code, err = _refused(capsys, "bench", "--size", "100000x100000")
    assert_one_line_error(code, err, "from 16 to 8192")


@pytest.mark.parametrize(("option", "value"), [("--height", "100000"), ("--tile-height", "100000")])
def test_sheet_sizes_are_bounded(workdir, style_file, capsys, option, value):
    assert cv2.imwrite("p.png", np.zeros((20, 30, 3), np.uint8))
    code, err = _refused(capsys, "sheet", "p.png", "-o", "s.png", "--styles", style_file, option, value)
    assert_one_line_error(code, err, option)
    assert not os.path.exists("s.png")


def test_a_sheet_too_large_for_memory_is_refused_before_any_work(workdir, style_file, capsys):
    assert cv2.imwrite("wide.png", np.zeros((16, 8000, 3), np.uint8))  # a panorama: tiles 500 times wider than high
    argv = ["sheet", "wide.png", "-o", "s.png", "--styles", f"{style_file},{style_file}", "--tile-height", "2160", "--height", "16"]
    code, _, err = run_cli(*argv, capsys=capsys)
    assert_one_line_error(code, err, "megapixels", "--tile-height")
    assert not os.path.exists("s.png")


@pytest.mark.parametrize("content", ["tensors", "code"])
def test_a_foreign_pickle_as_vgg_weights_is_one_line_without_torch_s_advice(training_inputs, capsys, content):
    import torch

    class Evil:
        def __reduce__(self):
            return (print, ("this ran",))

    torch.save({"weight": torch.zeros(2)} if content == "tensors" else {"weight": Evil()}, "foreign.pth")
    argv = [*training_inputs[: training_inputs.index("--vgg-weights") + 1], "foreign.pth"]
    code, err = _refused(capsys, *argv)
    assert_one_line_error(code, err, "foreign.pth")
    assert "weights_only" not in err and "this ran" not in err
