"""stylecam's runtime: style networks applied to webcam, video and photo frames."""

__version__ = "0.1.0"
