"""One output convention for every command (issue 21): results and --json on stdout; progress, notes and errors on stderr.

Each command runs in-process through ``stylecam.cli.main`` at the tiniest settings that work. With
--json, the whole of stdout is one JSON value (json.loads of all of it); without, stdout holds only
the result the command documents (nothing, for the commands whose result is a file) and the
"wrote ..." notes and progress bars are on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import make_style, write_video
from stylecam import cli
from stylecam.backends import onnxruntime_available
from stylecam_train.vgg import RANDOM


def run(*argv, capsys) -> tuple[int, str, str]:
    capsys.readouterr()  # whatever came before is not this command's
    code = cli.main([str(word) for word in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_json_object(out: str) -> dict:
    """The whole of stdout, parsed: exactly one JSON object and nothing beside it."""
    value = json.loads(out)
    assert isinstance(value, dict), out
    return value


def lines(err: str) -> list[str]:
    """stderr's lines, progress-bar redraws ("\\r") split apart."""
    return [line.strip() for line in err.replace("\r", "\n").splitlines() if line.strip()]


def write_photo(path: Path, height: int = 24, width: int = 32, seed: int = 0) -> Path:
    assert cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))
    return path


@pytest.fixture
def clip(workdir) -> Path:
    return write_video(workdir / "clip.mp4", frames=3, width=32, height=24, audio=None)


# -- the runtime's commands --------------------------------------------------------------------------
def test_styles_table_and_json_are_on_stdout_and_nothing_on_stderr(tmp_path, monkeypatch, capsys):
    make_style(tmp_path / "alpha.safetensors", name="alpha")
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    code, out, err = run("styles", capsys=capsys)
    assert code == 0 and err == ""
    assert any(" alpha " in line for line in out.splitlines())  # the table is the result
    code, out, err = run("styles", "--json", capsys=capsys)
    rows = json.loads(out)  # styles' JSON is a list of rows (its schema since it was added)
    assert code == 0 and err == "" and isinstance(rows, list) and "alpha" in {row["name"] for row in rows}


def test_video_writes_its_note_and_progress_on_stderr(workdir, style_file, clip, capsys):
    code, out, err = run("video", clip, "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert code == 0, err
    assert out == ""
    assert any(line.startswith("wrote out.mp4") for line in lines(err)) and "frame" in err  # the note and the progress bar
    code, out, err = run("video", clip, "-o", "out.mp4", "--style", style_file, "--overwrite", "--quiet", "--json", capsys=capsys)
    assert code == 0, err
    assert one_json_object(out)["frames"] == 3


def test_flicker_prints_its_report_on_stdout_and_its_progress_on_stderr(workdir, clip, capsys):
    code, out, err = run("flicker", clip, clip, capsys=capsys)
    assert code == 0, err
    assert "warping error of" in out  # the report is the result
    assert "warping error" not in err and "flicker" in err  # the progress bar only
    code, out, err = run("flicker", clip, clip, "--json", capsys=capsys)
    assert code == 0 and one_json_object(out)["frames"] == 3


def test_image_leaves_stdout_to_the_result(workdir, style_file, capsys):
    write_photo(workdir / "photo.png")
    code, out, err = run("image", "photo.png", "-o", "painted", "--style", style_file, capsys=capsys)
    assert code == 0, err
    assert out == "" and "wrote 1 image(s)" in err
    code, out, err = run("image", "photo.png", "-o", "painted", "--style", style_file, "--overwrite", "--json", capsys=capsys)
    assert code == 0, err
    assert len(one_json_object(out)["written"]) == 1


def test_sheet_leaves_stdout_to_the_result(workdir, style_file, capsys):
    write_photo(workdir / "photo.png")
    argv = ["sheet", "photo.png", "-o", "sheet.png", "--styles", style_file, "--height", "24"]
    code, out, err = run(*argv, capsys=capsys)
    assert code == 0, err
    assert out == "" and "wrote sheet.png" in err
    code, out, err = run(*argv, "--overwrite", "--json", capsys=capsys)
    assert code == 0, err
    assert one_json_object(out)["output"] == "sheet.png"


def test_demo_leaves_stdout_to_the_result(workdir, style_file, capsys):
    code, out, err = run("demo", "--style", style_file, "-o", "demo.mp4", capsys=capsys)
    assert code == 0, err
    assert out == "" and "wrote" in err and "demo.mp4" in err
    code, out, err = run("demo", "--style", style_file, "-o", "demo.mp4", "--overwrite", "--json", capsys=capsys)
    assert code == 0, err
    assert one_json_object(out)["frames"] > 0


def test_webcam_headless_recording_says_where_on_stderr(workdir, style_file, clip, capsys):
    argv = ["webcam", "--no-window", "--record", "--source", clip, "--style", style_file, "--device", "cpu", "--save-dir", "recordings"]
    code, out, err = run(*argv, capsys=capsys)
    assert code == 0, err
    assert out == ""
    assert any(line.startswith("saved ") for line in lines(err)) and list((workdir / "recordings").iterdir())


def test_import_prints_the_path_alone_or_one_json_object(tmp_path, capsys):
    from test_import import save_example

    source, _ = save_example(tmp_path / "candy.pth")
    out_dir = tmp_path / "styles"
    code, out, err = run("import", source, "--out", out_dir, capsys=capsys)
    assert code == 0, err
    assert out == f"{out_dir / 'candy.safetensors'}\n"  # the path alone, for scripts
    assert "imported" in err
    code, out, err = run("import", source, "--out", out_dir, "--overwrite", "--json", capsys=capsys)
    assert code == 0, err
    summary = one_json_object(out)
    assert summary["path"] == str(out_dir / "candy.safetensors") and summary["name"] == "candy" and summary["source"] == str(source)
    assert "not searched for styles" in summary["note"]  # the folder is not one stylecam looks in: said here too


def test_export_with_json_prints_one_object(workdir, style_file, capsys):
    code, out, err = run("export", style_file, "-o", "s.onnx", "--json", capsys=capsys)
    assert code == 0, err
    assert one_json_object(out)["path"] == "s.onnx"


def test_export_without_json_writes_its_note_on_stderr(workdir, style_file, capsys):
    code, out, err = run("export", style_file, "-o", "s.onnx", capsys=capsys)
    assert code == 0, err
    assert out == "" and "wrote s.onnx" in err


def test_bench_says_what_it_times_on_stderr_as_it_goes_and_prints_one_object(workdir, style_file, capsys):
    backends = "eager,onnx" if onnxruntime_available() else "eager"
    argv = ["bench", "--size", "32x24", "--frames", "2", "--style", style_file, "--backends", backends, "--repeats", "1"]
    code, out, err = run(*argv, "--precisions", "fp32", capsys=capsys)
    assert code == 0, err
    report = one_json_object(out)
    assert {"model", "first_frame", "file", "webcam"} <= report.keys()  # every part, in the one object
    said = [line for line in lines(err) if line.startswith("bench: ")]
    assert said[0].startswith("bench: on ") and "synthetic clip of 2 frames at 32x24" in said[1]
    for backend in backends.split(","):
        before = said.index(next(line for line in said if line.startswith(f"bench: model, {backend}, fp32 precision, at 32x24")))
        assert said[before + 1].startswith(f"bench: model {backend}") and "ms a frame" in said[before + 1]  # its result, next
    for part in ("first frame", "file", "webcam"):
        before = next(index for index, line in enumerate(said) if line.startswith(f"bench: {part}, "))
        assert said[before + 1].startswith(f"bench: {part}: ")
    assert "fps shown" in said[-1]


# -- the recipe's commands ---------------------------------------------------------------------------
def test_bench_train_prints_one_object(workdir, capsys):
    code, out, err = run("bench-train", "--device", "cpu", "--size", "32", "--batch", "1", "--steps", "1", capsys=capsys)
    assert code == 0, err
    assert one_json_object(out)["steps"] == 1


def test_paint_leaves_stdout_to_the_result(workdir, capsys):
    write_photo(workdir / "photo.png", 30, 40)
    write_photo(workdir / "painting.jpg", 50, 50, seed=1)
    argv = ["paint", "photo.png", "painting.jpg", "-o", "out.png", "--vgg-weights", RANDOM, "--steps", "2", "--size", "32"]
    argv += ["--style-size", "48", "--device", "cpu"]
    code, out, err = run(*argv, capsys=capsys)
    assert code == 0, err
    assert out == "" and "wrote out.png" in err and "paint" in err  # the note, the train command and the progress bar
    code, out, err = run(*argv, "--overwrite", "--json", capsys=capsys)
    assert code == 0, err
    assert one_json_object(out)["steps"] == 2
    code, out, err = run(*argv, "--suggest-train", capsys=capsys)
    assert code == 0 and err == "" and out.startswith("stylecam train ") and len(out.splitlines()) == 1  # asked for: the result


def test_distill_leaves_stdout_to_the_result(tmp_path, monkeypatch, capsys):
    from stylecam_train import distill

    monkeypatch.setattr(distill, "TEACHER_SIDES", (48,))  # the teacher's pass and the preview, small
    monkeypatch.setattr(distill, "PREVIEW_ROWS", 48)
    teacher = make_style(tmp_path / "teacher.safetensors", name="teacher")
    (tmp_path / "photos").mkdir()
    write_photo(tmp_path / "photos" / "a.png", 48, 64)
    out_dir = tmp_path / "out"
    argv = ["distill", teacher, "--data", tmp_path / "photos", "--out", out_dir, "--width", "4", "--blocks", "1", "--edge-kernel", "5"]
    argv += ["--steps", "2", "--crop-size", "32", "--batch-size", "1"]
    code, out, err = run(*argv, capsys=capsys)
    assert code == 0, err
    path = out_dir / "teacher_fast.safetensors"
    assert out == "" and f"wrote {path}" in lines(err) and "distill" in err  # the note and the progress bar
    code, out, err = run(*argv, "--overwrite", "--quiet", "--json", capsys=capsys)
    assert code == 0, err
    summary = one_json_object(out)
    assert summary["path"] == str(path) and summary["name"] == "teacher_fast" and summary["teacher"] == "teacher"
    assert summary["steps"] == 2 and summary["seconds"] >= 0 and summary["loss_after"] >= 0
    assert {key: summary["student"][key] for key in ("width", "blocks", "edge_kernel", "scale")} == {
        "width": 4,
        "blocks": 1,
        "edge_kernel": 5,
        "scale": 0.5,
    }
    assert f"wrote {path}" in lines(err)


def test_train_leaves_stdout_to_the_result(tmp_path, capsys):
    from test_train import make_photo_folder

    painting = write_photo(tmp_path / "painting.png", 48, 64, seed=7)
    data = make_photo_folder(tmp_path / "photos")
    weights, workdir = tmp_path / "weights", tmp_path / "run"
    argv = [
        "train", "--style-image", painting, "--data", data, "--name", "tiny", "--out", weights, "--workdir", workdir,
        "--vgg-weights", RANDOM, "--width", "4", "--crop-size", "32", "--style-size", "48", "--batch-size", "2",
        "--log-every", "1", "--steps-per-epoch", "1", "--preview-every", "0", "--accelerator", "cpu", "--full",
        "--title", "T", "--artist", "A", "--licence", "CC0",
    ]  # fmt: skip
    code, out, err = run(*argv, "--max-steps", "1", capsys=capsys)
    assert code == 0, err
    assert out == ""  # Lightning's progress bar, the Throughput lines and the notes: all on stderr
    said = lines(err)
    assert f"wrote {weights / 'tiny.safetensors'}" in said and any(line.startswith("training took") for line in said)
    assert any(line.startswith("Epoch 0") for line in said) and any(line.startswith("step 1:") for line in said)
    last = workdir / "checkpoints" / "last.ckpt"
    # --json: one object at the end, here for a resumed run that takes one more step and exports it.
    code, out, err = run(*argv, "--max-steps", "2", "--resume", last, "--overwrite", "--json", capsys=capsys)
    assert code == 0, err
    summary = one_json_object(out)
    assert summary["path"] == str(weights / "tiny.safetensors") and summary["name"] == "tiny" and summary["steps"] == 2
    assert summary["workdir"] == str(workdir) and summary["checkpoint"] == str(last) and summary["stopped"] is None
    assert summary["seconds"] >= 0
    # --export-from: the same object, for the checkpoint it exported.
    export_argv = ["train", "--export-from", last, "--name", "again", "--out", weights, "--data", data]
    code, out, err = run(*export_argv, "--title", "T", "--artist", "A", "--licence", "CC0", capsys=capsys)
    assert code == 0, err
    assert out == "" and f"wrote {weights / 'again.safetensors'}" in lines(err)
    code, out, err = run(*export_argv, "--title", "T", "--artist", "A", "--licence", "CC0", "--overwrite", "--json", capsys=capsys)
    assert code == 0, err
    summary = one_json_object(out)
    assert summary["path"] == str(weights / "again.safetensors") and summary["steps"] == 2 and summary["checkpoint"] == str(last)
