"""Inputs a hostile user or an odd file system gives: names that are not UTF-8, FIFOs, devices.

Each case runs in its own process: a crash (OpenCV segfaults on a non-UTF-8 name) or a hang
(a FIFO never ends) must show up as a failed test, not take pytest down with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import write_video

LATIN1 = os.fsdecode(b"caf\xe9")  # "café" in Latin-1: not UTF-8, kept by Python as a surrogate


def stylecam(*argv, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stylecam", *map(os.fspath, argv)], capture_output=True, cwd=cwd, timeout=timeout)


def one_line(result: subprocess.CompletedProcess, *words: str) -> None:
    lines = result.stderr.decode("utf-8", "backslashreplace").strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, lines
    assert lines[0].startswith("stylecam: error:") and all(word in lines[0] for word in words), lines[0]


@pytest.fixture
def latin1_clip(tmp_path) -> Path:
    clip = write_video(tmp_path / "clip.mp4", frames=4, width=48, height=32, audio=None)
    named = tmp_path / f"{LATIN1}.mp4"
    os.rename(clip, named)
    return named


def test_video_flicker_and_sheet_read_a_file_whose_name_is_not_utf8(tmp_path, latin1_clip, style_file):
    out = tmp_path / f"{LATIN1}-out.mp4"
    result = stylecam("video", latin1_clip, "-o", out, "--style", style_file, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.is_file() and out.stat().st_size > 0
    result = stylecam("flicker", latin1_clip, out, "--json", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    result = stylecam("sheet", latin1_clip, "-o", tmp_path / "sheet.png", "--styles", style_file, "--height", "32", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "sheet.png").is_file()


def test_image_reads_and_writes_names_that_are_not_utf8(tmp_path, style_file):
    import cv2
    import numpy as np

    assert cv2.imwrite(str(tmp_path / "photo.png"), np.full((40, 48, 3), 120, np.uint8))
    os.rename(tmp_path / "photo.png", tmp_path / f"{LATIN1}.png")
    out = tmp_path / f"{LATIN1}-out.png"
    result = stylecam("image", tmp_path / f"{LATIN1}.png", "-o", out, "--style", style_file, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.is_file() and out.stat().st_size > 0


def test_webcam_source_whose_name_is_not_utf8_is_one_line_not_a_crash(tmp_path, latin1_clip, style_file):
    result = stylecam("webcam", "--source", latin1_clip, "--style", style_file, "--no-window", "--record", cwd=tmp_path)
    one_line(result, "not UTF-8")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX thing")
@pytest.mark.parametrize(
    "argv",
    [
        ["video", "{fifo}", "-o", "out.mp4"],
        ["flicker", "{fifo}", "{fifo}"],
        ["sheet", "{fifo}", "-o", "sheet.png"],
        ["bench", "{fifo}", "--parts", "model"],
        ["webcam", "--source", "{fifo}", "--no-window", "--record"],
        ["image", "{fifo}", "-o", "out.png"],
        [
            "train",
            "--style-image",
            "{fifo}",
            "--data",
            "{photos}",
            "--name",
            "f",
            "--vgg-weights",
            "random",
            "--out",
            "o",
            "--title",
            "T",
            "--artist",
            "A",
            "--licence",
            "CC0",
        ],
        ["paint", "{fifo}", "{photo}", "-o", "p.png", "--vgg-weights", "random"],
        ["paint", "{photo}", "{fifo}", "-o", "p.png", "--vgg-weights", "random"],
    ],
    ids=["video", "flicker", "sheet", "bench", "webcam", "image", "train-painting", "paint-photo", "paint-painting"],
)
def test_a_fifo_as_input_is_refused_at_once(tmp_path, style_file, argv):
    fifo = tmp_path / "input.mp4"
    os.mkfifo(fifo)
    others = tmp_path / "others"  # a real photo and photo folder, for the recipe's commands
    (others / "photos").mkdir(parents=True)
    for path in (others / "photo.png", others / "photos" / "a.png"):
        cv2.imwrite(str(path), np.zeros((32, 32, 3), np.uint8))
    given = {"{fifo}": str(fifo), "{photo}": str(others / "photo.png"), "{photos}": str(others / "photos")}
    words = [given.get(word, word) for word in argv]
    style = [] if argv[0] in ("flicker", "train", "paint") else ["--style", style_file]  # these run no installed style
    result = stylecam(*words, *style, cwd=tmp_path, timeout=120)  # a hang fails as a timeout
    one_line(result, "not a regular file")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["input.mp4", "others"]  # nothing written
