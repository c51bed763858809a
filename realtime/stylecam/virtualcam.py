"""The stylized picture as a camera that Zoom, Meet, Teams, Discord or OBS can pick.

pyvirtualcam does the platform work: v4l2loopback on Linux, OBS Studio's virtual camera on
Windows and macOS. Its backends are pluggable (``pyvirtualcam.register_backend``), which is
also how the tests put a fake device behind the real code path.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from stylecam.errors import StylecamError


class VirtualCameraError(StylecamError):
    """No virtual camera device to send to; the message says how to get one."""


def how_to_get_one() -> str:
    if sys.platform.startswith("linux"):
        return (
            "on Linux, load v4l2loopback: sudo apt install v4l2loopback-dkms && "
            "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=stylecam"
        )
    return "install OBS Studio 28 or newer and start its Virtual Camera once (Tools > Start Virtual Camera), then stop it"


class VirtualCamera:
    """Sends uint8 BGR frames of one fixed size to a virtual webcam."""

    def __init__(self, width: int, height: int, fps: float, device: str | None = None, backend: str | None = None):
        try:
            import pyvirtualcam
        except ImportError as error:
            raise VirtualCameraError(f"the virtual camera needs pyvirtualcam (pip install pyvirtualcam); {how_to_get_one()}") from error
        try:
            self._camera = pyvirtualcam.Camera(
                width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR, device=device or None, backend=backend or None
            )
        except (RuntimeError, ValueError, OSError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise VirtualCameraError(f"no virtual camera to send to ({reason}); {how_to_get_one()}") from error
        self.width, self.height = width, height
        self.device: str = str(self._camera.device)
        self.frames_sent = 0

    def send(self, frame: np.ndarray) -> None:
        """One frame; resized when it is not the device's size (a camera may change its mind mid-call)."""
        if frame.shape[:2] != (self.height, self.width):
            frame = cv2.resize(frame, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self._camera.send(np.ascontiguousarray(frame))
        self.frames_sent += 1

    def close(self) -> None:
        if self._camera is not None:
            self._camera.close()
            self._camera = None

    def __enter__(self) -> VirtualCamera:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
