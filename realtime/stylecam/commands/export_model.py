"""`stylecam export`: a style as a self-contained ONNX graph, for programs that do not run stylecam."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stylecam.argtypes import PROG, bounded
from stylecam.errors import OutputError

HELP = "write a style as an ONNX graph (any frame size, padding included)"
DESCRIPTION = """\
Write STYLE as one self-contained .onnx file that ONNX Runtime (or any ONNX runtime) runs without
stylecam, PyTorch or the style file.

The graph's contract:
  input  `frames`:   float32 RGB, shape (batch, 3, height, width), values in [0, 1]; any batch, any
                     height and width of at least 16 pixels.
  output `stylized`: float32 RGB, the same shape, values in [0, 1] (multiply by 255 and round for
                     8-bit pixels).

The graph holds what stylecam does around the network for a frame at processing scale 1: the
reflection padding to a multiple of 4, the crop back to the frame's size and the clamp. It gives
the picture `stylecam image --scale 1` gives, within one level of 255. It does not resize for the
style's processing scale: it paints the frame at the size it is given. To paint as stylecam does
at the style's own scale, resize the frame by stylecam.default_scale first (bilinear, antialiased
when shrinking) and the result back to the frame's size.

The file's metadata_props record stylecam.style (the name), stylecam.default_scale,
stylecam.default_detail (how much of the input's detail stylecam adds back by default: see
--detail), stylecam.credit (the style image's credit line), stylecam.input and stylecam.output
(the contract above), stylecam.exporter and stylecam.version.

The modern exporter (torch.export, dynamo) is used when onnxscript is installed and it succeeds;
otherwise the TorchScript exporter, with dynamic batch, height and width. The line printed (and
--json's exporter) says which. The strength, keep-colours and detail controls are not part of the graph.
"""
# An epilog makes the dispatcher keep the layout of DESCRIPTION and EPILOG as written.
EPILOG = """\
example:
  stylecam export starry_night -o starry_night.onnx
  then, in Python with onnxruntime and numpy (rgb: an (H, W, 3) uint8 array):
    session = onnxruntime.InferenceSession("starry_night.onnx")
    frames = rgb.transpose(2, 0, 1)[None].astype("float32") / 255
    (stylized,) = session.run(None, {"frames": frames})
    painted = (stylized[0].transpose(1, 2, 0) * 255).round().astype("uint8")
"""

MIN_OPSET = 11  # Pad with reflection and sizes computed in the graph
MAX_OPSET = 20  # the TorchScript exporter's newest (the fallback, so every opset offered works)
opset = bounded(int, MIN_OPSET, MAX_OPSET)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "style", metavar="STYLE", help="style name, path to a .safetensors style file, or a blend such as starry_night:0.6,wave:0.4"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="ONNX file to write (.onnx)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    parser.add_argument(
        "--opset",
        type=opset,
        default=None,
        help=f"ONNX opset of the graph, {MIN_OPSET} to {MAX_OPSET} (default: 18; below 18 the TorchScript exporter writes it)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout")


def run(args: argparse.Namespace) -> int:
    import importlib.util

    from stylecam.backends import EXPORT_OPSET, BackendError, export_style_onnx
    from stylecam.sinks import check_output_file
    from stylecam.weights import load_style

    output: Path = args.output
    if output.suffix.lower() != ".onnx":
        raise OutputError(f"output {output} must end in .onnx")
    if importlib.util.find_spec("onnx") is None:
        raise BackendError("`stylecam export` needs onnx, which writes the graph (pip install 'stylecam[onnx]')")
    style, model = load_style(args.style)
    check_output_file(output, [style.path], args.overwrite)
    properties = {
        "stylecam.style": style.name,
        "stylecam.default_scale": f"{style.default_scale:g}",
        "stylecam.default_detail": f"{style.default_detail:g}",
        "stylecam.credit": style.credit_line(),
        "stylecam.version": _version(),
    }
    written = export_style_onnx(model, output, properties, opset=args.opset or EXPORT_OPSET)
    size = output.stat().st_size
    if written.fallback_reason:
        print(
            f"{PROG}: note: written by the TorchScript exporter; the dynamo exporter was not used ({written.fallback_reason})",
            file=sys.stderr,
        )
    if style.default_scale != 1:
        print(
            f"{PROG}: note: {style.name} paints at processing scale {style.default_scale:g}: resize frames by it before the graph "
            "to match stylecam (the graph paints at the size it is given)",
            file=sys.stderr,
        )
    if style.default_detail:
        print(
            f"{PROG}: note: {style.name} adds back the input's detail by default (--detail {style.default_detail:g}), "
            "which the graph does not: its pictures show less of a face's eyes and mouth",
            file=sys.stderr,
        )
    if args.json:
        summary = {
            "path": str(output),
            "style": style.name,
            "size_bytes": size,
            "exporter": written.exporter,
            "opset": written.opset,
            "default_scale": style.default_scale,
            "default_detail": style.default_detail,
        }
        print(json.dumps(summary))
    else:
        print(
            f"wrote {output}: style {style.name}, {size / 1e6:.1f} MB, {written.exporter} exporter, opset {written.opset}", file=sys.stderr
        )
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stylecam")
    except PackageNotFoundError:
        return "unknown"
