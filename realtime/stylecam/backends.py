"""What runs the network: eager PyTorch, torch.compile, ONNX Runtime or OpenVINO; ``auto`` picks.

A back end is a callable: (B, 3, H, W) RGB at the Stylizer's precision on its device -> the
network's output, same shape. Every back end takes any frame size (the network pads to a
multiple of 4 and crops back); each records how long its first call took (``first_call_ms``),
which is what a user waits for before the first frame (compilation included).

``auto``:
- CUDA: compile (fp16), several times faster than eager at 1080p (README, "Back ends").
- CPU: whichever of eager, onnx and openvino (those installed) runs this network fastest on
  this machine, measured once per CPU, thread count and network shape (``fastest_cpu_backend``)
  and remembered in the cache folder. Which one wins depends on the CPU and on what else runs
  on it (train/evidence/README.md, "Back ends on the CPU"), so it is measured, not assumed.
- MPS and anything else: eager.

``export_style_onnx`` writes a style as a self-contained ONNX graph for other programs
(`stylecam export`), through the same exporter as the onnx and openvino back ends' cache.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import importlib.util
import io
import json
import logging
import os
import platform
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stylecam.choices import BACKENDS  # noqa: F401  (their home; importers of this module find them here too)
from stylecam.devices import Precision, pick_precision
from stylecam.errors import StylecamError, StylecamWarning
from stylecam.files import atomic_write
from stylecam.model import _STRIDE, MIN_SIDE, TransformerNet, pad_to_stride

# torch.compile's mode on CUDA. "reduce-overhead" records CUDA graphs: a video or a webcam has one
# frame shape, so each shape is captured once and then the whole network is replayed as one
# launch. That matters here because the decoding and encoding threads share the interpreter with
# the loop: a graph replay does not wait for the Python thread between the network's ~60 kernels.
# "max-autotune-no-cudagraphs" would benchmark kernel choices at the first start (minutes) for a
# network whose time is in cuDNN convolutions that inductor does not replace; not chosen without
# a measurement that shows it pays. On the CPU: inductor's default mode.
COMPILE_MODE_CUDA = "reduce-overhead"
PAD_SMALLER_BATCHES = 2  # calls of a smaller batch served by padding before it is compiled on its own
ONNX_OPSET = 17  # the onnx back end's cached graphs (the TorchScript exporter)
EXPORT_OPSET = 18  # `stylecam export`'s default: the oldest the dynamo exporter writes without converting
DYNAMO_MIN_OPSET = 18


class BackendError(StylecamError):
    """A back end that cannot run here (not installed, wrong device or precision)."""


def cache_dir() -> Path:
    """Where compiled kernels and exported graphs are kept between runs: $STYLECAM_CACHE_DIR, or the user's cache folder."""
    import platformdirs

    return Path(os.environ.get("STYLECAM_CACHE_DIR") or platformdirs.user_cache_dir("stylecam", appauthor=False))


def onnxruntime_available() -> bool:
    """Both halves of the onnx back end: onnx (the exporter writes with it) and onnxruntime."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def openvino_available() -> bool:
    """The openvino back end: OpenVINO converts the network from torch itself (no onnx needed)."""
    return importlib.util.find_spec("openvino") is not None


def cpu_backends() -> list[str]:
    """The back ends installed for the CPU, eager first."""
    return ["eager", *(["onnx"] if onnxruntime_available() else []), *(["openvino"] if openvino_available() else [])]


def openvino_bf16() -> bool:
    """Whether OpenVINO runs bf16 on this CPU at full speed (AVX-512 BF16 or AMX)."""
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def resolve_backend(name: str, device: torch.device, precision: str | torch.dtype = "auto") -> str:
    """The back end ``name`` names, with ``auto`` resolved where it needs no measurement.

    On the CPU at fp32, ``auto`` stays ``auto``: ``make_backend`` measures which is fastest for the
    network (``fastest_cpu_backend``); when only eager is installed there is nothing to measure.
    """
    if name not in BACKENDS:
        raise BackendError(f"unknown back end '{name}' (choose from {', '.join(BACKENDS)})")
    if name != "auto":
        return name
    if device.type == "cuda":
        return "compile"
    if device.type == "cpu" and precision in ("auto", "fp32", torch.float32) and len(cpu_backends()) > 1:
        return "auto"
    return "eager"


def choose_precision(device: torch.device, requested: str = "auto", backend: str = "auto") -> Precision:
    """``auto`` on CUDA: fp16 with compile, fp32 with eager (eager fp16 measured slower than eager
    fp32; README, "Back ends"). Elsewhere fp32 (OpenVINO picks bf16 inside on CPUs made for it)."""
    if requested == "auto" and device.type == "cuda":
        chosen = resolve_backend(backend, device)
        return Precision(torch.float16 if chosen == "compile" else torch.float32)
    return pick_precision(device, requested)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


logger = logging.getLogger(__name__)


class Backend:
    """Base: times the first call; subclasses run the network in ``_forward``."""

    name = "eager"
    copies_weights = False  # True: runs a copy of the weights made when it was built (a change to the model does not reach it)

    def __init__(self, model: TransformerNet, device: torch.device):
        self.model = model
        self.device = device
        self.first_call_ms: float | None = None  # the first frame's wait, compilation included
        self.setup_ms = 0.0  # work done before the first call (exporting a graph, opening a session)
        self.fell_back: str | None = None  # why this back end runs eagerly instead, if it does
        # What a runtime that picks its own inside precision computes in ("fp32", "bf16"), for reports.
        self.computes_in: str | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.first_call_ms is not None:
            return self._forward(x)
        started = time.perf_counter()
        y = self._forward(x)
        synchronize(self.device)
        self.first_call_ms = (time.perf_counter() - started) * 1000
        return y

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class EagerBackend(Backend):
    name = "eager"


COMPILE_CACHE_VARIABLE = "TORCHINDUCTOR_CACHE_DIR"
SCOPED_CACHE_CALLS = 3  # calls per input shape that may compile (dynamo and inductor, then CUDA graph warm-up and recording)


def persistent_compile_cache() -> Path | None:
    """stylecam's folder for inductor's caches (FX graphs, kernels, autotuning), or None where the
    user chose one with $TORCHINDUCTOR_CACHE_DIR: torch's default lives in /tmp, which a reboot
    empties, so every start would compile again (half a minute on a CPU)."""
    if os.environ.get(COMPILE_CACHE_VARIABLE):
        return None
    return cache_dir() / "inductor"


@contextlib.contextmanager
def _compile_cache_scope(folder: Path | None):
    """$TORCHINDUCTOR_CACHE_DIR set to ``folder`` while the block runs, then put back as it was.

    Inductor reads the folder only from that variable, when torch.compile is first used and
    while it compiles, so the variable is set around those calls and the caller's environment is
    left as it was between them (torch itself writes its default there when it finds none, which
    this undoes too). ``None``: nothing to do (the user's choice stands).
    """
    if folder is None:
        yield
        return
    previous = os.environ.get(COMPILE_CACHE_VARIABLE)
    os.environ[COMPILE_CACHE_VARIABLE] = str(folder)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(COMPILE_CACHE_VARIABLE, None)
        else:
            os.environ[COMPILE_CACHE_VARIABLE] = previous


class CompiledBackend(Backend):
    """torch.compile, one graph per frame shape (dynamic=False: a video or a camera has one shape).

    A compilation that fails (no C++ compiler, no Triton, an unsupported GPU) falls back to eager
    with one warning line; the frames come out all the same.
    """

    name = "compile"

    def __init__(self, model: TransformerNet, device: torch.device, compiler: str | object = "inductor"):
        super().__init__(model, device)
        self.cache_folder = persistent_compile_cache()  # set only around the calls that compile (_compile_cache_scope)
        self.mode = COMPILE_MODE_CUDA if device.type == "cuda" else None
        self._cudagraphs = compiler == "inductor" and self.mode == "reduce-overhead"
        options = {"mode": self.mode} if compiler == "inductor" and self.mode else {}
        with _compile_cache_scope(self.cache_folder):  # torch.compile's first use imports modules that read the folder
            self._compiled = torch.compile(model, backend=compiler, dynamic=False, **options)
        self._largest: dict[tuple[int, ...], int] = {}  # per frame shape, the largest batch compiled
        self._seen: dict[tuple[int, ...], int] = {}  # calls per (batch, frame shape)
        self._calls_at: dict[tuple[int, ...], int] = {}  # calls of the compiled network per input shape (after padding)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._compiled is None:
            return self.model(x)
        count, shape = x.shape[0], tuple(x.shape[1:])
        self._seen[(count, *shape)] = self._seen.get((count, *shape), 0) + 1
        largest = self._largest.get(shape, 0)
        if count < largest and self._seen[(count, *shape)] <= PAD_SMALLER_BATCHES:
            # A video's last, smaller batch: repeating a frame to fill the compiled batch costs one
            # call of spare work, compiling a graph for it costs seconds. A smaller batch that keeps
            # coming (single frames after a file) gets its own graph instead.
            x = torch.cat([x, x[-1:].expand(largest - count, *shape)])
        else:
            self._largest[shape] = max(largest, count)
        # Only the first calls at a shape compile; setting the variable at every frame would race other threads' getenv.
        called = self._calls_at[tuple(x.shape)] = self._calls_at.get(tuple(x.shape), 0) + 1
        may_compile = called <= SCOPED_CACHE_CALLS
        try:
            if self._cudagraphs:
                torch.compiler.cudagraph_mark_step_begin()
            with _compile_cache_scope(self.cache_folder if may_compile else None):
                y = self._compiled(x)
        except Exception as error:  # noqa: BLE001 - any compiler failure: the eager network still works
            self._compiled = None
            self.fell_back = _root_cause(error)
            warnings.warn(f"torch.compile failed ({self.fell_back}); running the network without it", StylecamWarning, stacklevel=2)
            return self.model(x[:count])
        # A CUDA graph's output lives in a buffer the next replay overwrites: a copy is the caller's.
        y = y[:count]
        return y.clone() if self._cudagraphs else y


def _root_cause(error: BaseException) -> str:
    """'Type: first line' of the innermost cause: dynamo wraps a compiler's error in its own, whose first line says little."""
    while (inner := getattr(error, "inner_exception", None) or error.__cause__) is not None:
        error = inner
    first_line = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {first_line[:200]}"


def weights_key(model: torch.nn.Module) -> str:
    """sha256 of the network's layout and weights: names, shapes and fp32 values of its state_dict.

    The key of an exported graph. Hashing the weights rather than the style file lets a Stylizer
    whose model was swapped in memory (the webcam's style keys) find its graph as well.
    """
    digest = hashlib.sha256(type(model).__name__.encode())
    for name, tensor in model.state_dict().items():
        values = tensor.detach().to("cpu", torch.float32).contiguous()
        digest.update(f"{name}{tuple(values.shape)}".encode())
        digest.update(values.numpy().tobytes())
    return digest.hexdigest()


class _Body(torch.nn.Module):
    """The network without its size-dependent padding and crop: the onnx back end's graph."""

    def __init__(self, model: TransformerNet):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.body(x)


class _Whole(torch.nn.Module):
    """What stylecam does to a frame at processing scale 1: pad to the stride, the network, crop back, clamp.

    Written without a branch on the size, so that a graph traced at one size is right at every
    other: ``pad_to_stride`` pads by 0 to 3 rows as the size asks, which a trace would freeze at
    the example's amount. Padding by the most (3) and keeping the first rows up to the next
    multiple of 4 gives the same pixels: reflected rows come in the same order whatever their
    number. Needs sides of at least MIN_SIDE (the network's inner reflection pads).
    """

    def __init__(self, model: TransformerNet):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2], x.shape[-1]
        most = _STRIDE - 1
        padded = F.pad(x, (0, most, 0, most), mode="reflect")
        padded = padded[..., : (height + most) // _STRIDE * _STRIDE, : (width + most) // _STRIDE * _STRIDE]
        return self.model.body(padded)[..., :height, :width].clamp(0.0, 1.0)


# The contract of a graph that ``export_style_onnx`` writes, also recorded in its metadata_props.
GRAPH_INPUT = (
    f"frames: float32 RGB, (batch, 3, height, width), values in [0, 1], any batch, sides of at least {MIN_SIDE}; "
    "processed at the size given: resize by stylecam.default_scale first to paint as stylecam does"
)
GRAPH_OUTPUT = "stylized: float32 RGB, the input's shape, values in [0, 1] (multiply by 255 and round for 8-bit pixels)"
EXPORTERS = ("dynamo", "torchscript")


@dataclass(frozen=True)
class OnnxExport:
    """What ``export_style_onnx`` wrote: where, with which exporter (and why not the other), at which opset."""

    path: Path
    exporter: str
    opset: int
    fallback_reason: str | None = None  # why the dynamo exporter was not used, when it was asked for


@contextlib.contextmanager
def _quiet_loggers(*names: str):
    """Only errors from these loggers while the block runs; their levels are put back after."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _write_graph(module: torch.nn.Module, path: Path, opset: int, dynamo: bool) -> tuple[str, str | None]:
    """``module`` ((B, 3, H, W) float32 -> the same shape) as an ONNX graph in ``path``, dynamic batch, height and width.

    With ``dynamo``, the modern exporter (torch.export, needs onnxscript) when it works, else the
    TorchScript exporter with dynamic axes. Returns the exporter used and why dynamo was not.
    The one place both the back end's cache and `stylecam export` export through.
    """
    example = torch.rand(2, 3, 64, 64)  # a batch of 2: torch.export would take a batch of 1 for a constant
    names = {"input_names": ["frames"], "output_names": ["stylized"], "opset_version": opset}
    reason = None
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporters' notes on constant folding are not the user's business
        if dynamo:
            if importlib.util.find_spec("onnxscript") is None:
                reason = "onnxscript is not installed"
            elif opset < DYNAMO_MIN_OPSET:
                reason = f"the dynamo exporter writes opset {DYNAMO_MIN_OPSET} and newer"
            else:
                try:
                    sides = {
                        0: torch.export.Dim("batch"),
                        2: torch.export.Dim("height", min=MIN_SIDE),
                        3: torch.export.Dim("width", min=MIN_SIDE),
                    }
                    # The exporter reports each of its steps (print and logging): not the user's business either.
                    with contextlib.redirect_stdout(io.StringIO()), _quiet_loggers("torch.onnx", "onnxscript"):
                        torch.onnx.export(
                            module, (example,), str(path), dynamo=True, external_data=False, dynamic_shapes=(sides,), verbose=False, **names
                        )
                    return "dynamo", None
                except Exception as error:  # noqa: BLE001 - any failure of the new exporter: the TorchScript one still works
                    reason = _root_cause(error)
        axes = {0: "batch", 2: "height", 3: "width"}
        # The TorchScript exporter: needs no onnxscript, and dynamic_axes is all these graphs need.
        torch.onnx.export(module, (example,), str(path), dynamo=False, dynamic_axes={"frames": axes, "stylized": axes}, **names)
    return "torchscript", reason


def export_onnx(model: TransformerNet, folder: Path | None = None) -> Path:
    """The network's body as an ONNX graph with dynamic batch, height and width, cached by its weights.

    The sides must be multiples of 4 (OnnxBackend pads and crops around it, in torch).
    """
    folder = folder or cache_dir() / "onnx"
    path = folder / f"{weights_key(model)[:32]}-opset{ONNX_OPSET}.onnx"
    if path.is_file():
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackendError(f"the cache folder {folder} cannot be created ({error.strerror})") from error
    body = _Body(copy.deepcopy(model).to("cpu", torch.float32).eval())
    try:
        with atomic_write(path) as partial:
            _write_graph(body, partial, ONNX_OPSET, dynamo=False)
    except Exception as error:
        raise BackendError(f"the network cannot be exported to ONNX ({type(error).__name__}: {error})") from error
    return path


def export_style_onnx(model: TransformerNet, path: Path, properties: dict[str, str], opset: int = EXPORT_OPSET) -> OnnxExport:
    """A self-contained ONNX graph of what stylecam does to a frame at processing scale 1, written atomically to ``path``.

    Input ``frames`` and output ``stylized`` as GRAPH_INPUT and GRAPH_OUTPUT say: the padding to
    the stride, the crop back and the clamp are in the graph; the processing scale's resize is
    not (the caller gives the frame at the size it wants painted). ``properties`` (the style's
    name, scale, credit) go into the model's metadata_props with the contract. The caller has
    checked that ``path`` may be written.
    """
    import onnx

    whole = _Whole(copy.deepcopy(model).to("cpu", torch.float32).eval())
    props = {"stylecam.input": GRAPH_INPUT, "stylecam.output": GRAPH_OUTPUT, **properties}
    try:
        with atomic_write(path) as partial:
            exporter, reason = _write_graph(whole, partial, opset, dynamo=True)
            graph = onnx.load(str(partial))
            props["stylecam.exporter"] = exporter
            for key, value in props.items():
                graph.metadata_props.add(key=key, value=value)
            graph.doc_string = f"stylecam style {props.get('stylecam.style', '')}: {GRAPH_INPUT}. {GRAPH_OUTPUT}."
            onnx.checker.check_model(graph)
            onnx.save(graph, str(partial))
    except Exception as error:
        raise BackendError(f"the network cannot be exported to ONNX at opset {opset} ({_root_cause(error)})") from error
    # What the file declares: the dynamo exporter may write its own opset and convert it down.
    written = next((entry.version for entry in graph.opset_import if entry.domain in ("", "ai.onnx")), opset)
    return OnnxExport(path=path, exporter=exporter, opset=written, fallback_reason=reason)


class _CpuGraphBackend(Backend):
    """A runtime on the CPU that runs its own copy of the network's body (ONNX Runtime, OpenVINO).

    The reflection padding to a multiple of 4 and the crop back happen here, in torch, around a
    graph made for any size; ``_run`` takes the padded (B, 3, H, W) float32 array. The graph holds
    the weights as they were when it was made (``copies_weights``).
    """

    copies_weights = True

    def __init__(self, model: TransformerNet, device: torch.device):
        super().__init__(model, device)
        if device.type != "cpu":
            raise BackendError(f"the {self.name} back end runs on the CPU, not {device.type} (use --backend compile or eager there)")

    def _run(self, padded: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        padded = pad_to_stride(x.float()).contiguous()
        return torch.from_numpy(self._run(padded.numpy()))[..., :height, :width]


class OnnxBackend(_CpuGraphBackend):
    """ONNX Runtime on the CPU, fp32, on the graph of ``export_onnx``."""

    name = "onnx"

    def __init__(self, model: TransformerNet, device: torch.device, precision: Precision):
        super().__init__(model, device)
        if precision.dtype != torch.float32:
            raise BackendError(f"the onnx back end runs in fp32, not {precision.name} (use --precision fp32 or auto)")
        try:
            import onnx  # noqa: F401 - the exporter needs it; asked here for a clear message
            import onnxruntime
        except ImportError as error:
            raise BackendError(f"the onnx back end needs onnx and onnxruntime ({error}; pip install 'stylecam[onnx]')") from error
        started = time.perf_counter()
        self.path = export_onnx(model)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # the same cores torch was given
        options.inter_op_num_threads = 1  # one chain of layers: nothing to run side by side
        options.log_severity_level = 3  # errors only
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # a damaged cache file: export again once
            self.path.unlink(missing_ok=True)
            try:
                self.path = export_onnx(model)
                self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            except Exception as again:
                raise BackendError(f"ONNX Runtime cannot load {self.path} ({again})") from error
        self.setup_ms = (time.perf_counter() - started) * 1000

    def _run(self, padded: np.ndarray) -> np.ndarray:
        (y,) = self.session.run(None, {"frames": padded})
        return y


def export_openvino(model: TransformerNet, folder: Path | None = None) -> Path:
    """The network's body as an OpenVINO model (IR: .xml and .bin) with dynamic batch, height and
    width, converted from torch by OpenVINO and cached by the weights; returns the .xml.

    The sides must be multiples of 4 (OpenVinoBackend pads and crops around it, in torch). The
    pair is written in a folder of its own that is renamed into place, so a reader never finds
    one half.
    """
    import openvino

    root = folder or cache_dir() / "openvino"
    final = root / f"{weights_key(model)[:32]}-ov{openvino.__version__.split('-')[0]}"
    xml = final / "network.xml"
    if xml.is_file() and xml.with_suffix(".bin").is_file():
        return xml
    body = _Body(copy.deepcopy(model).to("cpu", torch.float32).eval())
    try:
        root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    except OSError as error:
        raise BackendError(f"the cache folder {root} cannot be written ({error.strerror})") from error
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # torch.jit.trace's deprecation notes, from OpenVINO's converter
            converted = openvino.convert_model(body, example_input=torch.rand(1, 3, 64, 64), input=[openvino.PartialShape([-1, 3, -1, -1])])
        openvino.save_model(converted, str(partial / "network.xml"), compress_to_fp16=False)
        try:
            partial.rename(final)
        except OSError:  # another process put it there first: theirs is the same network
            if not xml.is_file():
                raise
    except Exception as error:
        raise BackendError(f"OpenVINO cannot convert the network ({_root_cause(error)})") from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return xml


class OpenVinoBackend(_CpuGraphBackend):
    """OpenVINO on the CPU, on the model of ``export_openvino``. At auto's fp32 the CPU plugin chooses its
    inference precision itself: bf16 on CPUs with AVX-512 BF16 or AMX, f32 elsewhere. ``--precision fp32``
    keeps f32 everywhere; ``--precision bf16`` asks for bf16 and is refused on a CPU without it
    (OpenVINO would emulate it slowly). ``computes_in`` says which one runs ("fp32", "bf16")."""

    name = "openvino"

    def __init__(self, model: TransformerNet, device: torch.device, precision: Precision):
        super().__init__(model, device)
        if precision.dtype not in (torch.float32, torch.bfloat16):
            raise BackendError(f"the openvino back end runs in fp32 or bf16, not {precision.name}")
        try:
            import openvino
        except ImportError as error:
            raise BackendError(f"the openvino back end needs OpenVINO ({error}; pip install 'stylecam[cpu]')") from error
        config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": torch.get_num_threads()}
        if precision.dtype == torch.bfloat16:
            if not openvino_bf16():
                raise BackendError("this CPU has no bf16 instructions (AVX-512 BF16 or AMX) for OpenVINO; use --precision fp32")
            config["INFERENCE_PRECISION_HINT"] = "bf16"
        elif precision.exact:
            config["INFERENCE_PRECISION_HINT"] = "f32"
        started = time.perf_counter()
        core = openvino.Core()
        self.path = export_openvino(model)
        try:
            compiled = core.compile_model(core.read_model(str(self.path)), "CPU", config)
        except Exception as error:  # noqa: BLE001 - a damaged cache entry: convert again once
            shutil.rmtree(self.path.parent, ignore_errors=True)
            try:
                self.path = export_openvino(model)
                compiled = core.compile_model(core.read_model(str(self.path)), "CPU", config)
            except Exception as again:  # noqa: BLE001
                raise BackendError(f"OpenVINO cannot compile {self.path} ({_root_cause(again)})") from error
        inside = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()  # "f32" or "bf16"
        self.computes_in = "fp32" if inside == "f32" else inside
        self.output = compiled.output(0)
        self.request = compiled.create_infer_request()
        self.setup_ms = (time.perf_counter() - started) * 1000

    def _run(self, padded: np.ndarray) -> np.ndarray:
        return self.request.infer({0: padded})[self.output].copy()  # copy: the request reuses its output buffer


def _build(name: str, model: TransformerNet, device: torch.device, precision: Precision) -> Backend:
    if name == "eager":
        return EagerBackend(model, device)
    if name == "compile":
        return CompiledBackend(model, device)
    if name == "onnx":
        return OnnxBackend(model, device, precision)
    if name == "openvino":
        return OpenVinoBackend(model, device, precision)
    raise BackendError(f"unknown back end '{name}'")


# The auto measurement: a frame of this size (processing size of a 640x480 webcam at a typical
# scale), MEASURE_CALLS timed calls after a warm-up, the fastest call of each back end counted
# (the least disturbed by other work).
MEASURE_SIZE = (240, 320)
MEASURE_CALLS = 3
CHOICE_FILE = "cpu-backend-choice.json"


@functools.cache
def _cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what the platform module says; read once."""
    fallback = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), fallback)
    return fallback


def _choice_key(model: TransformerNet, candidates: list[str], precision: Precision) -> str:
    shape = f"width {model.width}, {model.blocks} blocks, edges {model.edge_kernel}"
    key = f"{_cpu_name()} | {torch.get_num_threads()} threads | torch {torch.__version__} | {shape} | {'/'.join(candidates)}"
    # An asked-for fp32 is measured apart: OpenVINO may run bf16 inside at auto's and not at this one.
    return f"{key} | fp32 asked for" if precision.exact else key


def _time_backend(backend: Backend, calls: int = MEASURE_CALLS) -> float:
    x = torch.rand(1, 3, *MEASURE_SIZE)
    with torch.inference_mode():
        backend(x)  # the first call warms up (allocations, kernel choices)
        best = float("inf")
        for _ in range(calls):
            started = time.perf_counter()
            backend(x)
            best = min(best, time.perf_counter() - started)
    return best


def fastest_cpu_backend(model: TransformerNet, device: torch.device, precision: Precision) -> Backend:
    """The installed CPU back end that runs ``model`` fastest here, measured once and remembered.

    The choice is kept in the cache folder per CPU model, thread count, torch version, network
    shape and set of installed back ends; delete the file (its path is logged) to measure again.
    A back end that fails to start is left out with a warning.
    """
    candidates = cpu_backends()
    key = _choice_key(model, candidates, precision)
    choice_path = cache_dir() / CHOICE_FILE
    try:
        remembered = json.loads(choice_path.read_text())
        if not isinstance(remembered, dict):
            remembered = {}
    except (OSError, ValueError):
        remembered = {}
    known = remembered.get(key)
    if isinstance(known, dict) and known.get("backend") in candidates:
        try:
            return _build(known["backend"], model, device, precision)
        except BackendError as error:
            warnings.warn(f"{error}; measuring the other back ends", StylecamWarning, stacklevel=2)
    built: dict[str, Backend] = {}
    seconds: dict[str, float] = {}
    for name in candidates:
        try:
            built[name] = _build(name, model, device, precision)
            seconds[name] = _time_backend(built[name])
        except BackendError as error:
            warnings.warn(f"{error}; --backend auto leaves {name} out", StylecamWarning, stacklevel=2)
            built.pop(name, None)
    fastest = min(seconds, key=seconds.__getitem__)
    remembered[key] = {"backend": fastest, "ms": {name: round(value * 1000, 1) for name, value in seconds.items()}}
    with contextlib.suppress(OSError):  # a read-only cache folder: measured again next time
        choice_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(choice_path) as partial:
            partial.write_text(json.dumps(remembered, indent=1))
    logger.debug(
        "--backend auto: %s measured fastest here (%s ms a %dx%d frame); kept in %s",
        fastest,
        ", ".join(f"{name} {value * 1000:.0f}" for name, value in seconds.items()),
        MEASURE_SIZE[1],
        MEASURE_SIZE[0],
        choice_path,
    )
    return built[fastest]


def make_backend(name: str, model: TransformerNet, device: torch.device, precision: Precision) -> Backend:
    """The back end ``name`` for ``model`` (already on ``device`` at ``precision``); ``auto`` resolved here."""
    chosen = resolve_backend(name, device, precision.dtype)
    if chosen == "auto":
        return fastest_cpu_backend(model, device, precision)
    return _build(chosen, model, device, precision)
