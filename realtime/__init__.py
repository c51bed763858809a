"""stylecam's runtime: style networks applied to webcam, video and photo frames."""

import os

# OpenCV and its FFmpeg print their own warnings (a missing camera, a broken file) straight to
# stderr, around stylecam's one-line message. Quiet by default; set these variables to see them.
# They must be set before cv2 is first imported, hence here.
os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

__version__ = "0.1.0"
