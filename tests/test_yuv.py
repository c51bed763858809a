"""Decoding 4:2:0 frames to BGR (stylecam.yuv): colour interpolated, not repeated in 2x2 blocks; the frame's own matrix and range."""

from __future__ import annotations

import av
import numpy as np
import pytest

from conftest import write_video
from stylecam.capture import VideoFile
from stylecam.yuv import bgr_pixels

WIDTH, HEIGHT = 16, 12


def planar_frame(luma: int, u: np.ndarray, v: np.ndarray, pixel_format: str = "yuv420p") -> av.VideoFrame:
    """A 4:2:0 frame of flat luma and the given half-size chroma planes."""
    height, width = u.shape[0] * 2, u.shape[1] * 2
    planes = np.concatenate([np.full((height, width), luma, np.uint8), u.reshape(-1, width), v.reshape(-1, width)])
    return av.VideoFrame.from_ndarray(planes, format=pixel_format)


def flat(value: int) -> np.ndarray:
    return np.full((HEIGHT // 2, WIDTH // 2), value, np.uint8)


def bt601_limited(y: float, cb: float, cr: float) -> np.ndarray:
    """The textbook BT.601 limited-range conversion, as (B, G, R)."""
    luma = (y - 16) * 255 / 219
    cb, cr = (cb - 128) * 255 / 224, (cr - 128) * 255 / 224
    red = luma + 1.402 * cr
    blue = luma + 1.772 * cb
    green = (luma - 0.299 * red - 0.114 * blue) / 0.587
    return np.array([blue, green, red])


def test_a_colour_edge_is_interpolated_where_ffmpeg_repeats_each_sample():
    u = flat(128)
    v = flat(128)
    v[:, : WIDTH // 4] = 60  # red-difference low on the left half, high on the right
    v[:, WIDTH // 4 :] = 200
    frame = planar_frame(120, u, v)
    repeated = frame.to_ndarray(format="bgr24")[0, :, 2].astype(int)
    interpolated = bgr_pixels(frame)[0, :, 2].astype(int)
    assert len(set(repeated.tolist())) == 2  # FFmpeg: two reds and a hard step at the 2x2 blocks
    edge = WIDTH // 2
    low, high = interpolated[0], interpolated[-1]
    assert abs(low - repeated[0]) <= 3 and abs(high - repeated[-1]) <= 3
    # bilinear, chroma at the centre of its block: a quarter and three quarters of the way across
    assert low < interpolated[edge - 1] < interpolated[edge] < high
    assert interpolated[edge - 1] == pytest.approx(low + (high - low) / 4, abs=2)
    assert interpolated[edge] == pytest.approx(low + 3 * (high - low) / 4, abs=2)


def test_a_smooth_colour_ramp_has_no_two_by_two_steps():
    ramp = np.linspace(40, 220, WIDTH // 2).round().astype(np.uint8)
    v = np.tile(ramp, (HEIGHT // 2, 1))
    frame = planar_frame(120, flat(128), v)
    red = bgr_pixels(frame)[0, 1:-1, 2].astype(int)  # the ends repeat their sample: nothing beyond it to blend with
    assert np.all(np.diff(red) > 0)
    assert np.any(np.diff(frame.to_ndarray(format="bgr24")[0, 1:-1, 2].astype(int)) == 0)


@pytest.mark.parametrize(
    ("colorspace", "color_range", "pixel_format", "expected"),
    [
        (2, 0, "yuv420p", bt601_limited(100, 90, 170)),  # unspecified: BT.601, as FFmpeg assumes
        (1, 1, "yuv420p", None),  # BT.709, limited
        (2, 2, "yuv420p", None),  # full range
        (2, 0, "yuvj420p", None),  # the JPEG format is full range whatever the tag
    ],
)
def test_the_frames_own_matrix_and_range_give_the_colours_ffmpeg_gives(colorspace, color_range, pixel_format, expected):
    frame = planar_frame(100, flat(90), flat(170), pixel_format)
    frame.colorspace, frame.color_range = colorspace, color_range
    pixel = bgr_pixels(frame)[3, 5].astype(float)
    ffmpeg = frame.to_ndarray(format="bgr24")[3, 5].astype(float)
    assert np.all(np.abs(pixel - ffmpeg) <= 3)  # FFmpeg's fixed point is a few levels off; the colour is the same
    if expected is not None:
        assert np.all(np.abs(pixel - expected) <= 0.5 + 1e-6)


def test_the_matrices_differ_so_the_tag_is_read():
    frame = planar_frame(100, flat(90), flat(170))
    bt601 = bgr_pixels(frame).astype(int)
    frame.colorspace = 1
    assert np.abs(bgr_pixels(frame).astype(int) - bt601).max() >= 5


@pytest.mark.parametrize("pixel_format", ["yuv444p", "rgb24"])
def test_other_pixel_formats_are_ffmpegs_conversion(pixel_format):
    rng = np.random.default_rng(0)
    frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8), format="rgb24").reformat(
        format=pixel_format
    )
    np.testing.assert_array_equal(bgr_pixels(frame), frame.to_ndarray(format="bgr24"))


def test_video_files_are_read_with_interpolated_colour(tmp_path):
    path = write_video(tmp_path / "clip.mp4", frames=2, width=64, height=48, audio=None)
    with av.open(str(path)) as container:
        decoded = next(container.decode(video=0))
        assert decoded.format.name == "yuv420p"
        expected = bgr_pixels(decoded)
    with VideoFile(path) as video:
        first = next(iter(video.frames()))[0]
    np.testing.assert_array_equal(first, expected)
    assert first.shape == (48, 64, 3)
