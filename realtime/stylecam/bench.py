"""``stylecam bench``: speed of the network by back end, of a file conversion and of the webcam
loop, as one JSON object.

While it runs, ``run_bench(..., progress=...)`` is handed a line before each part (what it times)
and one after (its result), so that a bench of minutes on a CPU is visibly alive; the command
prints them on stderr, and the JSON on stdout at the end.

Everything runs in one process on the same machine, so ratios mean something even on a busy or
shared machine; absolute numbers belong with the hardware line printed beside them.
"""

from __future__ import annotations

import copy
import importlib.metadata
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.backends import PAD_SMALLER_BATCHES, Backend, choose_precision, cpu_backends, make_backend, synchronize
from stylecam.capture import LiveSource, SourceError, VideoFile, probe_video_file
from stylecam.devices import hardware_line
from stylecam.errors import StylecamError
from stylecam.frames import Stylizer, processing_size
from stylecam.loops import convert_video
from stylecam.sinks import VideoWriter

PARTS = ("model", "file", "webcam")
DEFAULT_SIZE = (1920, 1080)  # of the clip made up when no input is given
SYNTHETIC_FPS = 30.0


@dataclass
class BenchSettings:
    input: str | None  # None: a synthetic clip made at ``size``
    size: tuple[int, int] | None  # (width, height) the frames are resized to; None: the input's own
    frames: int
    batch: int
    backends: list[str]  # for the model alone
    precisions: list[str]  # for the model alone; "auto": each back end's own
    repeats: int  # timed calls of the model alone, after its first
    parts: list[str]  # of PARTS


def default_backends(device: torch.device) -> list[str]:
    """Every back end that can run on device."""
    if device.type != "cpu":
        return ["eager", "compile"]
    return [*cpu_backends(), "compile"]


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# -- the clip ----------------------------------------------------------------------------------
def prepare_clip(settings: BenchSettings, dst: Path) -> tuple[int, float]:
    """The first ``frames`` frames of the input (or a synthetic scene), resized to ``size``, in a new
    file that every part reads. Returns (frames, frame rate)."""
    if settings.input is None:
        from stylecam.demo import _demo_frame

        width, height = settings.size or DEFAULT_SIZE
        with VideoWriter(dst, fps=SYNTHETIC_FPS) as writer:
            for index in range(settings.frames):
                writer.write(_demo_frame(index, settings.frames, width, height))
        return settings.frames, SYNTHETIC_FPS
    with VideoFile(Path(settings.input)) as video:  # a bad file: SourceError, which names it
        fps = video.info.fps
        copied = 0
        with VideoWriter(dst, fps=fps) as writer:
            for frame, _ in video.frames():
                if copied >= settings.frames:
                    break
                if settings.size is not None and (frame.shape[1], frame.shape[0]) != settings.size:
                    frame = cv2.resize(frame, settings.size, interpolation=cv2.INTER_AREA)
                writer.write(frame)
                copied += 1
    return copied, fps


def _first_frame(clip: Path) -> np.ndarray:
    try:
        return probe_video_file(clip)[1]
    except SourceError as error:
        raise StylecamError(f"the bench clip {clip} has no readable frame ({error})") from error


# -- the model alone ---------------------------------------------------------------------------
def computes_inside(backend: Backend, precision: str) -> str | None:
    """What the back end computes in where that is not the precision it was given (OpenVINO's bf16 at auto, on a CPU made for it)."""
    return backend.computes_in if backend.computes_in not in (None, precision) else None


@torch.inference_mode()
def time_model(
    model: torch.nn.Module, device: torch.device, backend: str, precision: str, work_size: tuple[int, int], batch: int, repeats: int
) -> dict:
    """One back end at one precision on a tensor already on the device, at the processing size."""
    work_h, work_w = work_size
    entry: dict = {"backend": backend, "precision": precision, "processing_size": f"{work_w}x{work_h}", "batch": batch}
    try:
        chosen = choose_precision(device, precision, backend)
        entry["precision"] = chosen.name
        network = copy.deepcopy(model).to(device=device, dtype=chosen.dtype).eval()
        runner = make_backend(backend, network, device, chosen)
    except (StylecamError, ValueError) as error:  # onnx on CUDA, fp16 in ONNX Runtime...: reported, not fatal
        entry["error"] = str(error)
        return entry
    if runner.name != backend:
        entry["runs"] = runner.name  # what auto chose
    x = torch.rand(batch, 3, work_h, work_w, device=device, dtype=chosen.dtype)
    runner(x)  # the first call: compiles, autotunes, or picks cuDNN algorithms; timed by the back end
    synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        runner(x)
    synchronize(device)
    per_frame = (time.perf_counter() - started) / repeats / batch
    entry.update(
        ms_per_frame=_rounded(per_frame * 1000),
        fps=_rounded(1 / per_frame),
        first_call_ms=_rounded(runner.first_call_ms, 1),
        setup_ms=_rounded(runner.setup_ms, 1),
        repeats=repeats,
    )
    if runner.fell_back:
        entry["fell_back"] = runner.fell_back
    if inside := computes_inside(runner, chosen.name):
        entry["computes_in"] = inside
    return entry


# -- a file, end to end -----------------------------------------------------------------------
@torch.inference_mode()
def classic_loop(src: Path, dst: Path, model: torch.nn.Module, device: torch.device, frames: int) -> float:
    """The loop of the classic examples: float32 on the CPU, upload, fp32, download, mp4v. Returns fps.

    It reads and writes with OpenCV on purpose, frame by frame in one thread, as those examples do
    (stylecam itself reads files with PyAV): the comparison is with what they do, readers included.
    """
    model = model.to(device=device, dtype=torch.float32)
    capture = cv2.VideoCapture(str(src))
    writer = None
    done = 0
    started = time.perf_counter()
    while done < frames:
        ok, frame = capture.read()
        if not ok:
            break
        x = torch.from_numpy(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        y = model(x.to(device)).clamp(0, 1).mul(255).byte()[0].permute(1, 2, 0).cpu().numpy()
        if writer is None:
            writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), 30, (frame.shape[1], frame.shape[0]))
        writer.write(cv2.cvtColor(y, cv2.COLOR_RGB2BGR))
        done += 1
    if writer is not None:
        writer.release()
    capture.release()
    return done / (time.perf_counter() - started)


def warm_up(stylizer: Stylizer, frame: np.ndarray, batch: int) -> float:
    """The first call at the clip's size and batch (compilation happens here); returns its milliseconds."""
    started = time.perf_counter()
    stylizer.stylize_batch(np.stack([frame] * batch))
    return (time.perf_counter() - started) * 1000


def time_file(clip: Path, workdir: Path, stylizer: Stylizer, style_name: str, frames: int, batch: int) -> dict:
    classic_model = copy.deepcopy(stylizer.model)  # classic_loop turns it to fp32
    classic_fps = classic_loop(clip, workdir / "classic.mp4", classic_model, stylizer.device, frames)
    report = convert_video(clip, workdir / "stylecam.mp4", stylizer, style_name, batch_size=batch, show_progress=False)
    return {
        "frames": report.frames,
        "classic_loop_fps": _rounded(classic_fps),
        "stylecam_fps": report.fps,
        "speedup": _rounded(report.fps / classic_fps) if classic_fps else None,
    }


# -- the webcam loop ----------------------------------------------------------------------------
def time_webcam(clip: Path, stylizer: Stylizer) -> dict:
    """The clip played as a camera (at its frame rate, newest frame only) into the stylizer, as
    the webcam window runs it, without the window. Latency: from a frame's capture to its stylized
    frame, in milliseconds and in frames of the source's rate."""
    latencies = []
    with LiveSource(str(clip)) as source:
        rate = source.info.fps
        first_read = first_number = None
        done = 0.0
        while (frame := source.read()) is not None:
            if first_read is None:
                first_read, first_number = time.perf_counter(), source.frame_number
            # The file is paced to its rate from its first frame: that dates every later one.
            captured_at = first_read + (source.frame_number - first_number) / rate
            stylizer.stylize(frame)
            done = time.perf_counter()
            latencies.append(done - captured_at)
        captured = source.frame_number
    if not latencies:
        raise StylecamError(f"the bench clip {clip} gave the webcam loop no frame")
    shown = len(latencies)
    return {
        "source_fps": _rounded(rate),
        "frames_captured": captured,
        "frames_shown": shown,
        "frames_dropped": captured - shown,
        "fps": _rounded(shown / max(done - first_read, 1e-9)),
        "latency_ms_mean": _rounded(statistics.fmean(latencies) * 1000, 1),
        "latency_ms_max": _rounded(max(latencies) * 1000, 1),
        "latency_frames_mean": _rounded(statistics.fmean(latencies) * rate),
        "latency_frames_max": _rounded(max(latencies) * rate),
    }


# -- all of it ----------------------------------------------------------------------------------
def _versions() -> dict:
    found = {"torch": torch.__version__}
    for package in ("onnxruntime", "av", "opencv-python"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


# -- progress lines (on stderr, from the command) --------------------------------------------------
def _model_line(entry: dict) -> str:
    label = f"model {entry['backend']}{' (' + entry['runs'] + ')' if 'runs' in entry else ''} {entry['precision']}"
    if "computes_in" in entry:
        label += f" ({entry['computes_in']} inside)"
    if "error" in entry:
        return f"{label}: cannot run here ({entry['error']})"
    return f"{label}: {entry['ms_per_frame']:g} ms a frame ({entry['fps']:g} fps; first call {entry['first_call_ms']:g} ms)"


def _file_line(entry: dict) -> str:
    speedup = f", {entry['speedup']:g}x" if entry["speedup"] is not None else ""
    fps = f"stylecam {entry['stylecam_fps']:g} fps, classic loop {entry['classic_loop_fps']:g} fps"
    return f"file: {entry['frames']} frames, {fps}{speedup}"


def _webcam_line(entry: dict) -> str:
    return (
        f"webcam: {entry['fps']:g} fps shown, {entry['frames_dropped']} of {entry['frames_captured']} frames dropped, "
        f"latency {entry['latency_ms_mean']:g} ms mean, {entry['latency_ms_max']:g} ms max"
    )


def run_bench(settings: BenchSettings, stylizer: Stylizer, style_name: str, progress: Callable[[str], None] | None = None) -> dict:
    """Every part of ``settings.parts``, as one report; ``progress`` (if given) gets a line before and after each."""

    def say(line: str) -> None:
        if progress is not None:
            progress(f"bench: {line}")

    device = stylizer.device
    report: dict = {"hardware": hardware_line(device), "versions": _versions()}
    say(f"on {report['hardware']}")
    with tempfile.TemporaryDirectory(prefix="stylecam-bench-") as folder:
        workdir = Path(folder)
        clip = workdir / "clip.mp4"
        if settings.input is None:
            made_size = "x".join(map(str, settings.size or DEFAULT_SIZE))
            say(f"making a synthetic clip of {settings.frames} frames at {made_size}")
        else:
            resized = f", resized to {settings.size[0]}x{settings.size[1]}" if settings.size else ""
            say(f"copying the first {settings.frames} frames of {settings.input}{resized}")
        frames, rate = prepare_clip(settings, clip)
        first = _first_frame(clip)
        height, width = first.shape[:2]
        work_h, work_w = processing_size(height, width, stylizer.scale)
        report["settings"] = {
            **asdict(settings),
            "size": f"{width}x{height}",
            "frames": frames,
            "source_fps": _rounded(rate),
            "style": style_name,
            "scale": stylizer.scale,
            "processing_size": f"{work_w}x{work_h}",
            "device": str(device),
            "cpu_threads": torch.get_num_threads(),
            "backend": stylizer.backend.name,
            "precision": stylizer.precision.name,
            "computes_in": stylizer.backend.computes_in or stylizer.precision.name,
        }
        report["size"], report["frames"] = f"{width}x{height}", frames
        if "model" in settings.parts:
            report["model"] = []
            for backend in settings.backends:
                for precision in settings.precisions:
                    say(
                        f"model, {backend}, {precision} precision, at {work_w}x{work_h} (the processing size of {width}x{height}), "
                        f"batch {settings.batch}, {settings.repeats} timed call(s) after the first"
                    )
                    entry = time_model(stylizer.model, device, backend, precision, (work_h, work_w), settings.batch, settings.repeats)
                    report["model"].append(entry)
                    say(_model_line(entry))
        if "file" in settings.parts or "webcam" in settings.parts:
            chosen = f"{stylizer.backend.name} {stylizer.precision.name}"
            if inside := computes_inside(stylizer.backend, stylizer.precision.name):
                chosen += f" ({inside} inside)"
            say(f"first frame, {chosen} at {width}x{height}, batch {settings.batch} (where the back end compiles or tunes)")
            warm = warm_up(stylizer, first, settings.batch)
            report["first_frame"] = {
                "backend": stylizer.backend.name,
                "ms": _rounded(warm, 1),
                "network_first_call_ms": _rounded(stylizer.backend.first_call_ms, 1),
                "setup_ms": _rounded(stylizer.backend.setup_ms, 1),
            }
            if stylizer.backend.fell_back:
                report["first_frame"]["fell_back"] = stylizer.backend.fell_back
            say(f"first frame: {report['first_frame']['ms']:g} ms on {stylizer.backend.name}")
            if settings.batch > 1 and "webcam" in settings.parts:
                for _ in range(PAD_SMALLER_BATCHES + 1):  # until single frames (the webcam's) have a compiled graph of their own
                    warm_up(stylizer, first, 1)
        if "file" in settings.parts:
            say(f"file, {frames} frames at {width}x{height}: the classic loop (fp32, OpenCV), then stylecam's at batch {settings.batch}")
            report["file"] = time_file(clip, workdir, stylizer, style_name, frames, settings.batch)
            say(_file_line(report["file"]))
        if "webcam" in settings.parts:
            say(f"webcam, the clip played as a camera at {rate:g} fps (newest frame only), one frame at a time")
            report["webcam"] = time_webcam(clip, stylizer)
            say(_webcam_line(report["webcam"]))
    return report
