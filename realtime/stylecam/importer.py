"""``stylecam import``: a checkpoint of the classic pytorch/examples recipe -> a stylecam style file.

The pytorch/examples fast_neural_style recipe (the files shared as candy.pth, mosaic.pth,
udnie.pth, rain_princess.pth) trains the same network as stylecam's ``TransformerNet`` under
other parameter names, and with pixels in 0-255 where stylecam uses 0-1. Both scalings are folded
into the weights, so the imported style gives the same pictures as the original:

- input: the recipe sees x255 = 255 * x01, so conv1's weight is multiplied by 255 (its bias is
  unchanged: W * x255 + b = (255 W) * x01 + b);
- output: stylecam wants y01 = y255 / 255, so deconv3's weight and bias are divided by 255.

A ``.pth`` file is a pickle, which may run code when loaded. It is read by
``stylecam.files.read_checkpoint``, with ``torch.load(weights_only=True)`` only: tensors and
plain containers are accepted, anything else is refused before it is built. Nothing here needs
the training recipe.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from stylecam import weights
from stylecam.errors import StylecamError
from stylecam.files import CheckpointError, check_not_taken, output_claim, read_checkpoint
from stylecam.model import DEFAULT_WIDTH, TransformerNet
from stylecam.weights import MAX_WIDTH, SUFFIX, StyleImageCredit, StyleMetadata, installed_styles, save_style, shipped_styles_dir

RECIPE = "pytorch/examples fast_neural_style"
PIXEL_RANGE = 255.0  # the recipe's pixels are 0-255, stylecam's 0-1
# Dicts that wrap a state_dict in other people's checkpoints, tried in this order.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
# Instance-norm buffers that PyTorch before 0.4 saved and the recipe's own loader deletes; they
# are statistics of the training batches, never used at inference.
_DROPPED = re.compile(r"in\d+\.(running_mean|running_var|num_batches_tracked)$")


class ModelImportError(StylecamError):
    """A file that cannot be imported; the message names the file and the problem."""


@dataclass(frozen=True)
class ImportCredit:
    """What the user says about the painting; None means not given (recorded as unknown)."""

    title: str | None = None
    artist: str | None = None
    year: str | None = None
    licence: str | None = None
    credit: str | None = None

    def for_file(self, source: Path) -> StyleImageCredit:
        return StyleImageCredit(
            title=self.title or "unknown",
            artist=self.artist or "unknown",
            licence=self.licence or "unknown",
            credit=self.credit or f"imported from {source.name}",
            year=self.year or "unknown",
        )


def stylecam_key(key: str) -> str | None:
    """The stylecam name of one of the recipe's parameters (see realtime/model.py); None if the recipe has no such parameter."""
    if match := re.fullmatch(r"(conv[123]|deconv3)\.conv2d\.(weight|bias)", key):
        return f"{match[1]}.conv.{match[2]}"
    if match := re.fullmatch(r"(deconv[12])\.conv2d\.(weight|bias)", key):  # the upsampling layers wrap a ConvLayer
        return f"{match[1]}.conv.conv.{match[2]}"
    if re.fullmatch(r"in[1-5]\.(weight|bias)", key):
        return key
    if match := re.fullmatch(r"res([1-5])\.(conv[12]\.conv2d|in[12])\.(weight|bias)", key):
        return f"residuals.{int(match[1]) - 1}.{match[2].replace('.conv2d', '.conv')}.{match[3]}"
    return None


def _refuse_safetensors(path: Path) -> None:
    """A stylecam style file given by mistake: say so, instead of a pickle error about its bytes."""
    try:
        with safe_open(str(path), framework="pt"):
            pass
    except (SafetensorError, OSError, ValueError):
        return
    raise ModelImportError(
        f"model file {path} is a safetensors file (a stylecam style file?), not a .pth checkpoint: use it directly with --style {path}"
    )


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The recipe's state_dict in ``path``, read without running code, unwrapped, with old buffers dropped."""
    _refuse_safetensors(path)
    try:
        loaded = read_checkpoint(path)
    except CheckpointError as error:
        raise ModelImportError(f"model file {error}") from error
    state = _unwrap(loaded, path)
    state = {key.removeprefix("module."): value for key, value in state.items()}  # saved from nn.DataParallel
    return {key: value for key, value in state.items() if not _DROPPED.search(key)}


def _unwrap(loaded: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(loaded, dict):
        for key in WRAPPER_KEYS:
            if isinstance(loaded.get(key), dict):
                loaded = loaded[key]
                break
    if not isinstance(loaded, dict) or not loaded:
        raise ModelImportError(f"model file {path} holds no state_dict (found {type(loaded).__name__})")
    not_tensors = [str(key) for key, value in loaded.items() if not isinstance(key, str) or not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise ModelImportError(f"model file {path} is not a state_dict of tensors (entry '{not_tensors[0]}' is not a named tensor)")
    return loaded


def convert(state: dict[str, torch.Tensor], path: Path) -> TransformerNet:
    """A stylecam network with the recipe's weights, renamed and with the 0-255 scaling folded in."""
    renamed: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        new_key = stylecam_key(key)
        if new_key is None:
            raise ModelImportError(f"model file {path} has a parameter '{key}' that the {RECIPE} network lacks (another architecture?)")
        renamed[new_key] = value
    first = renamed.get("conv1.conv.weight")
    width = int(first.shape[0]) if first is not None and first.dim() == 4 else DEFAULT_WIDTH
    if not 4 <= width <= MAX_WIDTH:  # checked before the network is built: its size grows with the square of the width
        raise ModelImportError(f"model file {path} has {width} channels in conv1, stylecam runs 4 to {MAX_WIDTH}")
    model = TransformerNet(width=width)
    expected = model.state_dict()
    missing = [key for key in expected if key not in renamed]
    if missing:
        raise ModelImportError(f"model file {path} lacks {len(missing)} parameter(s) of the {RECIPE} network (first: {missing[0]})")
    for key, reference in expected.items():
        value = renamed[key]
        if tuple(value.shape) != tuple(reference.shape) or not value.is_floating_point():
            raise ModelImportError(
                f"model file {path} has {key} of shape {tuple(value.shape)} ({value.dtype}), the network needs {tuple(reference.shape)}"
            )
        if not torch.isfinite(value).all():
            raise ModelImportError(f"model file {path} has NaN or infinite values in {key}")
    # Folded in float64, so that the result is the nearest float32 to the exact product.
    weights = {key: value.detach().to(torch.float64) for key, value in renamed.items()}
    weights["conv1.conv.weight"] = weights["conv1.conv.weight"] * PIXEL_RANGE
    weights["deconv3.conv.weight"] = weights["deconv3.conv.weight"] / PIXEL_RANGE
    weights["deconv3.conv.bias"] = weights["deconv3.conv.bias"] / PIXEL_RANGE
    model.load_state_dict({key: value.to(torch.float32) for key, value in weights.items()}, strict=True)
    return model.eval().requires_grad_(False)


def target_path(name: str, out_dir: Path | None, overwrite: bool) -> Path:
    """Where the style file goes; refuses a name that `--style NAME` could not find, or an existing file without overwrite."""
    if not weights.is_style_name(name):
        raise ModelImportError(f"style name '{name}' {weights.STYLE_NAME_RULE} (give another with --name)")
    # Looked up at call time: the user's folder is a setting of stylecam.weights (tests point it elsewhere).
    path = (out_dir if out_dir is not None else weights.USER_STYLES_DIR) / f"{name}{SUFFIX}"
    check_not_taken(path, overwrite=True)  # another run's claim: refused in those words
    if path.exists() and not overwrite:
        raise ModelImportError(f"style file {path} exists (use --overwrite to replace it)")
    if path.exists() and not path.is_file():
        raise ModelImportError(f"style file {path} exists and is not a file")
    folder = path.parent
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):  # before the conversion, not after
        raise ModelImportError(f"style folder {folder} is not writable")
    return path


def import_model(
    source: Path,
    name: str | None = None,
    out_dir: Path | None = None,
    overwrite: bool = False,
    credit: ImportCredit | None = None,
    default_scale: float = 1.0,
) -> Path:
    """Convert ``source`` (a pytorch/examples fast_neural_style .pth) into a style file; returns its path."""
    source = Path(source)
    name = name if name is not None else source.stem
    path = target_path(name, out_dir, overwrite)
    state = read_state_dict(source)  # a file that is no checkpoint is refused before any folder is made
    created = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ModelImportError(f"style folder {path.parent} cannot be created ({error.strerror or error})") from error
    try:
        with output_claim(path, overwrite):  # a second import to this name is refused now, not replaced later
            return _import_to(state, source, name, path, credit, default_scale)
    except BaseException:
        for folder in created:  # the folders this run made, if the failure left them empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _import_to(state: dict, source: Path, name: str, path: Path, credit: ImportCredit | None, default_scale: float) -> Path:
    model = convert(state, source)
    metadata = StyleMetadata(
        style=name,
        width=model.width,
        style_image=(credit or ImportCredit()).for_file(source),
        training={
            "imported_from": source.name,
            "sha256": weights.file_sha256(source),
            "recipe": RECIPE,
            "note": "converted by `stylecam import`: renamed, old instance-norm buffers dropped, "
            "0-255 pixels folded into conv1 (x255) and deconv3 (/255)",
        },
        default_scale=default_scale,
    )
    try:
        save_style(model, path, metadata)
    except OSError as error:
        raise ModelImportError(f"style file {path} cannot be written ({error.strerror or error})") from error
    return path


def lookup_note(path: Path) -> str | None:
    """Why ``--style NAME`` would not give the file just written (or what it now hides); None when all is plain."""
    name = path.stem
    found = {candidate.stem: candidate for candidate in installed_styles()}.get(name)
    if found is None:
        return f"{path.parent} is not searched for styles: use --style {path}, or add the folder to STYLECAM_WEIGHTS"
    if found.resolve() != path.resolve():
        return f"--style {name} finds {found} first: use --style {path}, or another --name"
    shipped = shipped_styles_dir() / path.name
    if shipped.is_file() and shipped.resolve() != path.resolve():
        return f"--style {name} now gives this file instead of the shipped style of that name"
    return None
