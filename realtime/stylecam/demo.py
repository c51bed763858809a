"""The demo's own clip: a short synthetic scene, so `stylecam demo` needs no camera and no download."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from stylecam.sinks import VideoWriter


def make_demo_clip(path: Path, width: int = 320, height: int = 240, frames: int = 36, fps: float = 12.0) -> None:
    """A short synthetic scene (sky, sun, hills, a moving ball, a title) for the demo."""
    with VideoWriter(path, fps=fps) as writer:
        for index in range(frames):
            writer.write(_demo_frame(index, frames, width, height))


def _demo_frame(index: int, frames: int, width: int, height: int) -> np.ndarray:
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    sky = np.stack([230 - 120 * rows, 180 - 90 * rows, 90 + 40 * rows], axis=-1)  # BGR: blue fading to warm
    image = np.broadcast_to(sky, (height, width, 3)).astype(np.uint8).copy()
    cv2.circle(image, (int(width * 0.75), int(height * 0.3)), height // 8, (80, 220, 255), -1, cv2.LINE_AA)
    xs = np.arange(width)
    for depth, color in ((0.55, (60, 120, 40)), (0.7, (40, 90, 30))):
        ridge = (height * depth + 18 * np.sin(xs / width * 6.0 + depth * 10)).astype(np.int32)
        points = np.concatenate([np.stack([xs, ridge], axis=1), [[width - 1, height - 1], [0, height - 1]]])
        cv2.fillPoly(image, [points.astype(np.int32)], color, cv2.LINE_AA)
    phase = index / max(1, frames - 1)
    center = (int(width * (0.1 + 0.8 * phase)), int(height * 0.8 - 40 * np.sin(np.pi * phase)))
    cv2.circle(image, center, height // 12, (40, 40, 200), -1, cv2.LINE_AA)
    cv2.putText(image, "stylecam", (12, 36), cv2.FONT_HERSHEY_DUPLEX, 1.0, (255, 255, 255), 2, cv2.LINE_AA)
    return image
