"""A phone's portrait clip (stored sideways, with a display rotation) comes out upright (issue 20, case 6)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from stylecam.capture import VideoFile
from test_cli import run_cli


def _upright_picture() -> np.ndarray:
    """48 wide, 64 tall (portrait), BGR: the top half red, the bottom half blue; a green mark at the top left."""
    picture = np.zeros((64, 48, 3), np.uint8)
    picture[:32, :, 2] = 255
    picture[32:, :, 0] = 255
    picture[:8, :8] = (0, 255, 0)
    return picture


def _rotated_clip(path, rotation: int, frames: int = 4):
    """Stored turned by -rotation, with a display rotation of ``rotation`` (counter-clockwise): shown upright."""
    stored = np.ascontiguousarray(np.rot90(_upright_picture(), -rotation // 90))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = stored.shape[1], stored.shape[0], "yuv420p"
        stream.set_display_rotation(rotation)
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(stored, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _assert_upright(frame: np.ndarray):
    assert frame.shape[:2] == (64, 48), frame.shape
    top, bottom = frame[8:28].reshape(-1, 3).mean(0), frame[36:].reshape(-1, 3).mean(0)
    assert top[2] > 180 and top[0] < 80 and bottom[0] > 180 and bottom[2] < 80
    assert frame[1:6, 1:6, 1].mean() > 180  # the mark at the top left: not mirrored


@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_frames_are_read_upright_and_the_size_is_the_shown_one(tmp_path, rotation):
    with VideoFile(_rotated_clip(tmp_path / "phone.mp4", rotation)) as video:
        assert (video.info.width, video.info.height) == (48, 64)
        frames = [frame for frame, _ in video.frames()]
    assert len(frames) == 4
    for frame in frames:
        _assert_upright(frame)


def test_a_portrait_phone_clip_converts_upright_with_no_rotation_left(workdir, style_file, capsys):
    _rotated_clip(workdir / "phone.mp4", -90)  # as phones store portrait video
    code, _, err = run_cli("video", "phone.mp4", "-o", "out.mp4", "--style", style_file, "--strength", "0", "--quiet", capsys=capsys)
    assert code == 0, err
    with av.open(str(workdir / "out.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (48, 64)
        frames = list(container.decode(stream))
    assert len(frames) == 4 and all(not frame.rotation for frame in frames)
    _assert_upright(frames[0].to_ndarray(format="bgr24"))
