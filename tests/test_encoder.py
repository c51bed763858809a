"""--crf, --preset and --encoder-threads reach libx264 (read back from the settings x264 writes into its stream)."""

from __future__ import annotations

import numpy as np
import pytest
from test_webcam import FakeCamera, _app

from stylecam.errors import OutputError
from stylecam.sinks import EncoderSettings, VideoWriter
from test_cli import run_cli


def _x264_settings(path) -> str:
    """x264 stores its options as text in the stream ("... cabac=0 ... threads=1 ... crf=30.0 ...")."""
    data = path.read_bytes()
    start = data.index(b"x264 - core")
    return data[start : start + 2000].split(b"\x00")[0].decode("ascii", "replace")


def test_video_passes_the_encoder_options_to_x264(workdir, style_file, video_with_sound, capsys):
    argv = ("video", video_with_sound, "--style", style_file, "--backend", "eager", "--quiet")
    code, _, err = run_cli(*argv, "-o", "fast.mp4", "--crf", "30", "--preset", "ultrafast", "--encoder-threads", "1", capsys=capsys)
    assert code == 0, err
    fast = _x264_settings(workdir / "fast.mp4")
    assert "crf=30.0" in fast and "threads=1 " in fast and "cabac=0" in fast  # ultrafast turns CABAC off
    code, _, err = run_cli(*argv, "-o", "default.mp4", capsys=capsys)
    assert code == 0, err
    default = _x264_settings(workdir / "default.mp4")
    assert "crf=18.0" in default and "cabac=1" in default and "subme=2" in default  # veryfast: CABAC on, subpixel refinement 2


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [("--crf", "52", "--crf"), ("--preset", "turbo", "--preset"), ("--encoder-threads", "-1", "--encoder-threads")],
)
def test_bad_encoder_options_are_one_line(workdir, style_file, video_with_sound, option, value, fragment, capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses them, before any work
        run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, option, value, capsys=capsys)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and lines[0].startswith("stylecam: error: ") and fragment in lines[0]
    assert not (workdir / "out.mp4").exists()


def test_encoder_settings_check_themselves():
    with pytest.raises(OutputError, match="preset"):
        EncoderSettings(preset="turbo")
    with pytest.raises(OutputError, match="crf"):
        EncoderSettings(crf=-1)
    assert EncoderSettings().options() == {"crf": "18", "preset": "veryfast", "threads": "0"}


def test_a_higher_crf_makes_a_smaller_file(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (64, 96, 3), dtype=np.uint8) for _ in range(5)]
    sizes = {}
    for crf in (10, 40):
        path = tmp_path / f"crf{crf}.mp4"
        with VideoWriter(path, fps=10, encoder=EncoderSettings(crf=crf)) as writer:
            for frame in frames:
                writer.write(frame)
        sizes[crf] = path.stat().st_size
    assert sizes[40] < sizes[10] / 2


def test_webcam_recordings_use_the_encoder_options(tmp_path, monkeypatch):
    app, source = _app(tmp_path, monkeypatch, FakeCamera())
    app.encoder = EncoderSettings(crf=40, preset="ultrafast")
    with source:
        app._toggle_recording()
        for _ in range(3):
            app.step(source.read())
        app._toggle_recording()
    (recording,) = tmp_path.glob("stylecam-*.mp4")
    assert "crf=40.0" in _x264_settings(recording)
