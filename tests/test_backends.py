"""Back ends: each one gives eager fp32's frames (within a stated tolerance), at odd sizes too;
auto and the precision follow the measured choices; failures are one line."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from conftest import make_style
from stylecam import backends
from stylecam.backends import BackendError, CompiledBackend, choose_precision, export_onnx, make_backend, resolve_backend
from stylecam.devices import Precision
from stylecam.errors import StylecamWarning
from stylecam.frames import Stylizer
from stylecam.model import TransformerNet
from test_cli import assert_one_line_error, run_cli

CPU = torch.device("cpu")
FP32 = Precision(torch.float32, exact=True)  # --precision fp32
AUTO_FP32 = Precision(torch.float32)  # what --precision auto gives on a CPU
# fp32 through another runtime sums the same products in another order: measured differences are
# below 1e-5 on outputs of order 1; 1e-4 leaves room and is still far below one uint8 level (0.004).
TOLERANCE = 1e-4
needs_onnxruntime = pytest.mark.skipif(not backends.onnxruntime_available(), reason="onnx or onnxruntime is not installed")


def _model(seed: int = 0) -> TransformerNet:
    torch.manual_seed(seed)
    return TransformerNet(width=8).eval()


def _eager(model: TransformerNet, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model(x)


@needs_onnxruntime
def test_onnx_matches_eager_at_odd_sizes_it_was_not_exported_at():
    model = _model()
    runner = make_backend("onnx", model, CPU, FP32)
    # A graph of the whole forward, exported at one size, is off by about 1 at 243x321 (measured):
    # the padding must stay outside the graph. Odd, even and multiple-of-4 sides, batches of 1 and 2.
    for batch, height, width in ((2, 241, 321), (1, 64, 96), (1, 243, 322), (2, 17, 30)):
        x = torch.rand(batch, 3, height, width)
        with torch.inference_mode():
            y = runner(x)
        assert y.shape == (batch, 3, height, width)
        assert (y - _eager(model, x)).abs().max().item() < TOLERANCE
    assert runner.first_call_ms is not None and runner.first_call_ms > 0


@needs_onnxruntime
def test_onnx_export_is_cached_by_the_weights(monkeypatch, tmp_path):
    model = _model(seed=1)
    first = export_onnx(model, tmp_path)
    calls = []

    def counting_export(module, example, path, **options):
        calls.append(1)
        open(path, "wb").close()

    monkeypatch.setattr(torch.onnx, "export", counting_export)
    assert export_onnx(copy.deepcopy(model), tmp_path) == first and calls == []  # same weights: no second export
    export_onnx(_model(seed=2), tmp_path)
    assert calls == [1]  # other weights: another graph


@needs_onnxruntime
def test_onnx_refuses_what_it_cannot_run():
    with pytest.raises(BackendError, match="fp32"):
        make_backend("onnx", _model(), CPU, Precision(torch.float16))


def test_onnx_without_onnxruntime_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)  # import onnxruntime raises ImportError
    with pytest.raises(BackendError, match=r"pip install 'stylecam\[onnx\]'"):
        make_backend("onnx", _model(), CPU, FP32)


@pytest.mark.slow
def test_compile_matches_eager_on_the_cpu(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    model = _model()
    runner = make_backend("compile", model, CPU, FP32)
    x = torch.rand(2, 3, 241, 321)
    with torch.inference_mode():
        y = runner(x)
        smaller = runner(x[:1])  # a video's last, smaller batch: padded to the compiled one
    assert runner.fell_back is None
    assert (y - _eager(model, x)).abs().max().item() < TOLERANCE
    assert smaller.shape == (1, 3, 241, 321) and (smaller - _eager(model, x[:1])).abs().max().item() < TOLERANCE
    assert runner.first_call_ms > 0


def test_a_compile_failure_runs_eager_with_one_warning(capsys):
    def broken_compiler(graph, example_inputs):
        raise RuntimeError("no C++ compiler here\nsecond line of a long story")

    model = _model()
    runner = CompiledBackend(model, CPU, compiler=broken_compiler)
    x = torch.rand(1, 3, 33, 47)
    with pytest.warns(StylecamWarning) as caught, torch.inference_mode():
        first, second = runner(x), runner(x)
    assert len(caught) == 1, [str(w.message) for w in caught]
    text = str(caught[0].message)
    assert text.startswith("torch.compile failed") and "no C++ compiler here" in text and "\n" not in text
    assert capsys.readouterr().err == ""  # the library warns; printing is the CLI's business
    assert torch.equal(first, _eager(model, x)) and torch.equal(second, first)
    assert runner.fell_back


def test_a_video_s_last_smaller_batch_borrows_the_compiled_batch_but_single_frames_get_their_own():
    model = _model()
    runner = CompiledBackend(model, CPU, compiler="eager")  # dynamo without code generation: quick, same wrapping
    batches = []
    compiled = runner._compiled
    runner._compiled = lambda x: batches.append(x.shape[0]) or compiled(x)
    x = torch.rand(4, 3, 32, 48)
    with torch.inference_mode():
        assert (runner(x) - _eager(model, x)).abs().max().item() < TOLERANCE
        tail = runner(x[:3])  # the last batch of a video
        assert tail.shape[0] == 3 and (tail - _eager(model, x[:3])).abs().max().item() < TOLERANCE
        for _ in range(3):
            runner(x[:1])  # then single frames, again and again
    assert batches == [4, 4, 4, 4, 1]  # padded twice, then compiled for itself


def test_auto_resolves_without_measuring_where_there_is_one_choice(monkeypatch):
    assert resolve_backend("auto", torch.device("cuda")) == "compile"
    assert resolve_backend("auto", torch.device("mps")) == "eager"
    monkeypatch.setattr(backends, "cpu_backends", lambda: ["eager", "onnx"])
    assert resolve_backend("auto", CPU) == "auto"  # measured by make_backend
    assert resolve_backend("auto", CPU, "bf16") == "eager"
    monkeypatch.setattr(backends, "cpu_backends", lambda: ["eager"])
    assert resolve_backend("auto", CPU) == "eager"
    assert resolve_backend("eager", torch.device("cuda")) == "eager"
    with pytest.raises(BackendError, match="unknown back end"):
        resolve_backend("tensorrt", CPU)


class _Timed(backends.Backend):
    """A back end whose speed the test sets: ``seconds`` per call."""

    def __init__(self, name, model, seconds, built):
        super().__init__(model, CPU)
        self.name, self.seconds = name, seconds
        built.append(name)

    def _forward(self, x):
        import time

        time.sleep(self.seconds)
        return x  # no network: the sleep alone sets the speed


def test_auto_on_the_cpu_runs_what_measures_fastest_and_remembers_it(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLECAM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(backends, "cpu_backends", lambda: ["eager", "onnx", "openvino"])
    speed = {"eager": 0.06, "onnx": 0.005, "openvino": 0.03}
    built: list[str] = []
    monkeypatch.setattr(backends, "_build", lambda name, model, device, precision: _Timed(name, model, speed[name], built))
    model = _model()
    assert make_backend("auto", model, CPU, FP32).name == "onnx"
    assert sorted(built) == ["eager", "onnx", "openvino"]  # each was measured
    remembered = __import__("json").loads((tmp_path / backends.CHOICE_FILE).read_text())
    (entry,) = remembered.values()
    assert entry["backend"] == "onnx" and set(entry["ms"]) == {"eager", "onnx", "openvino"}
    built.clear()
    speed["openvino"] = 0.0  # faster now, but the choice is remembered: no second measurement
    assert make_backend("auto", model, CPU, FP32).name == "onnx" and built == ["onnx"]
    assert make_backend("auto", TransformerNet(width=4).eval(), CPU, FP32).name == "openvino"  # another shape: measured


def test_auto_leaves_out_a_back_end_that_cannot_start(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLECAM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(backends, "cpu_backends", lambda: ["eager", "openvino"])
    real_build = backends._build

    def build(name, model, device, precision):
        if name == "openvino":
            raise BackendError("OpenVINO cannot compile this")
        return real_build(name, model, device, precision)

    monkeypatch.setattr(backends, "_build", build)
    with pytest.warns(StylecamWarning, match="auto leaves openvino out"):
        assert make_backend("auto", _model(), CPU, FP32).name == "eager"


needs_openvino = pytest.mark.skipif(not backends.openvino_available(), reason="openvino is not installed")


@needs_openvino
def test_openvino_matches_eager_at_odd_sizes_and_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLECAM_CACHE_DIR", str(tmp_path))
    model = _model()
    runner = make_backend("openvino", model, CPU, FP32)
    for batch, height, width in ((2, 241, 321), (1, 64, 96), (1, 17, 30)):
        x = torch.rand(batch, 3, height, width)
        with torch.inference_mode():
            y = runner(x)
        assert y.shape == (batch, 3, height, width)
        assert (y - _eager(model, x)).abs().max().item() < TOLERANCE
    (cached,) = (tmp_path / "openvino").iterdir()
    assert sorted(path.name for path in cached.iterdir()) == ["network.bin", "network.xml"]
    again = make_backend("openvino", copy.deepcopy(model), CPU, FP32)  # the cached model, not converted again
    assert list((tmp_path / "openvino").iterdir()) == [cached]
    x = torch.rand(1, 3, 50, 70)
    with torch.inference_mode():
        assert torch.equal(again(x), runner(x))


@needs_openvino
def test_openvino_keeps_an_asked_for_fp32_and_picks_its_own_precision_at_auto(tmp_path, monkeypatch):
    """--precision fp32 is fp32 on every CPU; auto lets OpenVINO run bf16 inside where the CPU has it."""
    monkeypatch.setenv("STYLECAM_CACHE_DIR", str(tmp_path))
    assert choose_precision(CPU, "fp32") == FP32 and choose_precision(CPU, "auto") == AUTO_FP32
    model = _model()
    assert make_backend("openvino", model, CPU, FP32).computes_in == "fp32"
    auto = make_backend("openvino", model, CPU, AUTO_FP32)
    assert auto.computes_in == ("bf16" if backends.openvino_bf16() else "fp32")
    x = torch.rand(1, 3, 40, 56)
    with torch.inference_mode():
        # bf16 keeps 8 bits of mantissa: up to 0.05 measured on this random network's outputs in [0, 1]
        assert (auto(x) - _eager(model, x)).abs().max().item() < (0.1 if auto.computes_in == "bf16" else TOLERANCE)
    # auto's measured choice of back end is remembered apart for each: their speeds differ
    candidates = backends.cpu_backends()
    assert backends._choice_key(model, candidates, FP32) != backends._choice_key(model, candidates, AUTO_FP32)


@needs_openvino
def test_openvino_refuses_what_it_cannot_run(monkeypatch):
    with pytest.raises(BackendError, match="fp32 or bf16"):
        make_backend("openvino", _model(), CPU, Precision(torch.float16))
    monkeypatch.setattr(backends, "openvino_bf16", lambda: False)
    with pytest.raises(BackendError, match="no bf16 instructions"):
        make_backend("openvino", _model(), CPU, Precision(torch.bfloat16))


def test_openvino_without_openvino_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "openvino", None)
    with pytest.raises(BackendError, match=r"pip install 'stylecam\[cpu\]'"):
        make_backend("openvino", _model(), CPU, FP32)


@needs_openvino
def test_a_stylizer_on_openvino_follows_a_style_code_change(tmp_path):
    frame = np.random.default_rng(1).integers(0, 256, (61, 83, 3), dtype=np.uint8)
    style = make_style(tmp_path / "one.safetensors", seed=5)
    stylizer = Stylizer.from_style(style, device="cpu", backend="openvino", precision="fp32", scale=1.0)
    eager = Stylizer.from_style(style, device="cpu", backend="eager", precision="fp32", scale=1.0)
    assert stylizer.backend.name == "openvino"
    assert np.abs(stylizer.stylize(frame).astype(int) - eager.stylize(frame).astype(int)).max() <= 1


def test_auto_precision_on_cuda_is_fp16_compiled_and_fp32_eager():
    cuda = torch.device("cuda")
    assert choose_precision(cuda, "auto", "compile").name == "fp16"
    assert choose_precision(cuda, "auto", "auto").name == "fp16"  # auto is compile on CUDA
    assert choose_precision(cuda, "auto", "eager").name == "fp32"
    assert choose_precision(cuda, "bf16", "eager").name == "bf16"  # asked for: given
    assert choose_precision(CPU, "auto", "compile").name == "fp32"


@needs_onnxruntime
def test_a_stylizer_on_onnx_gives_eager_frames_and_follows_a_swapped_model(tmp_path):
    first = make_style(tmp_path / "first.safetensors", seed=3)
    second = make_style(tmp_path / "second.safetensors", seed=4)
    frame = np.random.default_rng(0).integers(0, 256, (241, 321, 3), dtype=np.uint8)
    onnx = Stylizer.from_style(first, device="cpu", backend="onnx", scale=1.0)
    eager = Stylizer.from_style(first, device="cpu", backend="eager", scale=1.0)
    assert onnx.backend.name == "onnx" and eager.backend.name == "eager"
    assert np.abs(onnx.stylize(frame).astype(int) - eager.stylize(frame).astype(int)).max() <= 1  # rounding at most
    from stylecam.weights import load_style

    _, other = load_style(second)
    onnx.set_model(copy.deepcopy(other))  # the webcam's next-style key
    eager.set_model(other)
    assert onnx.backend.name == "onnx"
    assert np.abs(onnx.stylize(frame).astype(int) - eager.stylize(frame).astype(int)).max() <= 1


@needs_onnxruntime
def test_video_with_the_onnx_backend(workdir, style_file, video_with_sound, capsys):
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, "--backend", "onnx", "--quiet", capsys=capsys)
    assert code == 0, err
    assert (workdir / "out.mp4").stat().st_size > 0


def test_an_impossible_backend_is_one_line(workdir, style_file, video_with_sound, capsys):
    argv = ("video", video_with_sound, "-o", "out.mp4", "--style", style_file, "--device", "cpu")
    code, _, err = run_cli(*argv, "--backend", "onnx", "--precision", "bf16", capsys=capsys)
    assert_one_line_error(code, err, "onnx", "fp32")
    assert not (workdir / "out.mp4").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_compile_fp16_on_cuda_is_close_to_eager_fp32():
    model = _model()
    cuda = torch.device("cuda")
    runner = make_backend("compile", copy.deepcopy(model).to(cuda, torch.float16), cuda, Precision(torch.float16))
    x = torch.rand(2, 3, 241, 321)
    with torch.inference_mode():
        y = runner(x.to(cuda, torch.float16)).float().cpu()
        y_again = runner(x.to(cuda, torch.float16)).float().cpu()  # a CUDA graph replay
    reference = _eager(model, x)
    assert runner.fell_back is None
    # fp16 keeps about 3 decimal digits: 1e-2 on outputs of order 1 is a few uint8 levels at most.
    assert (y - reference).abs().max().item() < 1e-2 and torch.equal(y, y_again)
