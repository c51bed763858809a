"""`stylecam export`: the ONNX file paints what stylecam paints at scale 1, padding included,
at any size and batch; its contract is in its metadata; refusals are one line and leave no file."""

from __future__ import annotations

import importlib.util
import json

import cv2
import numpy as np
import pytest
import torch

from conftest import listing, make_style
from stylecam import backends, cli
from stylecam.devices import Precision
from stylecam.frames import Stylizer
from stylecam.weights import load_style
from test_cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.skipif(not backends.onnxruntime_available(), reason="onnx or onnxruntime is not installed")

ONE_LEVEL = 1  # the promise: within 1/255 of stylecam's picture, on 8-bit pixels


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A random-weight style and its export: (style file, .onnx file, the --json summary)."""
    folder = tmp_path_factory.mktemp("export")
    style = make_style(folder / "random.safetensors", seed=3)
    code = cli.main(["export", str(style), "-o", str(folder / "random.onnx"), "--json"])
    assert code == 0
    return style, folder / "random.onnx"


def _session(path):
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _run_graph(path, rgb: np.ndarray) -> np.ndarray:
    """(B, H, W, 3) uint8 RGB through the graph as its metadata says -> (B, H, W, 3) uint8 RGB."""
    frames = np.ascontiguousarray(rgb.transpose(0, 3, 1, 2)).astype(np.float32) / 255
    (stylized,) = _session(path).run(None, {"frames": frames})
    assert stylized.shape == frames.shape and stylized.dtype == np.float32
    assert stylized.min() >= 0 and stylized.max() <= 1  # the clamp is in the graph
    return (stylized.transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)


def _stylecam(style_path, rgb: np.ndarray) -> np.ndarray:
    """What stylecam paints at scale 1, eager fp32 on the CPU: (B, H, W, 3) uint8 RGB."""
    _, model = load_style(style_path)
    stylizer = Stylizer(model, torch.device("cpu"), Precision(torch.float32), scale=1.0, backend="eager")
    return stylizer.stylize_batch(np.ascontiguousarray(rgb[..., ::-1]))[..., ::-1]


def _random_frames(batch: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (batch, height, width, 3), dtype=np.uint8)


def _difference(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def test_the_graph_paints_what_stylecam_image_paints_at_scale_1_at_an_odd_size(exported, workdir, capsys):
    style, graph = exported
    rgb = _random_frames(1, 241, 321)
    cv2.imwrite("frame.png", rgb[0, ..., ::-1])
    eager_fp32 = ("--device", "cpu", "--backend", "eager", "--precision", "fp32")
    code, _, _ = run_cli("image", "frame.png", "-o", "out", "--style", style, "--scale", "1", *eager_fp32, capsys=capsys)
    assert code == 0
    (written,) = (workdir / "out").iterdir()
    painted = cv2.imread(str(written))[..., ::-1]
    assert painted.shape == (241, 321, 3)
    assert _difference(_run_graph(graph, rgb)[0], painted) <= ONE_LEVEL


@pytest.mark.parametrize(("batch", "height", "width"), [(1, 64, 64), (2, 64, 64), (2, 243, 322), (1, 16, 17)])
def test_the_graph_takes_any_batch_and_size(exported, batch, height, width):
    style, graph = exported
    rgb = _random_frames(batch, height, width, seed=batch + height)
    ours = _run_graph(graph, rgb)
    assert ours.shape == rgb.shape
    assert _difference(ours, _stylecam(style, rgb)) <= ONE_LEVEL


def test_the_contract_is_in_the_file(exported):
    import onnx

    style, graph = exported
    model = onnx.load(str(graph))
    props = {entry.key: entry.value for entry in model.metadata_props}
    loaded, _ = load_style(style)
    assert props["stylecam.style"] == loaded.name == "random"
    assert float(props["stylecam.default_scale"]) == loaded.default_scale
    assert float(props["stylecam.default_detail"]) == loaded.default_detail == 0
    assert props["stylecam.credit"] == loaded.credit_line()
    assert "[0, 1]" in props["stylecam.input"] and "default_scale" in props["stylecam.input"]
    assert props["stylecam.exporter"] in backends.EXPORTERS
    (inputs,), (outputs,) = model.graph.input, model.graph.output
    assert (inputs.name, outputs.name) == ("frames", "stylized")
    for value in (inputs, outputs):
        dims = value.type.tensor_type.shape.dim
        assert dims[1].dim_value == 3
        assert all(dims[axis].dim_param and not dims[axis].dim_value for axis in (0, 2, 3))  # batch, height, width: any
    assert not model.graph.initializer or all(not tensor.external_data for tensor in model.graph.initializer)  # self-contained


def test_the_summary_and_the_line_say_what_was_written(workdir, style_file, capsys):
    code, out, err = run_cli("export", style_file, "-o", "s.onnx", "--json", "--opset", "13", capsys=capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary == {
        "path": "s.onnx",
        "style": "random",
        "size_bytes": (workdir / "s.onnx").stat().st_size,
        "exporter": summary["exporter"],
        "opset": 13,
        "default_scale": 1.0,
        "default_detail": 0.0,
    }
    assert summary["exporter"] in backends.EXPORTERS
    if importlib.util.find_spec("onnxscript") is None:
        assert summary["exporter"] == "torchscript" and "onnxscript is not installed" in err
    code, out, err = run_cli("export", style_file, "-o", "s.onnx", "--overwrite", capsys=capsys)
    assert code == 0 and out == "" and "wrote s.onnx: style random" in err and "exporter" in err
    assert listing(workdir) == ["s.onnx"]


def test_a_failing_dynamo_exporter_falls_back_with_a_note(workdir, style_file, monkeypatch, capsys):
    real_export, real_find_spec = torch.onnx.export, importlib.util.find_spec

    def export(*args, dynamo=True, **options):
        if dynamo:
            raise RuntimeError("no way")
        return real_export(*args, dynamo=False, **options)

    monkeypatch.setattr(torch.onnx, "export", export)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: object() if name == "onnxscript" else real_find_spec(name, *rest))
    code, out, err = run_cli("export", style_file, "-o", "s.onnx", "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["exporter"] == "torchscript"
    assert "RuntimeError: no way" in err
    rgb = _random_frames(1, 33, 47)
    assert _difference(_run_graph(workdir / "s.onnx", rgb), _stylecam(style_file, rgb)) <= ONE_LEVEL


def test_refusals_are_one_line_and_leave_no_file(workdir, style_file, monkeypatch, capsys):
    (workdir / "taken.onnx").write_bytes(b"keep me")
    code, _, err = run_cli("export", style_file, "-o", "taken.onnx", capsys=capsys)
    assert_one_line_error(code, err, "taken.onnx", "exists", "--overwrite")
    assert (workdir / "taken.onnx").read_bytes() == b"keep me"

    code, _, err = run_cli("export", style_file, "-o", "style.pb", capsys=capsys)
    assert_one_line_error(code, err, "style.pb", ".onnx")

    code, _, err = run_cli("export", "no_such_style", "-o", "style.onnx", capsys=capsys)
    assert_one_line_error(code, err, "no_such_style")

    (workdir / "folder.onnx").mkdir()
    code, _, err = run_cli("export", style_file, "-o", "folder.onnx", "--overwrite", capsys=capsys)
    assert_one_line_error(code, err, "folder.onnx", "is a folder")

    def broken(*args, **options):
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(torch.onnx, "export", broken)
    code, _, err = run_cli("export", style_file, "-o", "style.onnx", capsys=capsys)
    assert_one_line_error(code, err, "cannot be exported", "exporter broke")
    assert listing(workdir) == ["folder.onnx", "taken.onnx"]  # no output, no half-written file
    assert listing(workdir / "folder.onnx") == []


def test_an_opset_out_of_range_is_one_line(workdir, style_file, capsys):
    with pytest.raises(SystemExit) as stop:
        run_cli("export", style_file, "-o", "s.onnx", "--opset", "99", capsys=capsys)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--opset" in err and "11 to 20" in err
    assert listing(workdir) == []


def test_the_modern_exporter_writes_it_quietly_where_onnxscript_is_installed(workdir, style_file, capsys):
    pytest.importorskip("onnxscript")
    code, out, err = run_cli("export", style_file, "-o", "d.onnx", "--json", capsys=capsys)
    assert code == 0, err
    assert len(out.splitlines()) == 1  # the exporter's own step-by-step report stays off stdout
    summary = json.loads(out)
    assert summary["exporter"] == "dynamo" and summary["opset"] == 18
    assert "[torch.onnx]" not in err and "Traceback" not in err
    rgb = _random_frames(1, 241, 321)
    assert _difference(_run_graph(workdir / "d.onnx", rgb), _stylecam(style_file, rgb)) <= ONE_LEVEL
    code, out, err = run_cli("export", style_file, "-o", "d17.onnx", "--opset", "17", "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["exporter"] == "torchscript" and json.loads(out)["opset"] == 17
    assert "opset 18 and newer" in err
