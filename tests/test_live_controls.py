"""Issue 12's controls: strength and original colours, capture settings, the virtual camera
(through pyvirtualcam's own backend registry, with a fake device), headless runs and recording."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
import pyvirtualcam
import torch

from conftest import make_style, probe, write_video
from stylecam import capture, cli
from stylecam.capture import LiveSource, SourceError
from stylecam.devices import Precision
from stylecam.frames import Stylizer, apply_controls
from stylecam.model import TransformerNet
from stylecam.virtualcam import VirtualCamera, VirtualCameraError
from stylecam.webcam import WebcamApp, draw_overlay


class FakeDevice:
    """A pyvirtualcam backend that keeps what it is sent, as v4l2loopback or OBS would show it."""

    instances: list[FakeDevice] = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self.name = device or "/dev/video-fake"
        self.frames: list[np.ndarray] = []
        self.closed = False
        FakeDevice.instances.append(self)

    def device(self):
        return self.name

    def native_fourcc(self):
        return self.fourcc  # takes the format it is given, no conversion

    def send(self, frame):
        self.frames.append(frame.reshape(self.height, self.width, 3).copy())

    def close(self):
        self.closed = True


class NoDevice:
    def __init__(self, **kw):
        raise RuntimeError("'v4l2loopback' backend: no device found")


@pytest.fixture
def fake_backend():
    FakeDevice.instances.clear()
    pyvirtualcam.register_backend("stylecam-fake", FakeDevice)
    pyvirtualcam.register_backend("stylecam-none", NoDevice)
    yield FakeDevice.instances


def _stylizer(width=8):
    torch.manual_seed(0)
    return Stylizer(TransformerNet(width), torch.device("cpu"), Precision(torch.float32))


# -- strength and colours ----------------------------------------------------------------------
def test_strength_blends_with_the_original():
    stylizer = _stylizer()
    frame = np.random.default_rng(1).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    full = stylizer.stylize(frame).astype(float)
    stylizer.strength = 0.0
    assert np.abs(stylizer.stylize(frame).astype(float) - frame).max() <= 1  # strength 0: the original
    stylizer.strength = 0.5
    half = stylizer.stylize(frame).astype(float)
    assert np.abs(half - (full + frame) / 2).max() <= 1.0


def test_keep_colors_takes_brightness_from_the_style_and_colour_from_the_input():
    original = torch.rand(1, 3, 24, 32) * 0.3 + 0.35  # mid-range, so that no channel clips
    stylized = torch.rand(1, 3, 24, 32) * 0.2 + 0.4
    out = apply_controls(stylized, original, keep_colors=True)

    def yuv(x):
        r, g, b = x[:, 0], x[:, 1], x[:, 2]
        y = 0.299 * r + 0.587 * g + 0.114 * b
        return y, b - y, r - y  # U and V up to their scale factors

    y_out, u_out, v_out = yuv(out)
    y_sty, _, _ = yuv(stylized)
    _, u_in, v_in = yuv(original)
    assert torch.allclose(y_out, y_sty, atol=1e-5)  # the style's brightness
    assert torch.allclose(u_out, u_in, atol=1e-5) and torch.allclose(v_out, v_in, atol=1e-5)  # the input's colour


def test_video_and_image_accept_strength_and_colours(workdir, style_file, capsys):
    source = write_video(workdir / "in.mp4", frames=3, width=48, height=32, audio=None)
    base = ["video", str(source), "--style", str(style_file), "--quiet", "--device", "cpu"]
    assert cli.main([*base, "-o", "full.mp4"]) == 0
    assert cli.main([*base, "-o", "none.mp4", "--strength", "0"]) == 0
    assert cli.main([*base, "-o", "colours.mp4", "--keep-colours"]) == 0
    frames = {}
    for name in ("full", "none", "colours"):
        capture_ = cv2.VideoCapture(str(workdir / f"{name}.mp4"))
        frames[name] = capture_.read()[1].astype(float)
        capture_.release()
    original = cv2.VideoCapture(str(source)).read()[1].astype(float)
    assert np.abs(frames["none"] - original).mean() < 4  # strength 0 is the input (up to the codec)
    assert np.abs(frames["full"] - original).mean() > 10
    assert np.abs(frames["colours"] - frames["full"]).mean() > 1
    cv2.imwrite(str(workdir / "photo.png"), original.astype(np.uint8))
    assert cli.main(["image", "photo.png", "-o", "out", "--style", str(style_file), "--strength", "0.5", "--keep-colors"]) == 0
    assert (workdir / "out" / f"photo-{style_file.stem}.png").exists()


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "much"])
def test_strength_out_of_range_is_refused(workdir, style_file, value, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["video", "in.mp4", "-o", "out.mp4", "--strength", value])
    assert stop.value.code == 2 and "--strength" in capsys.readouterr().err


def test_strength_and_colour_keys_and_overlay(tmp_path, monkeypatch):
    from test_webcam import FakeCamera

    for index in range(2):
        make_style(tmp_path / f"s{index}.safetensors", name=f"s{index}", seed=index)
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera())
    with LiveSource(0) as source:
        app = WebcamApp(source, _stylizer(), ["s0", "s1"], 0, tmp_path)
        app._select(0)
        frame = source.read()
        full = app.step(frame)
        for _ in range(3):
            app.handle_key(ord("["), full)
        assert app.stylizer.strength == pytest.approx(0.7) and app.state.strength == pytest.approx(0.7)
        assert "strength 0.7" in app.state.message
        weaker = app.step(frame)
        assert np.abs(weaker.astype(float) - frame).mean() < np.abs(full.astype(float) - frame).mean()
        for _ in range(5):
            app.handle_key(ord("]"), full)
        assert app.stylizer.strength == 1.0 and "already at full" in app.state.message
        app.handle_key(ord("o"), full)
        assert app.stylizer.keep_colors and "original colours" in app.state.message
        overlay = draw_overlay(full, app.state)
        assert overlay.shape == full.shape and not np.array_equal(overlay, full)
        app.handle_key(ord("o"), full)
        assert not app.stylizer.keep_colors


def test_help_lists_the_new_keys(capsys):
    with pytest.raises(SystemExit):
        cli.main(["webcam", "--help"])
    out = capsys.readouterr().out
    assert "weaker / stronger style" in out and "original colours" in out and "--virtual-camera" in out and "--fourcc" in out


# -- capture settings --------------------------------------------------------------------------
class RecordingCapture:
    """cv2.VideoCapture stand-in that records what was asked and grants a fixed mode."""

    def __init__(self):
        self.calls = []

    def __call__(self, source):
        return self

    def isOpened(self):
        return True

    def set(self, prop, value):
        self.calls.append((prop, value))
        return True

    def get(self, prop):
        mjpg = cv2.VideoWriter_fourcc(*"MJPG")
        return {cv2.CAP_PROP_FPS: 30.0, cv2.CAP_PROP_FRAME_WIDTH: 1280, cv2.CAP_PROP_FRAME_HEIGHT: 720, cv2.CAP_PROP_FOURCC: mjpg}.get(
            prop, 0
        )

    def read(self):
        time.sleep(0.01)
        return True, np.zeros((720, 1280, 3), np.uint8)

    def release(self):
        pass


def test_fourcc_is_set_before_size_and_rate(monkeypatch):
    camera = RecordingCapture()
    monkeypatch.setattr(capture.cv2, "VideoCapture", camera)
    with LiveSource(0, 1280, 720, fps=60, fourcc="mjpg") as source:
        pass
    props = [prop for prop, _ in camera.calls]
    assert props == [cv2.CAP_PROP_FOURCC, cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FPS]
    assert camera.calls[0][1] == cv2.VideoWriter_fourcc(*"MJPG") and camera.calls[3][1] == 60
    assert source.granted == ["asked for 60 fps, the camera reports 30"]  # what the driver gave instead is said


def test_a_bad_fourcc_is_refused(monkeypatch):
    monkeypatch.setattr(capture.cv2, "VideoCapture", RecordingCapture())
    with pytest.raises(SourceError, match="four characters"):
        LiveSource(0, fourcc="MJPEG")


# -- virtual camera ----------------------------------------------------------------------------
def test_virtual_camera_sends_bgr_frames_of_its_size(fake_backend):
    with VirtualCamera(64, 48, 30, backend="stylecam-fake") as camera:
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[..., 0] = 200  # blue in OpenCV's order
        camera.send(frame)
        camera.send(np.zeros((96, 128, 3), np.uint8))  # another size: resized, never refused mid-call
    device = fake_backend[0]
    assert device.fourcc == int.from_bytes(pyvirtualcam.PixelFormat.BGR.value.encode(), "little") and device.closed  # BGR as sent
    assert [f.shape for f in device.frames] == [(48, 64, 3), (48, 64, 3)]
    assert device.frames[0][0, 0].tolist() == [200, 0, 0]
    assert camera.frames_sent == 2 and camera.device == "/dev/video-fake"


def test_no_virtual_camera_device_says_how_to_get_one(fake_backend):
    with pytest.raises(VirtualCameraError, match="no virtual camera.*(v4l2loopback|OBS)") as caught:
        VirtualCamera(64, 48, 30, backend="stylecam-none")
    assert "\n" not in str(caught.value) and caught.value.__cause__ is not None


def test_headless_webcam_from_a_file_feeds_the_virtual_camera_and_records(workdir, style_file, fake_backend, capsys):
    source = write_video(workdir / "clip.mp4", frames=8, width=64, height=48, audio=None)
    code = cli.main(
        [
            "webcam", "--source", str(source), "--style", str(style_file), "--device", "cpu", "--no-window",
            "--virtual-camera", "--virtual-camera-backend", "stylecam-fake", "--record", "--strength", "0.6", "--save-dir", "saved",
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    device = fake_backend[0]
    # A file source is paced like a camera, so a busy CPU drops frames here by design (the newest
    # frame wins); what holds at any speed: some frames, each sent once, recorded as sent.
    assert 1 <= len(device.frames) <= 8 and device.frames[0].shape == (48, 64, 3)
    assert f"sent {len(device.frames)} frames to /dev/video-fake" in err
    recordings = sorted((workdir / "saved").glob("stylecam-*.mp4"))
    assert len(recordings) == 1 and probe(recordings[0])["frames"] == len(device.frames)


def test_headless_without_a_destination_is_refused(workdir, style_file, capsys):
    assert cli.main(["webcam", "--no-window", "--style", str(style_file)]) == 2
    assert "--virtual-camera and/or --record" in capsys.readouterr().err


def test_headless_without_a_virtual_camera_device_is_one_line(workdir, style_file, fake_backend, capsys):
    source = write_video(workdir / "clip.mp4", frames=3, width=64, height=48, audio=None)
    argv = ["webcam", "--source", str(source), "--style", str(style_file), "--no-window", "--virtual-camera"]
    code = cli.main([*argv, "--virtual-camera-backend", "stylecam-none"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("stylecam: error: no virtual camera")


# -- the window's loop: keys are never lost to a slow network ----------------------------------
class SlowNet(torch.nn.Module):
    """A network that takes 0.15 s a frame, like a big style on a busy CPU."""

    def __init__(self):
        super().__init__()
        self.inner = TransformerNet(8)
        self.width = 8

    def forward(self, x):
        time.sleep(0.15)
        return self.inner(x)


def test_window_loop_applies_every_key_while_the_network_is_slow(tmp_path, monkeypatch):
    from test_webcam import FakeCamera

    from stylecam import webcam

    keys = [ord("["), ord("["), ord("["), ord("["), ord("["), ord("o"), ord("r")]  # pressed within 0.1 s, while a frame is stylized
    shown_frames = []
    clock = {"polls": 0}

    def wait_key(ms):
        clock["polls"] += 1
        time.sleep(ms / 1000)
        if clock["polls"] == 3 and keys:
            return keys.pop(0)
        if clock["polls"] > 3 and keys:
            return keys.pop(0)
        if not keys and clock["polls"] > 60:
            return ord("q")
        return -1

    for name in ("namedWindow", "resizeWindow", "destroyAllWindows", "setWindowProperty"):
        monkeypatch.setattr(webcam.cv2, name, lambda *a, **k: None)
    monkeypatch.setattr(webcam.cv2, "imshow", lambda name, image: shown_frames.append(image))
    monkeypatch.setattr(webcam.cv2, "waitKeyEx", wait_key)
    monkeypatch.setattr(webcam.cv2, "getWindowProperty", lambda *a: 1.0)
    monkeypatch.setattr(webcam, "screen_size", lambda: None)
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera(delay=0.01))
    stylizer = Stylizer(SlowNet(), torch.device("cpu"), Precision(torch.float32))
    with LiveSource(0) as source:
        app = WebcamApp(source, stylizer, [], 0, tmp_path)
        app.style_refs = ["x"]
        app.state.style_names = ["x"]
        state = app.run(poll_ms=5)
    assert stylizer.strength == pytest.approx(0.5) and stylizer.keep_colors  # all seven keys arrived
    monkeypatch.undo()  # the real cv2.VideoCapture again, to read the recording back
    assert len(state.saved) == 1 and probe(tmp_path / state.saved[0].split("/")[-1])["frames"] >= 1  # recording finished on quit
    assert len(shown_frames) >= 2


def test_steady_key_blends_with_the_previous_output(tmp_path, monkeypatch):
    from test_webcam import FakeCamera

    make_style(tmp_path / "s0.safetensors", name="s0")
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera())
    rng = np.random.default_rng(0)
    still = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    with LiveSource(0) as source:
        app = WebcamApp(source, _stylizer(), ["s0"], 0, tmp_path)
        app._select(0)
        plain = app.step(still)
        app.handle_key(ord("d"), plain)
        assert app.state.steady and "steady" in app.state.message
        app.step(still)
        noisy = np.clip(still.astype(int) + rng.integers(-12, 13, still.shape), 0, 255).astype(np.uint8)
        jitter_plain = np.abs(app.stylizer.stylize(noisy).astype(int) - plain).mean()
        jitter_steady = np.abs(app.step(noisy).astype(int) - plain).mean()
        assert jitter_steady < jitter_plain  # the noise of a still scene moves the picture less
        app.handle_key(ord("d"), plain)
        assert app.steady is None and not app.state.steady


@pytest.mark.parametrize("fixed", [False, True])
def test_a_style_key_names_the_new_style_and_takes_its_scale_unless_one_was_asked_for(tmp_path, monkeypatch, fixed):
    from test_webcam import FakeCamera

    make_style(tmp_path / "s0.safetensors", name="s0", default_scale=1.0)
    make_style(tmp_path / "s1.safetensors", name="s1", seed=1, default_scale=0.5)
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera())
    with LiveSource(0) as source:
        app = WebcamApp(source, _stylizer(), ["s0", "s1"], 0, tmp_path, fixed_scale=fixed)
        app._select(0)
        app.handle_key(ord("n"), source.read())
        assert app.stylizer.style_name == "s1" and app.state.style_index == 1
        assert app.stylizer.scale == app.state.scale == (1.0 if fixed else 0.5)
        app.handle_key(ord("-"), source.read())  # finer strokes: a scale asked for, kept from now on
        chosen = app.stylizer.scale
        app.handle_key(ord("n"), source.read())
        assert app.stylizer.style_name == "s0" and app.stylizer.scale == chosen
