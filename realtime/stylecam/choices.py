"""The names and limits that command-line options offer, in one standard-library module.

`stylecam --help` and `stylecam COMMAND --help` import this and not the modules that use the
values (they bring torch, OpenCV or PyAV); those modules import their values from here.
"""

from __future__ import annotations

DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
BACKENDS = ("auto", "eager", "compile", "onnx", "openvino")
DEFAULT_STYLE = "starry_night"
DEFAULT_WIDTH = 32  # the network's first layer's channels; 64 and 128 follow (the classic network)

MAX_SCALE = 4.0  # enlarging a frame more than this only multiplies the work; strokes get finer, nothing else
# --detail: the input's brightness detail added back, times this (stylecam.frames.apply_controls).
# A bound, not an optimum: at 1 a fast style already looks like a tinted photo (train/evidence/README.md).
MAX_DETAIL = 2.0
MAX_STEADY_STRENGTH = 0.95  # at 1 the picture would never change again where nothing moves
# --steady's optical flow (stylecam.steady.FLOWS): the measure's own for files, a cheaper one for live frames
STEADY_FLOWS = ("fine", "fast")
DEFAULT_FILE_STEADY_FLOW = "fine"
# --steady's strength when none is given, by flow: the fine flow is right on more pixels, so more of
# the past can be kept. Over the whole of Megamind.avi, thatched_cottages' encoded file measured 1.53
# times the input's warping error at 0.6 and 1.27 at 0.8 with the fine flow (stylecam.steady).
DEFAULT_STEADY_STRENGTH = {"fine": 0.8, "fast": 0.6}

# libx264: see stylecam.sinks.EncoderSettings for why these defaults.
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_CRF = 18
DEFAULT_PRESET = "veryfast"
DEFAULT_ENCODER_THREADS = 0

# The webcam window's keys: (keys as shown to the user, what they do); the same table feeds
# `stylecam webcam --help` and the window's help overlay.
KEY_HELP = (
    ("n  or  Right", "next style"),
    ("p  or  Left", "previous style"),
    ("1 ... 9", "pick style by number"),
    ("m", "morph into the next style over a second (styles of one painter network)"),
    ("c", "original and stylized side by side"),
    ("+  /  -", "bigger / finer strokes (lower / higher processing scale)"),
    ("[  /  ]", "weaker / stronger style (blend with the original)"),
    ("o", "original colours on / off"),
    ("d", "steady (less flicker) on / off"),
    ("s", "screenshot (PNG)"),
    ("r", "record on / off (MP4)"),
    ("f", "fullscreen on / off"),
    ("h", "this help"),
    ("q  or  Esc", "quit"),
)


def key_help_text() -> str:
    return "\n".join(f"  {keys:<14} {action}" for keys, action in KEY_HELP)
