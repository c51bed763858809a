"""The live window: a camera (or any OpenCV source) stylized on screen, with keys."""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from stylecam.capture import LiveSource, SourceError
from stylecam.choices import KEY_HELP, key_help_text  # noqa: F401  (key_help_text: the overlay and tests)
from stylecam.errors import StylecamError
from stylecam.files import claim_new_name
from stylecam.frames import Stylizer
from stylecam.images import file_name_part, side_by_side, write_image
from stylecam.model import mix_codes
from stylecam.sinks import EncoderSettings, VideoWriter
from stylecam.steady import SteadyFilter
from stylecam.text import drawable
from stylecam.virtualcam import VirtualCamera
from stylecam.weights import load_style

WINDOW = "stylecam"
SCALE_STEPS = (0.25, 0.33, 0.5, 0.67, 0.75, 1.0, 1.25, 1.5, 2.0)
MORPH_SECONDS = 1.0  # long enough to watch one painting turn into the other, short enough not to wait for it

# Arrow-key codes from cv2.waitKeyEx differ by GUI backend (GTK, Qt, Windows, macOS).
_RIGHT = {65363, 2555904, 0x1000014, 63235}
_LEFT = {65361, 2424832, 0x1000012, 63234}


class DisplayError(StylecamError):
    """No screen to open the window on."""


def _point_qt_at_system_fonts() -> None:
    """OpenCV's Qt build ships no fonts and warns on every draw; the system's fonts silence it."""
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype", "/usr/share/fonts"):
        if Path(folder).is_dir():
            os.environ.setdefault("QT_QPA_FONTDIR", folder)
            return


def display_problem() -> str | None:
    """Why no window can open here, or None. Qt aborts the whole process (SIGABRT) on a display
    it cannot reach, so the X server is reached here first, the way Xlib would."""
    if not sys.platform.startswith("linux"):
        return None
    display, wayland = os.environ.get("DISPLAY"), os.environ.get("WAYLAND_DISPLAY")
    if not display and not wayland:
        return "no display for the webcam window (DISPLAY is not set)"
    if not display:
        return None  # Wayland only: its socket is the compositor's business
    match = re.fullmatch(r"(?P<host>[^:]*):(?P<number>\d+)(\.\d+)?", display)
    if match is None:
        return f"DISPLAY={display} is not a display name such as :0"
    host, number = match["host"], int(match["number"])
    try:
        if host in ("", "unix"):
            with socket.socket(socket.AF_UNIX) as connection:
                connection.settimeout(2)
                connection.connect(f"/tmp/.X11-unix/X{number}")
        else:
            socket.create_connection((host, 6000 + number), timeout=2).close()
    except OSError as error:
        return f"cannot reach the display DISPLAY={display} ({error.strerror or error})"
    return None


def camera_present(index: int = 0) -> bool:
    """Cheap check before the quick start picks the webcam over the demo."""
    if sys.platform.startswith("linux") and not Path(f"/dev/video{index}").exists():
        return False
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        capture = cv2.VideoCapture(index)
        ok = capture.isOpened() and capture.read()[0]
        capture.release()
        return bool(ok)
    finally:
        cv2.utils.logging.setLogLevel(previous)


def screen_size() -> tuple[int, int] | None:
    """(width, height) of the X screen the window opens on, or None where it cannot be asked (then no cap)."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    try:
        import ctypes
        import ctypes.util

        xlib = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XDefaultScreen.argtypes = xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        xlib.XDisplayWidth.argtypes = xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        display = xlib.XOpenDisplay(None)
        if not display:
            return None
        try:
            screen = xlib.XDefaultScreen(display)
            return int(xlib.XDisplayWidth(display, screen)), int(xlib.XDisplayHeight(display, screen))
        finally:
            xlib.XCloseDisplay(display)
    except (OSError, AttributeError):
        return None


def fit_window(width: int, height: int, screen: tuple[int, int] | None, margin: float = 0.9) -> tuple[int, int]:
    """The window size for a picture: its own, or shrunk (aspect kept) to a share of the screen."""
    if screen is None:
        return width, height
    factor = min(1.0, margin * screen[0] / width, margin * screen[1] / height)
    return max(1, round(width * factor)), max(1, round(height * factor))


@dataclass
class LiveState:
    """What the window shows and the keys change. The look's settings have one owner each: scale,
    strength and colours are the Stylizer's (it renders with them), steadiness is the filter here."""

    style_names: list[str]
    style_index: int
    stylizer: Stylizer
    compare: bool = False
    show_help: bool = False
    fullscreen: bool = False
    fps: float = 0.0
    steady_filter: SteadyFilter | None = None  # flow-guided blending with the previous output, while on
    virtual_camera: str | None = None  # the device the stylized frames go to, when one is used
    recording: VideoWriter | None = None
    recording_started: float = 0.0
    message: str = ""
    message_until: float = 0.0
    saved: list[str] = field(default_factory=list)
    morph_to: int | None = None  # the style a morph is heading for, while one runs

    @property
    def scale(self) -> float:
        return self.stylizer.scale

    @property
    def strength(self) -> float:
        return self.stylizer.strength

    @property
    def keep_colors(self) -> bool:
        return self.stylizer.keep_colors

    @property
    def steady(self) -> bool:
        return self.steady_filter is not None

    def say(self, text: str, seconds: float = 2.5) -> None:
        self.message, self.message_until = text, time.monotonic() + seconds
        print(f"stylecam: {text}", file=sys.stderr)


def overlay_lines(state: LiveState) -> list[str]:
    """What the overlay says: the style (and where a morph is heading), rate, scale, controls, message, help."""
    name = state.style_names[state.style_index]
    if state.morph_to is not None:
        name += f" -> {state.style_names[state.morph_to]}"
    lines = [f"{name}  {state.fps:4.1f} fps  scale {state.scale:g}"]
    if state.strength < 1.0:
        lines[0] += f"  strength {state.strength:.1f}"
    if state.keep_colors:
        lines[0] += "  original colours"
    if state.steady:
        lines[0] += "  steady"
    if state.recording is not None:
        lines[0] += "  REC"
    if state.virtual_camera:
        lines[0] += f"  -> {state.virtual_camera}"
    if time.monotonic() < state.message_until:
        lines.append(state.message)
    if state.show_help:
        lines += [f"{keys}: {action}" for keys, action in KEY_HELP]
        lines += [f"{n + 1}: {name}" for n, name in enumerate(state.style_names[:9])]
    else:
        lines.append("h: help")
    return lines


def draw_overlay(image: np.ndarray, state: LiveState) -> np.ndarray:
    lines = overlay_lines(state)
    canvas = image.copy()
    # White text on a darkened panel: an outline drawn under the text read as a ghosted double.
    lines = [drawable(text) for text in lines]
    width = max(cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.55, 1)[0][0] for text in lines)
    bottom = min(canvas.shape[0], 12 + 22 * len(lines))
    right = min(canvas.shape[1], 20 + width)
    panel = canvas[:bottom, :right]
    panel[:] = (panel.astype(np.uint16) * 2 // 5).astype(np.uint8)
    for row, text in enumerate(lines):
        cv2.putText(canvas, text, (10, 24 + 22 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas


def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


class _RateMeter:
    """Frames per second, smoothed over the last ten or so frames (what the overlay shows)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self._smoothed: float | None = None

    def tick(self) -> float:
        now = time.perf_counter()
        rate = 1.0 / max(now - self._last, 1e-6)
        self._last = now
        self._smoothed = rate if self._smoothed is None else 0.9 * self._smoothed + 0.1 * rate
        return self._smoothed


class WebcamApp:
    encoder: EncoderSettings | None = None  # x264 settings of the recordings (default: EncoderSettings())

    def __init__(
        self,
        source: LiveSource,
        stylizer: Stylizer,
        style_refs: list[str],
        start_index: int,
        save_dir: Path,
        virtual_camera: VirtualCamera | None = None,
        steady: bool = False,
        fixed_scale: bool = False,
        fixed_detail: bool = False,
    ):
        self.source = source
        self.stylizer = stylizer
        self.style_refs = style_refs
        self.save_dir = save_dir
        self.virtual_camera = virtual_camera
        # False: each style runs at its own default scale; True once a scale was asked for (--scale, +/-).
        self.fixed_scale = fixed_scale
        self.fixed_detail = fixed_detail
        self._models: dict[int, tuple] = {}
        # A running morph: (code from, code to, target index, start time); set by the key, run by step().
        self._morph: tuple[dict, dict, int, float] | None = None
        # Style keys (window thread) and morph frames (worker thread) change the network's code:
        # one at a time, or a morph frame could leave a mixed code in a cached style's network.
        self._style_lock = threading.RLock()
        # run() stylizes in a worker thread: the newest result is handed over under a lock, and
        # the recording, which keys open and close, is written under another.
        self._shown: np.ndarray | None = None
        self._shown_count = 0
        self._shown_lock = threading.Lock()
        self._recording_lock = threading.RLock()
        self._worker_done = threading.Event()
        self._worker_error: BaseException | None = None
        names = [Path(ref).stem if ref.endswith(".safetensors") else ref for ref in style_refs]
        self.state = LiveState(
            style_names=names,
            style_index=start_index,
            stylizer=stylizer,
            steady_filter=SteadyFilter() if steady else None,
            virtual_camera=virtual_camera.device if virtual_camera is not None else None,
        )

    def _loaded(self, index: int) -> tuple:
        if index not in self._models:
            self._models[index] = load_style(self.style_refs[index])
        return self._models[index]

    def _select(self, index: int) -> None:
        index %= len(self.style_refs)
        with self._style_lock:
            self._end_morph()
            style, model = self._loaded(index)
            self.stylizer.set_model(model, style, keep_scale=self.fixed_scale, keep_detail=self.fixed_detail)
        if self.steady is not None:
            self.steady.reset()  # never blend the old style into the new one
        self.state.style_index = index
        self.state.say(f"style: {style.name}")

    def _start_morph(self) -> None:
        """Morph from the current style into the next: their codes mixed a little more at every frame.

        Only styles of one painter network have codes to mix; between others the key switches
        at once and says why.
        """
        with self._style_lock:
            self._end_morph()  # a second m during a morph starts from the style shown before it
            target = (self.state.style_index + 1) % len(self.style_refs)
            current, _ = self._loaded(self.state.style_index)
            following, _ = self._loaded(target)
            if current.code is None or following.code is None or current.network_sha256 != following.network_sha256:
                self._select(target)
                self.state.say(f"switched to {following.name} at once: a morph needs two styles of one painter network")
                return
            self._morph = (current.code, following.code, target, time.monotonic())
            self.state.morph_to = target
        self.state.say(f"morphing into {following.name}")

    def _end_morph(self) -> None:
        """Stop a morph and give the network it ran on its own code back (it is the start style's, kept for its key)."""
        morph, self._morph, self.state.morph_to = self._morph, None, None
        if morph is not None:
            self.stylizer.set_code(morph[0])

    def _advance_morph(self) -> None:
        """One frame of a running morph (in the thread that runs the network, so a frame never sees half a code)."""
        with self._style_lock:
            morph = self._morph
            if morph is None:
                return
            start_code, end_code, target, started = morph
            progress = (time.monotonic() - started) / MORPH_SECONDS
            if progress >= 1.0:
                self._select(target)
                return
            # Smoothstep: the change eases in and out instead of starting and stopping with a jolt.
            eased = progress * progress * (3 - 2 * progress)
            self.stylizer.set_code(mix_codes([start_code, end_code], [1.0 - eased, eased]))

    def _change_strokes(self, bigger: bool) -> None:
        """Bigger strokes come from a lower processing scale (the network sees a smaller frame), finer from a higher one."""
        current = min(range(len(SCALE_STEPS)), key=lambda i: abs(SCALE_STEPS[i] - self.stylizer.scale))
        chosen = SCALE_STEPS[max(0, min(len(SCALE_STEPS) - 1, current + (-1 if bigger else 1)))]
        if chosen == self.stylizer.scale:
            self.state.say(f"strokes already at their {'biggest' if bigger else 'finest'} (processing scale {chosen:g})")
            return
        self.stylizer.scale = chosen
        self.fixed_scale = True  # kept across style keys from now on
        self.state.say(f"{'bigger' if bigger else 'finer'} strokes (processing scale {chosen:g})")

    def _change_strength(self, stronger: bool) -> None:
        """Steps of 0.1 between 0 (the original) and 1 (the full style)."""
        chosen = round(min(1.0, max(0.0, self.stylizer.strength + (0.1 if stronger else -0.1))), 1)
        if chosen == self.stylizer.strength:
            self.state.say(f"style strength already at {'full' if stronger else 'zero'}")
            return
        self.stylizer.strength = chosen
        self.state.say(f"style strength {chosen:.1f}")

    def _toggle_colors(self) -> None:
        self.stylizer.keep_colors = not self.stylizer.keep_colors
        self.state.say("original colours" if self.state.keep_colors else "the style's colours")

    def _toggle_steady(self) -> None:
        self.state.steady_filter = None if self.state.steady_filter is not None else SteadyFilter()
        self.state.say("steady: less flicker" if self.state.steady else "steady off")

    @property
    def steady(self) -> SteadyFilter | None:
        return self.state.steady_filter

    def start_recording(self) -> None:
        if self.state.recording is None:
            self._toggle_recording()

    def _toggle_recording(self) -> None:
        with self._recording_lock:  # reentrant: _stop_recording takes it again
            if self.state.recording is None:
                # A new name even for two recordings started in one second; never an existing file.
                path = claim_new_name(self.save_dir, f"stylecam-{_timestamp()}", ".mp4")
                self.state.recording = VideoWriter(path, fps=None, encoder=self.encoder, claimed=True)
                self.state.recording_started = time.monotonic()
                self.state.say(f"recording to {path}")
            else:
                self._stop_recording()

    def _stop_recording(self) -> None:
        with self._recording_lock:
            if self.state.recording is None:
                return
            path = self.state.recording.close()
            self.state.recording = None
            self.state.saved.append(str(path))
            self.state.say(f"recording saved: {path}")

    def handle_key(self, key: int, shown: np.ndarray | None) -> bool:
        """Apply one key press; False means quit."""
        if key < 0:
            return True
        char = chr(key).lower() if key < 256 else ""  # arrows and other special keys come as large codes
        if char in ("q", "\x1b"):
            return False
        if char == "n" or key in _RIGHT:
            self._select(self.state.style_index + 1)
        elif char == "p" or key in _LEFT:
            self._select(self.state.style_index - 1)
        elif char == "m":
            self._start_morph()
        elif char.isdigit() and char != "0":
            if int(char) <= len(self.style_refs):
                self._select(int(char) - 1)
        elif char == "c":
            self.state.compare = not self.state.compare
        elif char in ("+", "="):
            self._change_strokes(bigger=True)
        elif char in ("-", "_"):
            self._change_strokes(bigger=False)
        elif char == "[":
            self._change_strength(stronger=False)
        elif char == "]":
            self._change_strength(stronger=True)
        elif char == "o":
            self._toggle_colors()
        elif char == "d":
            self._toggle_steady()
        elif char == "s" and shown is None:
            self.state.say("no frame yet to save")
        elif char == "s":
            style_part = file_name_part(self.state.style_names[self.state.style_index])
            path = claim_new_name(self.save_dir, f"stylecam-{_timestamp()}-{style_part}", ".png")  # two in one second: two files
            write_image(path, shown)
            self.state.saved.append(str(path))
            self.state.say(f"screenshot saved: {path}")
        elif char == "r":
            self._toggle_recording()
        elif char == "f":
            self.state.fullscreen = not self.state.fullscreen
            mode = cv2.WINDOW_FULLSCREEN if self.state.fullscreen else cv2.WINDOW_NORMAL
            cv2.setWindowProperty(WINDOW, cv2.WND_PROP_FULLSCREEN, mode)
        elif char in ("h", "?"):
            self.state.show_help = not self.state.show_help
        return True

    def step(self, frame: np.ndarray) -> np.ndarray:
        """Stylize one camera frame; returns what is recorded and screenshotted (no overlay)."""
        self._advance_morph()
        stylized = self.stylizer.stylize(frame)
        steady = self.steady  # read once: the window thread may switch it off meanwhile
        if steady is not None:
            stylized = steady.apply(frame, stylized)
        shown = side_by_side(frame, stylized) if self.state.compare else stylized
        if self.virtual_camera is not None:
            self.virtual_camera.send(stylized)  # the call sees the painting, whatever the window shows
        with self._recording_lock:
            if self.state.recording is not None:
                # The stylized frame alone: its size never changes while a recording runs.
                self.state.recording.write(stylized, timestamp=time.monotonic() - self.state.recording_started)
        return shown

    def run_headless(self, report_every: float = 10.0) -> LiveState:
        """No window: frames go to the virtual camera and/or the recording until the source ends or Ctrl-C."""
        rate, last_report = _RateMeter(), time.monotonic()
        try:
            while True:
                frame = self.source.read()
                if frame is None:
                    if self.source.ended_reason:
                        raise SourceError(f"{self.source.ended_reason}{self._saved_note()}")
                    break
                self.step(frame)
                self.state.fps = rate.tick()
                if time.monotonic() - last_report >= report_every:
                    last_report = time.monotonic()
                    print(f"stylecam: {self.state.fps:.1f} fps", file=sys.stderr)
        finally:
            self._stop_recording()
        return self.state

    def _produce(self, stop: threading.Event) -> None:
        """The worker thread of ``run``: frames in, stylized frames out, as fast as the network goes."""
        rate = _RateMeter()
        try:
            while not stop.is_set():
                frame = self.source.read()
                if frame is None:
                    break
                shown = self.step(frame)
                self.state.fps = rate.tick()
                with self._shown_lock:
                    self._shown, self._shown_count = shown, self._shown_count + 1
        except BaseException as error:  # handed to the window's thread, which reports it
            self._worker_error = error
        finally:
            self._worker_done.set()

    def run(self, poll_ms: int = 15) -> LiveState:
        """The window. The network runs in a worker thread and the window polls keys every
        ``poll_ms``: a slow network (1 fps on a busy CPU) must not make keys lag or get lost,
        and OpenCV's GUI keeps only the last key pressed between two polls."""
        _point_qt_at_system_fonts()
        try:
            # Resizable, aspect kept, no toolbar: the keys are the interface.
            cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        except cv2.error as error:
            raise DisplayError(f"cannot open a window ({str(error).strip().splitlines()[-1]})") from error
        window_shape = None
        screen = screen_size()  # side by side at 1080p is 3840 px wide: the window must still fit
        stop = threading.Event()
        self._worker_done.clear()
        worker = threading.Thread(target=self._produce, args=(stop,), name="stylecam-stylize", daemon=True)
        worker.start()
        drawn, redraw = 0, False
        try:
            while True:
                with self._shown_lock:
                    shown, count = self._shown, self._shown_count
                if shown is not None and (count != drawn or redraw or time.monotonic() < self.state.message_until + 0.1):
                    drawn, redraw = count, False
                    if shown.shape != window_shape and not self.state.fullscreen:
                        window_shape = shown.shape  # first frame, or side by side toggled
                        cv2.resizeWindow(WINDOW, *fit_window(shown.shape[1], shown.shape[0], screen))
                    cv2.imshow(WINDOW, draw_overlay(shown, self.state))
                key = cv2.waitKeyEx(poll_ms)
                if key >= 0:
                    if not self.handle_key(key, shown):
                        break
                    redraw = True  # a key's effect (help, overlay line) shows at once, not with the next frame
                if self._worker_done.is_set():
                    break
                if shown is not None and cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:  # closed with the mouse
                    break
        finally:
            stop.set()
            worker.join(timeout=30)  # the frame in the network finishes first
            self._stop_recording()
            cv2.destroyAllWindows()
        if self._worker_error is not None:
            raise self._worker_error
        if self.source.ended_reason:
            raise SourceError(f"{self.source.ended_reason}{self._saved_note()}")
        return self.state

    def _saved_note(self) -> str:
        self._stop_recording()
        return f"; saved: {', '.join(self.state.saved)}" if self.state.saved else ""
