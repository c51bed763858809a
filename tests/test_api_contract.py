"""The API's contract with its caller: it leaves the process's settings alone (environment,
torch's threads) unless asked, and refuses bad inputs and settings with errors that are both
StylecamError and the built-in exception Python code expects."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import typing

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import make_style
from stylecam import Stylizer
from stylecam.backends import COMPILE_CACHE_VARIABLE, CompiledBackend
from stylecam.choices import MAX_SCALE
from stylecam.errors import NATIVE_LOG_SETTINGS, InputError, InputTypeError, SettingError, StylecamError, quiet_native_logs
from stylecam.model import TransformerNet

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def style_path(tmp_path_factory):
    return make_style(tmp_path_factory.mktemp("contract") / "random.safetensors")


@pytest.fixture(scope="module")
def stylizer(style_path) -> Stylizer:
    return Stylizer.from_style(style_path, device="cpu", backend="eager", scale=1.0)


@pytest.fixture
def gray() -> np.ndarray:
    """An 8-bit grey gradient: every value from 0 to 255 (a white picture would show at once)."""
    return np.arange(37 * 29, dtype=np.int64).reshape(29, 37).__mod__(256).astype(np.uint8)


# --- Task A: the process is left alone -------------------------------------------------------


def test_importing_stylecam_leaves_the_environment_unchanged():
    code = (
        "import os, sys; before = dict(os.environ); import stylecam; stylecam.StylecamError; "
        "changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)); print(changed)"
    )
    env = {key: value for key, value in os.environ.items() if key not in NATIVE_LOG_SETTINGS}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "[]", result.stdout


def test_a_stylizer_sets_none_of_stylecam_s_environment_variables(style_path):
    """From style to stylized frame on the CPU: no OpenCV log level, no inductor cache folder appears."""
    code = (
        "import os, sys, numpy as np; from stylecam import Stylizer; "
        f"s = Stylizer.from_style({str(style_path)!r}, device='cpu'); s(np.zeros((20, 30, 3), np.uint8)); "
        f"print(sorted(k for k in {sorted([*NATIVE_LOG_SETTINGS, COMPILE_CACHE_VARIABLE])!r} if k in os.environ))"
    )
    env = {key: value for key, value in os.environ.items() if key not in (*NATIVE_LOG_SETTINGS, COMPILE_CACHE_VARIABLE)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_quiet_native_logs_is_the_cli_s_and_keeps_what_the_user_set(monkeypatch):
    monkeypatch.delenv("OPENCV_LOG_LEVEL", raising=False)
    monkeypatch.setenv("OPENCV_FFMPEG_LOGLEVEL", "24")  # the user wants FFmpeg's warnings
    quiet_native_logs()
    assert os.environ["OPENCV_LOG_LEVEL"] == "SILENT"
    assert os.environ["OPENCV_FFMPEG_LOGLEVEL"] == "24"


@pytest.fixture
def one_thread():
    """torch set to one thread, as a caller might; put back afterwards for the other tests."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("backend", ["eager", "auto"])
def test_from_style_leaves_torch_s_thread_count_as_the_caller_set_it(style_path, one_thread, backend):
    Stylizer.from_style(style_path, device="cpu", backend=backend)(np.zeros((20, 30, 3), np.uint8))
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("backend", ["eager", "auto"])
def test_the_api_leaves_logging_and_warnings_configuration_alone(style_path, backend):
    import logging
    import warnings

    root, library = logging.getLogger(), logging.getLogger("stylecam")
    before = (list(root.handlers), root.level, list(library.handlers), library.level, library.propagate, warnings.showwarning)
    before_torch = logging.getLogger("torch.utils.cpp_extension").level
    Stylizer.from_style(style_path, device="cpu", backend=backend)(np.zeros((20, 30, 3), np.uint8))
    after = (list(root.handlers), root.level, list(library.handlers), library.level, library.propagate, warnings.showwarning)
    assert after == before and logging.getLogger("torch.utils.cpp_extension").level == before_torch


def test_the_cli_prints_a_library_warning_as_one_line():
    code = (
        "import warnings, stylecam.errors as e; e.report_on_stderr(); e.report_on_stderr(); "
        "warnings.warn('the onnx back end fell back', e.StylecamWarning); "
        "import logging; logging.getLogger('stylecam.backends').info('openvino measured fastest')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr.splitlines() == ["stylecam: warning: the onnx back end fell back", "stylecam: openvino measured fastest"]
    assert result.stdout == ""


def test_from_style_sets_the_thread_count_when_asked(style_path, one_thread):
    Stylizer.from_style(style_path, device="cpu", backend="eager", threads=2)
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_a_wrong_thread_count_is_a_setting_error(style_path, one_thread, threads):
    with pytest.raises(SettingError, match="threads"):
        Stylizer.from_style(style_path, device="cpu", backend="eager", threads=threads)
    assert torch.get_num_threads() == 1


def _recording_compiler(seen: list):
    def compiler(graph, example_inputs):
        seen.append(os.environ.get(COMPILE_CACHE_VARIABLE))
        return graph.forward

    return compiler


def test_the_compile_cache_folder_is_set_only_while_compiling(monkeypatch, tmp_path):
    monkeypatch.delenv(COMPILE_CACHE_VARIABLE, raising=False)
    seen: list = []
    runner = CompiledBackend(TransformerNet(width=8).eval(), CPU, compiler=_recording_compiler(seen))
    with torch.inference_mode():
        runner(torch.rand(1, 3, 32, 32))
    assert seen and seen[0] == str(runner.cache_folder) and seen[0].endswith("inductor")
    assert COMPILE_CACHE_VARIABLE not in os.environ


def test_a_user_s_compile_cache_folder_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv(COMPILE_CACHE_VARIABLE, str(tmp_path / "mine"))
    seen: list = []
    runner = CompiledBackend(TransformerNet(width=8).eval(), CPU, compiler=_recording_compiler(seen))
    with torch.inference_mode():
        runner(torch.rand(1, 3, 32, 32))
    assert runner.cache_folder is None and seen[0] == str(tmp_path / "mine")
    assert os.environ[COMPILE_CACHE_VARIABLE] == str(tmp_path / "mine")


def test_call_is_typed_for_each_kind_of_image():
    overloads = typing.get_overloads(Stylizer.__call__)
    hints = [typing.get_type_hints(overload, globalns={**vars(sys.modules["stylecam.frames"]), "Image": Image}) for overload in overloads]
    assert [(hint["image"], hint["return"]) for hint in hints] == [
        (np.ndarray, np.ndarray),
        (Image.Image, Image.Image),
        (torch.Tensor, torch.Tensor),
    ]


# --- Task B: inputs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((5, 0, 3), np.uint8), "an image of 0x5 pixels"),
        (np.zeros((0, 5, 3), np.uint8), "an image of 5x0 pixels"),
        (np.zeros((0, 5, 5, 3), np.uint8), "a batch of 0 images"),
        (np.zeros((), np.uint8), r"shape \(H, W, 3\).*got shape \(\)"),
        (np.zeros((5, 5, 4), np.uint8), "expected 3 channels, got 4"),
        (np.zeros((5, 5, 0), np.uint8), "expected 3 channels, got 0"),
        (np.zeros((5, 5, 3), np.float64), "uint8"),
        (torch.zeros(3, 0, 5), "an image of 5x0 pixels"),
        (torch.zeros(0, 3, 5, 5), "a batch of 0 images"),
        (torch.zeros(()), r"shape \(3, H, W\).*got shape \(\)"),
        (torch.zeros(4, 5, 5), "expected 3 channels, got 4"),
        (torch.zeros(3, 5, 5, dtype=torch.int64), "float tensor in \\[0, 1\\] or a uint8 tensor"),
        (Image.new("RGB", (0, 5)), "an image of 0x5 pixels"),
        (Image.new("L", (5, 0)), "an image of 5x0 pixels"),
    ],
)
def test_images_the_network_cannot_take_are_input_errors(stylizer, image, message):
    with pytest.raises(InputError, match=message) as raised:
        stylizer(image)
    assert isinstance(raised.value, StylecamError) and isinstance(raised.value, ValueError)


@pytest.mark.parametrize("thing", [[[1, 2, 3]], "photo.jpg", None, 3.0])
def test_what_is_not_an_image_is_a_type_error(stylizer, thing):
    with pytest.raises(InputTypeError, match="expected a NumPy array, a PIL image or a torch tensor") as raised:
        stylizer(thing)
    assert isinstance(raised.value, StylecamError) and isinstance(raised.value, TypeError)


def test_stylize_batch_refuses_an_empty_batch(stylizer):
    with pytest.raises(InputError, match="a batch of 0 images"):
        stylizer.stylize_batch(np.zeros((0, 8, 8, 3), np.uint8))


# --- Task B: settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"precision": "fp8"}, "unknown precision 'fp8'"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"backend": "tensorrt"}, "unknown back end 'tensorrt'"),
        ({"scale": 0}, "scale"),
        ({"scale": -1.0}, "scale"),
        ({"scale": math.nan}, "scale"),
        ({"scale": math.inf}, "scale"),
        ({"scale": MAX_SCALE * 2}, "scale"),
        ({"strength": 5}, "strength"),
        ({"strength": -0.1}, "strength"),
        ({"strength": math.nan}, "strength"),
        ({"keep_colors": "yes"}, "keep_colors"),
    ],
)
def test_every_invalid_setting_is_a_stylecam_value_error(style_path, setting, message):
    with pytest.raises(SettingError, match=message) as raised:
        Stylizer.from_style(style_path, **{"device": "cpu", "backend": "eager", **setting})
    assert isinstance(raised.value, StylecamError) and isinstance(raised.value, ValueError)


def test_a_wrong_channel_order_is_a_setting_error(stylizer):
    with pytest.raises(SettingError, match="channels must be one of bgr, rgb"):
        stylizer(np.zeros((8, 8, 3), np.uint8), channels="gbr")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("strength", 5),
        ("strength", -1),
        ("strength", math.nan),
        ("strength", "0.5"),
        ("scale", 0),
        ("scale", MAX_SCALE + 0.1),
        ("keep_colors", 1),
    ],
)
def test_the_controls_are_checked_when_assigned(style_path, name, value):
    stylizer = Stylizer.from_style(style_path, device="cpu", backend="eager")
    before = getattr(stylizer, name)
    with pytest.raises(SettingError, match=name):
        setattr(stylizer, name, value)
    assert getattr(stylizer, name) == before  # unchanged by the refused value


def test_valid_controls_are_taken_as_plain_numbers(style_path):
    stylizer = Stylizer.from_style(style_path, device="cpu", backend="eager")
    stylizer.strength, stylizer.scale, stylizer.keep_colors = np.float32(0.5), MAX_SCALE, np.bool_(True)
    assert (stylizer.strength, stylizer.scale, stylizer.keep_colors) == (0.5, MAX_SCALE, True)
    assert type(stylizer.strength) is float and type(stylizer.keep_colors) is bool


# --- Task B: every PIL mode, converted from what it holds ------------------------------------


def _painted(stylizer, gray: np.ndarray) -> np.ndarray:
    """What the 8-bit grey picture gives, as RGB: the reference each mode must match."""
    return np.asarray(stylizer(Image.fromarray(gray).convert("RGB")))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda g: Image.fromarray(g.astype(np.uint16) * 257), id="I;16"),
        pytest.param(lambda g: Image.fromarray(g.astype(np.uint16) * 257).convert("I"), id="I"),
        pytest.param(lambda g: Image.fromarray(g.astype(np.float32) / 255), id="F 0..1"),
        pytest.param(lambda g: Image.fromarray(g.astype(np.float32)), id="F 0..255"),
        pytest.param(lambda g: Image.fromarray(g), id="L"),
    ],
)
def test_grey_modes_are_read_at_their_own_depth(stylizer, gray, make):
    image = make(gray)
    out = stylizer(image)
    assert out.mode == "RGB" and out.size == image.size
    assert np.array_equal(np.asarray(out), _painted(stylizer, gray))


def test_a_dark_16_bit_image_is_not_painted_as_white(stylizer, gray):
    """Pillow's own convert("RGB") clips 16-bit values to 255: every pixel above 255 came out white."""
    dark = Image.fromarray((gray // 4).astype(np.uint16) * 257)
    white = np.asarray(stylizer(Image.new("RGB", dark.size, (255, 255, 255))))
    assert not np.array_equal(np.asarray(stylizer(dark)), white)


@pytest.mark.parametrize("mode", ["1", "P", "CMYK", "YCbCr"])
def test_other_modes_are_converted_by_pillow_and_give_rgb(stylizer, gray, mode):
    source = Image.fromarray(np.stack([gray, gray[::-1], np.roll(gray, 5, axis=1)], axis=-1))
    image = source.convert(mode)
    out = stylizer(image)
    assert out.mode == "RGB" and out.size == image.size
    assert np.array_equal(np.asarray(out), np.asarray(stylizer(image.convert("RGB"))))


@pytest.mark.parametrize("mode", ["LA", "RGBA", "PA"])
def test_alpha_is_left_out_of_the_painting_and_given_back(stylizer, gray, mode):
    alpha = np.full(gray.shape, 77, np.uint8)
    image = Image.fromarray(gray).convert(mode)
    image.putalpha(Image.fromarray(alpha))
    assert image.mode == mode
    out = stylizer(image)
    assert out.mode == "RGBA" and np.all(np.asarray(out)[..., 3] == 77)
    colour = image.convert("RGBA").convert("RGB")
    assert np.array_equal(np.asarray(out)[..., :3], np.asarray(stylizer(colour)))


def test_a_palette_image_with_a_transparent_colour_keeps_its_transparency(stylizer, gray):
    image = Image.fromarray(gray).convert("P")
    image.info["transparency"] = int(np.asarray(image)[0, 0])
    out = stylizer(image)
    assert out.mode == "RGBA" and np.asarray(out)[0, 0, 3] == 0
