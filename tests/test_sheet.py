"""`stylecam sheet`: rows of inputs, a column per style, at the asked sizes; bad input is one line."""

import json
import re
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from test_timing import _write_timed

from conftest import listing, make_style, write_video
from stylecam.sheet import LABEL_HEIGHT, read_inputs
from stylecam.yuv import bgr_pixels
from test_cli import assert_one_line_error, run_cli

# A camera that wrote 8 frames over 29.6 s at a nominal 10 fps; and a phone's clip, 30 fps, a stall, then 15 fps.
SPARSE_MS = [0, 400, 4100, 9000, 15000, 20000, 26500, 29600]
PHONE_MS = [0, 33, 67, 100, 133, 500, 567, 633, 700, 767, 1500, 1567, 1900]


@pytest.fixture
def two_styles(tmp_path):
    (tmp_path / "styles").mkdir()
    return [make_style(tmp_path / "styles" / f"{name}.safetensors", name=name, seed=seed) for seed, name in enumerate(("first", "second"))]


def test_sheet_has_a_row_per_input_and_a_column_per_style(workdir, two_styles, capsys):
    photo = np.random.default_rng(0).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    assert cv2.imwrite("photo.png", photo)
    clip = write_video(workdir / "clip.mp4", frames=12, width=96, height=64, audio=None)
    styles = ",".join(map(str, two_styles))
    argv = ["sheet", "photo.png", clip, "-o", "sheet.png", "--styles", styles, "--height", "60", "--tile-height", "30", "--at", "0.2,1"]
    code, out, err = run_cli(*argv, "--json", capsys=capsys)
    assert code == 0, err
    sheet = cv2.imread("sheet.png")
    assert json.loads(out) == {
        "output": "sheet.png",
        "rows": 3,
        "styles": ["first", "second"],
        "width": sheet.shape[1],
        "height": sheet.shape[0],
    }
    gap = 4
    assert sheet.shape[0] == LABEL_HEIGHT + 3 * (gap + 30)  # title row, then the photo and two frames of the clip
    # Columns as wide as the widest tile: the photo is 4:3 (40 px at 30 rows), the clip 3:2 (45 px).
    assert sheet.shape[1] == 3 * 45 + 2 * gap
    top = LABEL_HEIGHT + gap
    first_style = sheet[top + 20 : top + 30, 45 + gap : 45 + gap + 40].astype(int)
    second_style = sheet[top + 20 : top + 30, 2 * (45 + gap) : 2 * (45 + gap) + 40].astype(int)
    assert np.abs(first_style - second_style).mean() > 5  # each column shows its own style
    assert "3 row(s) x 2 style(s)" in err
    assert sorted(listing(workdir)) == ["clip.mp4", "photo.png", "sheet.png", "styles"]  # no temporary file left


def test_sheet_refuses_bad_inputs_with_one_line(workdir, two_styles, capsys):
    assert cv2.imwrite("photo.png", np.zeros((40, 40, 3), np.uint8))
    style = str(two_styles[0])
    code, _, err = run_cli("sheet", "missing.jpg", "-o", "s.png", "--styles", style, capsys=capsys)
    assert_one_line_error(code, err, "missing.jpg")
    code, _, err = run_cli("sheet", "photo.png", "-o", "s.png", "--styles", "nosuch", capsys=capsys)
    assert_one_line_error(code, err, "unknown style 'nosuch'")
    (workdir / "taken.png").write_bytes(b"keep me")
    code, _, err = run_cli("sheet", "photo.png", "-o", "taken.png", "--styles", style, capsys=capsys)
    assert_one_line_error(code, err, "exists", "--overwrite")
    assert (workdir / "taken.png").read_bytes() == b"keep me"
    (workdir / "notes.txt").write_text("not a picture")
    code, _, err = run_cli("sheet", "notes.txt", "-o", "s.png", "--styles", style, capsys=capsys)
    assert_one_line_error(code, err, "notes.txt")
    assert not (workdir / "s.png").exists()


def _decoded(path):
    """(time in seconds, BGR frame) of every frame, in order, as PyAV decodes them and stylecam converts them."""
    with av.open(str(path)) as container:
        return [(float(frame.pts * frame.time_base), bgr_pixels(frame)) for frame in container.decode(video=0)]


def _time_of(frame, decoded):
    """The time of the decoded frame that ``frame`` is (the closest by far: every frame of the clips differs)."""
    differences = [np.abs(frame.astype(int) - other.astype(int)).mean() for _, other in decoded]
    best = int(np.argmin(differences))
    assert differences[best] < 1, differences
    return decoded[best][0]


@pytest.mark.parametrize(
    ("name", "times_ms", "time_base", "codec", "asked", "expected"),
    [
        # The first frame at or after each time, the last one for a time past the end, and the middle (of 29.7 s) for None.
        ("sparse.avi", SPARSE_MS, Fraction(1, 10), "mjpeg", [20, 10, 0.2, 0, 100, None], [20, 15, 0.4, 0, 29.6, 15]),
        # One key frame at the start (libx264's long GOP): the frames after it are decoded up to the time.
        ("phone.mp4", PHONE_MS, Fraction(1, 90000), "libx264", [0.6, 1, 0.1, 5], [0.633, 1.5, 0.1, 1.9]),
    ],
)
def test_a_video_frame_is_the_one_shown_at_the_time_and_its_label_says_its_own_time(
    workdir, name, times_ms, time_base, codec, asked, expected
):
    clip = _write_timed(workdir / name, times_ms, time_base, codec=codec)
    decoded = _decoded(clip)
    inputs = read_inputs(clip, 48, asked)
    labelled = [float(re.fullmatch(rf"{re.escape(name)} at (\S+) s", item.label).group(1)) for item in inputs]
    shown = [_time_of(item.frame, decoded) for item in inputs]
    assert labelled == pytest.approx(shown, abs=0.0005)  # the label tells the time of the frame shown
    assert shown == pytest.approx(expected, abs=0.0005)


def test_sheet_at_a_time_of_a_sparse_file_shows_the_frame_of_that_time(workdir, two_styles, capsys):
    # Counting frames at the nominal 10 fps, 20 s would be frame 200 of a file that has 8.
    clip = _write_timed(workdir / "sparse.avi", SPARSE_MS, Fraction(1, 10), codec="mjpeg")
    argv = ["sheet", clip, "-o", "sheet.png", "--styles", str(two_styles[0]), "--height", "48", "--tile-height", "48", "--at", "20"]
    code, _, err = run_cli(*argv, capsys=capsys)
    assert code == 0, err
    tile = cv2.imread("sheet.png")[LABEL_HEIGHT + 4 :, :64]
    below_label = slice(32, 48)  # under the label's black box
    decoded = [(seconds, frame[below_label]) for seconds, frame in _decoded(clip)]
    assert _time_of(tile[below_label], decoded) == 20
