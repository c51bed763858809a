"""A video's timing survives conversion: constant, variable and sparse timestamps, sound in sync."""

from fractions import Fraction

import av
import numpy as np
import pytest

from conftest import _frame
from test_cli import run_cli


def _write_timed(path, times_ms, time_base, codec="libx264", audio_seconds=None, container_format=None):
    """A video whose frame i is shown at times_ms[i]; with a 440 Hz tone of audio_seconds if given."""
    with av.open(str(path), "w", format=container_format) as container:
        video = container.add_stream(codec, rate=10)
        video.width, video.height = 64, 48
        video.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        video.codec_context.time_base = time_base
        sound = None
        if audio_seconds:
            sound = container.add_stream("aac", rate=16000)
            sound.layout = "mono"
        for index, ms in enumerate(times_ms):
            picture = av.VideoFrame.from_ndarray(_frame(index, 64, 48), format="bgr24")
            picture.pts = round(Fraction(ms, 1000) / time_base)
            picture.time_base = time_base
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if sound is not None:
            samples = (np.sin(np.arange(int(16000 * audio_seconds)) * 2 * np.pi * 440 / 16000) * 8000).astype(np.int16)
            for start in range(0, len(samples), 1024):
                piece = av.AudioFrame.from_ndarray(samples[None, start : start + 1024], format="s16", layout="mono")
                piece.sample_rate, piece.pts = 16000, start
                container.mux(sound.encode(piece))
            container.mux(sound.encode(None))
    return path


def _timing(path):
    """(frame times in seconds, audio start and end in seconds or None)."""
    with av.open(str(path)) as container:
        times = [float(frame.pts * frame.time_base) for frame in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = None
        if container.streams.audio:
            stream = container.streams.audio[0]
            frames = list(container.decode(stream))
            audio = (float(frames[0].pts * frames[0].time_base), float(frames[-1].pts * frames[-1].time_base) + frames[-1].samples / 16000)
    return times, audio


def test_variable_frame_rate_and_sound_keep_their_timing(workdir, style_file, capsys):
    # A phone's clip: 30 fps, then a stall, then 15 fps; 2 s of sound.
    times_ms = [0, 33, 67, 100, 133, 500, 567, 633, 700, 767, 1500, 1567, 1900]
    source = _write_timed(workdir / "phone.mp4", times_ms, Fraction(1, 90000), audio_seconds=2.0)
    code, _, err = run_cli("video", source, "-o", "out.mp4", "--style", style_file, "--quiet", capsys=capsys)
    assert code == 0, err
    (before, audio_before), (after, audio_after) = _timing(source), _timing(workdir / "out.mp4")
    assert len(after) == len(before) == len(times_ms)
    assert np.allclose(after, before, atol=0.002), (before, after)  # every frame where it was (2.00 s stays at 2.00 s)
    assert audio_after == pytest.approx(audio_before, abs=0.03)  # the sound where it was too


def test_sparse_timestamps_in_an_avi_keep_the_duration(workdir, style_file, capsys):
    # A camera that wrote 8 frames over 29.6 s at a nominal 10 fps.
    times_ms = [0, 400, 4100, 9000, 15000, 20000, 26500, 29600]
    source = _write_timed(workdir / "sparse.avi", times_ms, Fraction(1, 10), codec="mjpeg")
    code, _, err = run_cli("video", source, "-o", "out.mp4", "--style", style_file, "--quiet", capsys=capsys)
    assert code == 0, err
    before, _ = _timing(source)
    after, _ = _timing(workdir / "out.mp4")
    assert len(after) == len(before) == len(times_ms)
    assert after[-1] - after[0] == pytest.approx(29.6, abs=0.1)  # within one frame of the source's 29.6 s
    assert np.allclose(after, before, atol=0.01)


@pytest.mark.parametrize(
    ("pts", "dts", "decode_order_times", "expected"),
    [
        (5, 4, False, 5 / 25),  # MP4, MKV...: the presentation time is the pts
        (5, 4, True, 4 / 25),  # AVI: the pts of a packed B-frame's neighbour is one step off; the dts is in display order
        (7, None, True, 7 / 25),  # the last frames out of the decoder have no dts: their pts
        (None, None, True, None),
    ],
)
def test_a_frames_time_comes_from_its_dts_where_the_file_times_packets_in_decode_order(pts, dts, decode_order_times, expected):
    from types import SimpleNamespace

    from stylecam.capture import _frame_time

    frame = SimpleNamespace(pts=pts, dts=dts, time_base=Fraction(1, 25))
    assert _frame_time(frame, decode_order_times) == expected


def test_avi_frames_are_timed_by_their_dts(workdir):
    from stylecam.capture import VideoFile

    source = _write_timed(workdir / "sparse.avi", [0, 100, 400, 500], Fraction(1, 10), codec="mjpeg")
    with VideoFile(source) as video:
        assert video._decode_order_times
        assert [round(time, 3) for _, time in video.frames()] == [0.0, 0.1, 0.4, 0.5]
