"""The live path without a camera or a screen: fake captures, scripted keys, no window."""

import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from conftest import make_style, probe
from stylecam import capture, cli, webcam
from stylecam.capture import LiveSource, SourceError
from stylecam.devices import Precision
from stylecam.frames import Stylizer
from stylecam.model import TransformerNet
from stylecam.webcam import WebcamApp


class FakeCamera:
    """Stands in for cv2.VideoCapture: numbered frames, then (optionally) unplugged."""

    def __init__(self, frames_before_unplug=None, delay=0.002, opened=True):
        self.count = 0
        self.frames_before_unplug = frames_before_unplug
        self.delay = delay
        self.opened = opened

    def __call__(self, source):
        return self

    def isOpened(self):
        return self.opened

    def set(self, prop, value):
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: 30.0, cv2.CAP_PROP_FRAME_WIDTH: 64, cv2.CAP_PROP_FRAME_HEIGHT: 48}.get(prop, 0)

    def read(self):
        time.sleep(self.delay)
        if self.frames_before_unplug is not None and self.count >= self.frames_before_unplug:
            return False, None
        self.count += 1
        frame = np.full((48, 64, 3), self.count % 256, np.uint8)
        return True, frame

    def release(self):
        pass


@pytest.fixture
def fast_stall(monkeypatch):
    monkeypatch.setattr(LiveSource, "STALL_SECONDS", 0.3)


def test_live_source_keeps_only_the_newest_frame(monkeypatch):
    camera = FakeCamera()
    monkeypatch.setattr(capture.cv2, "VideoCapture", camera)
    with LiveSource(0) as source:
        first = source.read()
        time.sleep(0.2)  # a slow consumer: the camera delivers many frames meanwhile
        newest = source.read()
        produced = camera.count
    assert first is not None and newest is not None
    assert int(newest[0, 0, 0]) >= int(first[0, 0, 0]) + 10  # old frames were dropped, not queued
    assert produced - int(newest[0, 0, 0]) <= 3  # and what we got is (nearly) the latest


def test_unplugged_camera_ends_the_stream_with_a_reason(monkeypatch, fast_stall):
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera(frames_before_unplug=3))
    with LiveSource(0) as source:
        frames = []
        while (frame := source.read(timeout=2)) is not None:
            frames.append(frame)
    assert 1 <= len(frames) <= 3
    assert source.ended_reason == "the camera stopped delivering frames"


def test_camera_that_cannot_be_opened(monkeypatch):
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera(opened=False))
    with pytest.raises(SourceError, match="camera 3 cannot be opened"):
        LiveSource(3)


def _app(tmp_path, monkeypatch, camera, styles=2):
    for index in range(styles):
        make_style(tmp_path / f"s{index}.safetensors", name=f"s{index}", seed=index)
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    monkeypatch.setattr(capture.cv2, "VideoCapture", camera)
    stylizer = Stylizer(TransformerNet(8), torch.device("cpu"), Precision(torch.float32))
    source = LiveSource(0)
    app = WebcamApp(source, stylizer, [f"s{index}" for index in range(styles)], 0, tmp_path)
    app._select(0)
    return app, source


def test_keys_change_style_scale_and_layout(tmp_path, monkeypatch):
    app, source = _app(tmp_path, monkeypatch, FakeCamera(), styles=3)
    with source:
        frame = source.read()
        first = app.step(frame)
        app.handle_key(ord("n"), first)
        assert app.state.style_index == 1
        assert not np.array_equal(app.step(frame), first)  # another style, another picture
        app.handle_key(65361, first)  # Left arrow (GTK code)
        assert app.state.style_index == 0
        app.handle_key(ord("3"), first)
        assert app.state.style_index == 2
        app.handle_key(ord("9"), first)  # no ninth style: nothing happens
        assert app.state.style_index == 2
        app.handle_key(ord("c"), first)
        assert app.step(frame).shape == (48, 128, 3)  # original | stylized
        scale = app.stylizer.scale
        app.handle_key(ord("+"), first)  # bigger strokes: the network sees a smaller frame
        assert app.stylizer.scale < scale and "bigger strokes" in app.state.message
        app.handle_key(ord("-"), first)
        app.handle_key(ord("-"), first)  # finer strokes: a larger frame
        assert app.stylizer.scale > scale and "finer strokes" in app.state.message
        app.handle_key(ord("h"), first)
        assert app.state.show_help
        assert app.handle_key(ord("q"), first) is False
        assert app.handle_key(27, first) is False  # Esc


def test_screenshot_is_a_png_of_what_is_shown(tmp_path, monkeypatch):
    app, source = _app(tmp_path, monkeypatch, FakeCamera())
    with source:
        shown = app.step(source.read())
        app.handle_key(ord("s"), shown)
    saved = list(tmp_path.glob("stylecam-*.png"))
    assert len(saved) == 1 and np.array_equal(cv2.imread(str(saved[0])), shown)


def test_camera_vanishing_mid_recording_leaves_a_playable_file(tmp_path, monkeypatch, fast_stall):
    """The whole loop with the window calls stubbed: press r, then the camera is unplugged."""
    app, source = _app(tmp_path, monkeypatch, FakeCamera(frames_before_unplug=15, delay=0.01))
    keys = iter([ord("r")])
    monkeypatch.setattr(webcam.cv2, "namedWindow", lambda *a: None)
    monkeypatch.setattr(webcam.cv2, "resizeWindow", lambda *a: None)
    monkeypatch.setattr(webcam.cv2, "imshow", lambda *a: None)
    monkeypatch.setattr(webcam.cv2, "destroyAllWindows", lambda: None)
    monkeypatch.setattr(webcam.cv2, "getWindowProperty", lambda *a: 1.0)
    monkeypatch.setattr(webcam.cv2, "waitKeyEx", lambda delay: next(keys, -1))
    with source, pytest.raises(SourceError, match="camera stopped delivering frames; saved: .*mp4"):
        app.run()
    monkeypatch.undo()  # the real cv2.VideoCapture again, to play the recording back
    recordings = list(tmp_path.glob("stylecam-*.mp4"))
    assert len(recordings) == 1 and not list(tmp_path.glob(".*partial*"))
    assert probe(recordings[0])["frames"] >= 1
    assert probe(recordings[0])["size"] == (64, 48)


def test_webcam_without_display_is_a_clear_error(tmp_path, monkeypatch, capsys, style_file):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(webcam.sys, "platform", "linux")
    code = cli.main(["webcam", "--style", str(style_file)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no display" in err[0]


@pytest.mark.parametrize("display", [":55", "nonsense", "127.0.0.1:59"])
def test_webcam_on_an_unreachable_display_is_one_line_not_a_qt_abort(monkeypatch, capsys, style_file, display):
    monkeypatch.setattr(webcam.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setattr(webcam.socket, "create_connection", _refused)  # no X server listens anywhere in this test
    code = cli.main(["webcam", "--style", str(style_file)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"DISPLAY={display}" in err[0], err


def _refused(*args, **kwargs):
    raise ConnectionRefusedError(111, "Connection refused")


def test_webcam_with_missing_camera_is_a_clear_error(tmp_path, monkeypatch, capsys, style_file):
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(webcam, "display_problem", lambda: None)
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera(opened=False))
    code = cli.main(["webcam", "--source", "7", "--style", str(style_file), "--save-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "camera 7 cannot be opened" in err[0]


def test_webcam_help_lists_every_key(capsys):
    with pytest.raises(SystemExit):
        cli.main(["webcam", "--help"])
    out = capsys.readouterr().out
    for keys, action in webcam.KEY_HELP:
        assert keys in out and action in out


def test_overlay_text_sits_on_a_dark_panel_without_a_ghost_outline():
    from stylecam.webcam import LiveState, draw_overlay

    white = np.full((120, 400, 3), 255, np.uint8)
    shown = draw_overlay(
        white, LiveState(style_names=["wave"], style_index=0, stylizer=SimpleNamespace(scale=1.0, strength=1.0, keep_colors=False))
    )
    panel = shown[:30, :150]
    assert panel.min() < 140 and panel.max() == 255  # the picture is darkened behind the text, the text is white
    assert (shown[100:, 300:] == 255).all()  # the rest of the frame is untouched
    assert (white == 255).all()  # the frame itself is not drawn on


def test_the_window_fits_the_screen_with_the_picture_s_aspect():
    from stylecam.webcam import fit_window

    assert fit_window(640, 480, (1920, 1080)) == (640, 480)  # small enough: its own size
    width, height = fit_window(3840, 1080, (1920, 1080))  # 1080p side by side
    assert width <= 0.9 * 1920 and height <= 0.9 * 1080 and abs(width / height - 3840 / 1080) < 0.01
    assert fit_window(3840, 1080, None) == (3840, 1080)  # no screen size known: no cap
