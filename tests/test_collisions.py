"""Outputs never replace each other, and a full or read-only disk is one line with nothing left behind.

A second run writing the same output while the first is still at work is refused at once
(its claim, stylecam.files.output_claim); files a run makes along the way take new names.
The second run is started from inside the first one's work (a patched step), so the race is
the same at every machine speed. The disks are real: a tmpfs of a few kB mounted for the test
(skipped where mounting is not allowed).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_import import save_example

import stylecam.loops
import stylecam.sheet
from conftest import listing, write_video
from stylecam_train import paint as paint_module
from stylecam_train.vgg import RANDOM
from test_cli import assert_one_line_error, run_cli


def _photo(path: Path, seed: int = 0, size=(30, 40)) -> Path:
    assert cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8))
    return path


class _SecondRun:
    """Runs a second stylecam process once, from inside the first run's work, and keeps what it said."""

    def __init__(self, argv):
        self.argv = [str(a) for a in argv]
        self.code = None
        self.err = ""

    def __call__(self):
        if self.code is None:
            done = subprocess.run([sys.executable, "-m", "stylecam", *self.argv], capture_output=True, text=True, cwd=os.getcwd())
            self.code, self.err = done.returncode, done.stderr


def _assert_second_refused(second: _SecondRun, output: Path):
    assert second.code == 2, second.err
    assert f"{output} is being written by another stylecam run" in second.err and "Traceback" not in second.err


# -- case 3: outputs that silently replaced each other ------------------------------------------
def test_a_second_sheet_to_the_same_file_is_refused_while_the_first_works(workdir, style_file, monkeypatch, capsys):
    _photo(workdir / "p.png")
    argv = ["sheet", "p.png", "-o", "sheet.png", "--styles", style_file, "--height", "32"]
    second = _SecondRun(argv)
    real = stylecam.sheet.build_sheet

    def build_sheet(*args, **kwargs):
        second()
        return real(*args, **kwargs)

    monkeypatch.setattr(stylecam.sheet, "build_sheet", build_sheet)
    code, _, err = run_cli(*argv, capsys=capsys)
    assert code == 0, err
    _assert_second_refused(second, Path("sheet.png"))
    assert cv2.imread("sheet.png") is not None and listing(workdir) == ["p.png", "sheet.png"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_second_image_run_to_the_same_file_is_refused_even_with_overwrite(workdir, style_file, monkeypatch, capsys, overwrite):
    _photo(workdir / "a.png")
    _photo(workdir / "b.png", seed=1)
    flags = ["--overwrite"] if overwrite else []
    second = _SecondRun(["image", "b.png", "-o", "out.png", "--style", style_file, *flags])
    real = stylecam.loops._stylize_photo

    def stylize_photo(*args, **kwargs):
        second()
        return real(*args, **kwargs)

    monkeypatch.setattr(stylecam.loops, "_stylize_photo", stylize_photo)
    code, _, err = run_cli("image", "a.png", "-o", "out.png", "--style", style_file, capsys=capsys)
    assert code == 0, err
    _assert_second_refused(second, Path("out.png"))
    monkeypatch.setattr(stylecam.loops, "_stylize_photo", real)
    expected = workdir / "expected.png"
    code, _, err = run_cli("image", "a.png", "-o", expected, "--style", style_file, capsys=capsys)
    assert code == 0, err
    assert np.array_equal(cv2.imread("out.png"), cv2.imread(str(expected)))  # the first run's picture, not the second's


def test_a_folder_run_skips_a_photo_another_run_is_writing(workdir, style_file, monkeypatch, capsys):
    photos = workdir / "photos"
    photos.mkdir()
    for index in range(2):
        _photo(photos / f"p{index}.png", seed=index)
    second = _SecondRun(["image", photos / "p1.png", "-o", workdir / "out" / "p1-random.png", "--style", style_file])
    real = stylecam.loops._stylize_photo
    calls = []

    def stylize_photo(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            second()  # writes out/p1-random.png while the folder run works on p0
        return real(*args, **kwargs)

    monkeypatch.setattr(stylecam.loops, "_stylize_photo", stylize_photo)
    code, _, err = run_cli("image", photos, "-o", "out", "--style", style_file, capsys=capsys)
    assert code == 0 and second.code == 0, err + second.err
    assert sorted(os.listdir("out")) == ["p0-random.png", "p1-random.png"]
    assert "skipped" in err and "p1-random.png" in err  # not painted twice, not replaced


def test_a_second_import_to_the_same_name_is_refused(workdir, monkeypatch, capsys):
    source, _ = save_example(workdir / "candy.pth")
    argv = ["import", source, "--out", workdir / "styles"]
    second = _SecondRun(argv)
    import stylecam.importer as importer

    real = importer.convert

    def convert(*args, **kwargs):
        second()
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "convert", convert)
    code, _, err = run_cli(*argv, capsys=capsys)
    assert code == 0, err
    _assert_second_refused(second, workdir / "styles" / "candy.safetensors")
    assert listing(workdir / "styles") == ["candy.safetensors"]


def _paint_argv(*extra):
    return [
        "paint",
        "photo.png",
        "painting.png",
        "-o",
        "out.png",
        "--vgg-weights",
        RANDOM,
        "--steps",
        "4",
        "--size",
        "32",
        "--device",
        "cpu",
        *extra,
    ]


def test_a_second_paint_to_the_same_file_is_refused(workdir, monkeypatch, capsys):
    _photo(workdir / "photo.png")
    _photo(workdir / "painting.png", seed=2, size=(50, 50))
    second = _SecondRun(_paint_argv())
    real = paint_module.optimise

    def optimise(*args, **kwargs):
        second()
        return real(*args, **kwargs)

    monkeypatch.setattr(paint_module, "optimise", optimise)
    code, _, err = run_cli(*_paint_argv(), capsys=capsys)
    assert code == 0, err
    _assert_second_refused(second, Path("out.png"))


def test_paint_save_every_never_replaces_an_existing_file(workdir, capsys):
    _photo(workdir / "photo.png")
    _photo(workdir / "painting.png", seed=2, size=(50, 50))
    mine = _photo(workdir / "out-step2.png", seed=9).read_bytes()
    code, _, err = run_cli(*_paint_argv("--save-every", "2"), capsys=capsys)
    assert_one_line_error(code, err, "out-step2.png", "--overwrite")
    assert (workdir / "out-step2.png").read_bytes() == mine and not (workdir / "out.png").exists()
    code, _, err = run_cli(*_paint_argv("--save-every", "2", "--overwrite"), capsys=capsys)
    assert code == 0 and (workdir / "out-step2.png").read_bytes() != mine  # asked for


def test_two_screenshots_and_two_recordings_in_one_second_are_four_files(tmp_path, monkeypatch):
    from test_webcam import FakeCamera, _app

    from stylecam import webcam

    monkeypatch.setattr(webcam, "_timestamp", lambda: "20261201-120000")  # the same second throughout
    app, source = _app(tmp_path, monkeypatch, FakeCamera())
    with source:
        for _ in range(2):
            shown = app.step(source.read())
            app.handle_key(ord("s"), shown)
            app.start_recording()
            for _ in range(3):
                app.step(source.read())
            app._stop_recording()
    shots, recordings = sorted(tmp_path.glob("stylecam-*.png")), sorted(tmp_path.glob("stylecam-*.mp4"))
    assert [path.name for path in shots] == ["stylecam-20261201-120000-s0-2.png", "stylecam-20261201-120000-s0.png"]
    assert [path.name for path in recordings] == ["stylecam-20261201-120000-2.mp4", "stylecam-20261201-120000.mp4"]
    assert all(path.stat().st_size > 1000 for path in recordings)


# -- case 4: a full or read-only disk ------------------------------------------------------------
@contextlib.contextmanager
def _mounted(folder: Path, options: str):
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs is not allowed here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def full_disk(tmp_path):
    """A real file system with room for 8 kB (two pages)."""
    with _mounted(tmp_path / "full", "size=8k") as folder:
        yield folder


@pytest.fixture
def read_only_disk(tmp_path):
    with _mounted(tmp_path / "ro", "ro,size=64k") as folder:
        yield folder


def test_video_to_a_full_disk_is_one_line_and_leaves_nothing_and_the_rerun_works(workdir, style_file, full_disk, capsys):
    source = write_video(workdir / "in.mp4", frames=8, width=96, height=64)
    code, _, err = run_cli("video", source, "-o", full_disk / "out.mp4", "--style", style_file, "--quiet", capsys=capsys)
    assert_one_line_error(code, err, str(full_disk / "out.mp4"), "the disk is full")
    assert os.listdir(full_disk) == []  # no 0-byte file at the name, no temporary file, no claim
    subprocess.run(["mount", "-o", "remount,size=4m", str(full_disk)], check=True)
    code, _, err = run_cli("video", source, "-o", full_disk / "out.mp4", "--style", style_file, "--quiet", capsys=capsys)
    assert code == 0, err  # not "exists, use --overwrite"


@pytest.mark.parametrize("command", ["image", "sheet"])
def test_a_picture_to_a_full_disk_is_one_line_and_leaves_nothing(workdir, style_file, full_disk, capsys, command):
    _photo(workdir / "p.png", size=(120, 160))
    argv = ["image", "p.png", "--style", style_file] if command == "image" else ["sheet", "p.png", "--styles", style_file]
    code, _, err = run_cli(*argv, "-o", full_disk / "big.png", capsys=capsys)
    assert_one_line_error(code, err, str(full_disk / "big.png"), "the disk is full")
    assert os.listdir(full_disk) == []


def test_import_to_a_read_only_folder_is_one_line(workdir, read_only_disk, capsys):
    source, _ = save_example(workdir / "candy.pth")
    code, _, err = run_cli("import", source, "--out", read_only_disk, capsys=capsys)
    assert_one_line_error(code, err, str(read_only_disk))


def test_train_and_distill_refuse_a_read_only_out_before_any_work(workdir, read_only_disk, capsys, style_file):
    photos = workdir / "photos"
    photos.mkdir()
    for index in range(2):
        _photo(photos / f"p{index}.png", seed=index, size=(64, 64))
    _photo(workdir / "painting.png", seed=5, size=(64, 64))
    train = ["train", "--style-image", "painting.png", "--data", photos, "--name", "mine", "--title", "t", "--artist", "a"]
    code, _, err = run_cli(*train, "--licence", "CC0", "--credit", "me", "--out", read_only_disk, "--vgg-weights", RANDOM, capsys=capsys)
    assert_one_line_error(code, err, str(read_only_disk), "not writable")
    code, _, err = run_cli("distill", style_file, "--data", photos, "--out", read_only_disk, capsys=capsys)
    assert_one_line_error(code, err, str(read_only_disk), "not writable")
    assert not list(workdir.glob("**/*.ckpt"))  # refused before training started


def test_a_claim_left_by_a_killed_run_does_not_block_the_next(workdir, style_file, capsys):
    _photo(workdir / "p.png")
    # A run killed (SIGKILL) before it wrote: its claim names a process that no longer exists.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    (workdir / "out.png").write_bytes(b"stylecam: being written by process " + dead.stdout.strip().encode() + b"\n")
    code, _, err = run_cli("image", "p.png", "-o", "out.png", "--style", style_file, capsys=capsys)
    assert code == 0, err
    assert cv2.imread("out.png") is not None


def test_train_on_a_disk_that_fills_up_keeps_the_checkpoint_and_says_how_to_export_it(workdir, full_disk, capsys):
    photos = workdir / "photos"
    photos.mkdir()
    for index in range(2):
        _photo(photos / f"p{index}.png", seed=index, size=(64, 64))
    _photo(workdir / "painting.png", seed=5, size=(64, 64))
    argv = ["train", "--style-image", "painting.png", "--data", photos, "--name", "mine", "--title", "t", "--artist", "a",
            "--licence", "CC0", "--credit", "me", "--out", full_disk, "--vgg-weights", RANDOM, "--max-steps", "2",
            "--crop-size", "32", "--batch-size", "1", "--width", "4", "--style-size", "48", "--full", "--preview-every", "0"]  # fmt: skip
    code, _, err = run_cli(*argv, capsys=capsys)
    errors = [line for line in err.splitlines() if line.startswith("stylecam: error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert f"cannot write {full_disk / 'mine.safetensors'}: the disk is full" in errors[0] and "--export-from" in errors[0]
    assert os.listdir(full_disk) == [] and (workdir / "runs" / "mine" / "checkpoints" / "last.ckpt").is_file()
