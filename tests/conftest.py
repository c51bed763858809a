"""Test inputs made on the spot: a random-weight style, short videos with and without sound."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from stylecam.model import TransformerNet
from stylecam.weights import StyleImageCredit, StyleMetadata, save_style

TEST_WIDTH = 8  # a narrow network keeps the CPU tests fast; the layout is the real one


@pytest.fixture(autouse=True)
def _no_user_styles(monkeypatch, tmp_path_factory):
    """Tests see only the styles they install: never a developer's STYLECAM_WEIGHTS or own trained styles."""
    monkeypatch.delenv("STYLECAM_WEIGHTS", raising=False)
    monkeypatch.setattr("stylecam.weights.USER_STYLES_DIR", tmp_path_factory.mktemp("user-styles"))


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stylecam-cache")


@pytest.fixture(autouse=True)
def _no_user_cache(monkeypatch, _session_cache):
    """Exported ONNX graphs go to one folder per test session, never the developer's cache (shared within the session: fewer exports)."""
    monkeypatch.setenv("STYLECAM_CACHE_DIR", str(_session_cache))


def make_style(path: Path, name: str = "random", width: int = TEST_WIDTH, seed: int = 0, **extra) -> Path:
    torch.manual_seed(seed)
    metadata = StyleMetadata(
        style=name,
        width=width,
        style_image=StyleImageCredit(title="none", artist="nobody", credit="test", licence="CC0"),
        **{"training": {"note": "random initialisation, for tests"}, **extra},
    )
    save_style(TransformerNet(width=width, blocks=metadata.blocks, edge_kernel=metadata.edge_kernel), path, metadata)
    return path


@pytest.fixture(scope="session")
def style_file(tmp_path_factory) -> Path:
    return make_style(tmp_path_factory.mktemp("styles") / "random.safetensors")


def _frame(index: int, width: int, height: int) -> np.ndarray:
    """A moving gradient: every frame differs, so dropped or repeated frames would show."""
    ys, xs = np.mgrid[0:height, 0:width]
    frame = np.stack([(xs * 3 + index * 7) % 256, (ys * 2 + index * 5) % 256, ((xs + ys) + index * 11) % 256], axis=-1)
    return frame.astype(np.uint8)


def write_video(
    path: Path,
    frames: int = 12,
    width: int = 161,
    height: int = 119,
    fps: Fraction = Fraction(10),
    audio: str | None = "aac",
    container_format: str | None = None,
) -> Path:
    """A short video; ``audio`` is an FFmpeg encoder name ("aac", "pcm_s16le") or None."""
    with av.open(str(path), "w", format=container_format) as container:
        codec = "mjpeg" if path.suffix == ".avi" else "libx264"
        video = container.add_stream(codec, rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "yuvj420p" if codec == "mjpeg" else ("yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p")
        sound = None
        if audio:
            sound = container.add_stream(audio, rate=16000)
            sound.layout = "mono"
        for index in range(frames):
            picture = av.VideoFrame.from_ndarray(_frame(index, width, height), format="bgr24")
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if sound is not None:
            seconds = frames / fps
            samples = (np.sin(np.arange(int(16000 * seconds)) * 2 * np.pi * 440 / 16000) * 8000).astype(np.int16)
            chunk = 1024
            for start in range(0, len(samples), chunk):
                piece = av.AudioFrame.from_ndarray(samples[None, start : start + chunk], format="s16", layout="mono")
                piece.sample_rate = 16000
                piece.pts = start
                container.mux(sound.encode(piece))
            container.mux(sound.encode(None))
    return path


@pytest.fixture(scope="session")
def video_with_sound(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("videos") / "clip.mp4")


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def probe(path: Path) -> dict:
    """What a player would see: frame count, rate, size, and whether there is sound."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = 0
    size = None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames += 1
        size = frame.shape[1], frame.shape[0]
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    with av.open(str(path)) as container:
        audio = [stream.codec_context.name for stream in container.streams.audio]
    return {"frames": frames, "fps": fps, "size": size, "audio": audio}


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))
