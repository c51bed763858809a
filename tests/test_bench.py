"""`stylecam bench` prints one JSON object with each part it was asked for (tiny sizes, few frames: a smoke test, not a timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stylecam import cli
from stylecam.backends import onnxruntime_available
from test_cli import assert_one_line_error, run_cli

BACKENDS = "eager,onnx" if onnxruntime_available() else "eager"


def test_bench_times_the_model_a_file_and_the_webcam_loop(workdir, style_file, video_with_sound, capsys):
    argv = ("bench", video_with_sound, "--frames", "4", "--style", style_file, "--backends", BACKENDS, "--repeats", "1", "--batch", "2")
    code, out, err = run_cli(*argv, capsys=capsys)
    assert code == 0, err
    report = json.loads(out)
    assert "CPU" in report["hardware"] and report["versions"]["torch"]
    assert report["size"] == "161x119" and report["frames"] == 4
    settings = report["settings"]
    assert (
        settings["frames"] == 4 and settings["processing_size"] and settings["backend"] in ("eager", "onnx", "openvino")
    )  # auto: the fastest measured here
    assert [entry["backend"] for entry in report["model"]] == BACKENDS.split(",")
    for entry in report["model"]:
        assert entry["precision"] == "fp32" and entry["ms_per_frame"] > 0 and entry["fps"] > 0 and entry["first_call_ms"] > 0
    assert report["first_frame"]["ms"] > 0
    assert report["file"]["frames"] == 4 and report["file"]["classic_loop_fps"] > 0 and report["file"]["stylecam_fps"] > 0
    webcam = report["webcam"]
    assert webcam["frames_captured"] == 4 and 1 <= webcam["frames_shown"] <= 4
    assert webcam["frames_dropped"] == 4 - webcam["frames_shown"]
    assert webcam["fps"] > 0 and webcam["latency_ms_max"] >= webcam["latency_ms_mean"] > 0
    assert "train" not in report


def test_bench_without_input_makes_its_own_clip_at_the_size_asked(workdir, style_file, capsys):
    argv = ("bench", "--size", "64x48", "--frames", "2", "--style", style_file, "--parts", "model", "--backends", "eager")
    code, out, err = run_cli(*argv, "--precisions", "fp32,bf16", "--repeats", "1", "--scale", "1", capsys=capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["size"] == "64x48" and report["settings"]["input"] is None
    assert [entry["precision"] for entry in report["model"]] == ["fp32", "bf16"]
    assert all(entry["processing_size"] == "64x48" for entry in report["model"])
    assert "file" not in report and "webcam" not in report


def test_bench_reports_a_backend_that_cannot_run_instead_of_failing(workdir, style_file, capsys):
    argv = ("bench", "--size", "64x48", "--frames", "1", "--style", style_file, "--parts", "model", "--backends", "eager,onnx")
    code, out, err = run_cli(*argv, "--precisions", "fp16", "--repeats", "1", capsys=capsys)
    assert code == 0, err
    eager, onnx = json.loads(out)["model"]
    assert eager["ms_per_frame"] > 0 and "fp32" in onnx["error"]


def test_bench_train_times_a_training_step(workdir, capsys):
    code, out, err = run_cli("bench-train", "--device", "cpu", "--size", "32", "--batch", "1", "--steps", "1", capsys=capsys)
    assert code == 0, err
    report = json.loads(out)
    assert "CPU" in report["hardware"] and report["device"] == "cpu" and report["precision"] == "32"
    assert report["size"] == 32 and report["batch"] == 1 and report["steps"] == 1
    assert report["images_per_s"] > 0 and report["ms_per_step"] > 0 and report["first_step_ms"] > 0
    assert report["vgg"].startswith("random")


@pytest.mark.parametrize(("flag", "value"), [("--size", "8"), ("--size", "4096"), ("--batch", "0"), ("--steps", "0"), ("--steps", "nan")])
def test_bench_train_refuses_out_of_range_settings_in_one_line(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench-train", flag, value])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and flag in lines[0] and "must be" in lines[0]


def test_bench_train_names_a_missing_vgg_weights_file(workdir, capsys):
    code, _, err = run_cli(
        "bench-train", "--device", "cpu", "--size", "32", "--batch", "1", "--steps", "1", "--vgg-weights", "missing.pth", capsys=capsys
    )
    assert_one_line_error(code, err, "missing.pth", "does not exist")


@pytest.mark.slow
def test_bench_without_train_does_not_load_the_recipe(workdir, style_file):
    code = (
        "import sys; from stylecam.cli import main;"
        f"main(['bench', '--size', '32x32', '--frames', '1', '--style', {str(style_file)!r}, '--parts', 'model', '--backends', 'eager', '--repeats', '1']);"
        "bad = [m for m in sys.modules if m.startswith('stylecam_train') or m.split('.')[0] in ('pytorch_lightning', 'lightning')];"
        "print(bad, file=sys.stderr); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=300)
    assert result.returncode == 0, result.stderr


def test_bench_refuses_an_unknown_part(workdir, style_file, capsys):
    code, _, err = run_cli("bench", "--parts", "model,gpu", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "--parts", "gpu")
