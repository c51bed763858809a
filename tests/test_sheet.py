"""`stylecam sheet`: rows of inputs, a column per style, at the asked sizes; bad input is one line."""

import cv2
import numpy as np
import pytest

from conftest import listing, make_style, write_video
from stylecam.sheet import LABEL_HEIGHT
from test_cli import assert_one_line_error, run_cli


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
    code, _, err = run_cli(*argv, capsys=capsys)
    assert code == 0, err
    sheet = cv2.imread("sheet.png")
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
