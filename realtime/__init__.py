"""stylecam: live video that looks like a painting.

The Python API::

    from stylecam import Stylizer

    stylizer = Stylizer.from_style("starry_night", device="auto")
    painted = stylizer(frame)  # NumPy (BGR, or channels="rgb"), PIL image or torch tensor in, the same kind out
    stylizer.stylize_video("in.mp4", "out.mp4")  # sound and timing kept
    stylizer.stylize_folder("photos/", "painted/")

``styles()`` lists the installed styles. Errors a user can fix are ``StylecamError``. The
training recipe is ``stylecam.train``; importing ``stylecam`` never loads it.
"""

import os

# OpenCV and its FFmpeg print their own warnings (a missing camera, a broken file) straight to
# stderr, around stylecam's one-line message. Quiet by default; set these variables to see them.
# They must be set before cv2 is first imported, hence here.
os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

__version__ = "0.1.0"

# Loaded on first use (PEP 562): `stylecam --help` and `import stylecam` stay quick, torch and
# OpenCV load only when the API is touched.
_LAZY = {
    "Stylizer": "stylecam.frames",
    "StylecamError": "stylecam.errors",
    "Style": "stylecam.weights",
    "StyleMetadata": "stylecam.weights",
    "load_style": "stylecam.weights",
}
__all__ = [*_LAZY, "styles", "__version__"]


def styles() -> list[str]:
    """The names of the installed styles (shipped, the user's own, and $STYLECAM_WEIGHTS folders)."""
    from stylecam.weights import installed_styles

    return [path.stem for path in installed_styles()]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stylecam' has no attribute {name!r}")
