"""Style files: one ``.safetensors`` file per style, metadata inside.

safetensors holds raw tensors and a JSON header, so loading a file cannot run code
(unlike a pickle). The metadata lives in the header under the key ``stylecam`` as one
JSON object (see ``REQUIRED_FIELDS``); a file without it, of another architecture, or
whose tensors do not fit the network is refused with a message naming the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from realtime.errors import StylecamError
from realtime.model import ARCHITECTURE, TransformerNet

SUFFIX = ".safetensors"
METADATA_KEY = "stylecam"
FORMAT_VERSION = 1
# How frames must be prepared for the network; checked at load so that a file trained
# with another convention is refused instead of producing garbage.
PREPROCESSING = {"color": "rgb", "range": [0.0, 1.0], "layout": "NCHW"}
REQUIRED_FIELDS = ("style", "architecture", "width", "preprocessing", "training", "style_image")
REQUIRED_CREDIT_FIELDS = ("title", "artist", "credit", "licence")
DEFAULT_STYLE = "starry_night"

_PICKLE_MAGIC = (b"PK\x03\x04", b"\x80")  # torch.save zip archive, or a bare pickle stream


class StyleError(StylecamError):
    """A style that cannot be found or loaded; the message names the file and the problem."""


@dataclass
class Style:
    name: str
    path: Path
    metadata: dict[str, Any] = field(repr=False)

    @property
    def default_scale(self) -> float:
        return float(self.metadata.get("default_scale", 1.0))

    def credit_line(self) -> str:
        image = self.metadata.get("style_image", {})
        return f"{image.get('title', '?')} by {image.get('artist', '?')} ({image.get('licence', '?')})"


def weights_dirs() -> list[Path]:
    """Where installed styles live: $STYLECAM_WEIGHTS (os.pathsep-separated) then the repo's weights/."""
    dirs = [Path(p) for p in os.environ.get("STYLECAM_WEIGHTS", "").split(os.pathsep) if p]
    dirs.append(Path(__file__).resolve().parent.parent / "weights")
    return dirs


def installed_styles() -> list[Path]:
    """Style files found in ``weights_dirs()``, sorted by name; a name found twice keeps the first."""
    found: dict[str, Path] = {}
    for directory in weights_dirs():
        if directory.is_dir():
            for path in sorted(directory.glob(f"*{SUFFIX}")):
                found.setdefault(path.stem, path)
    return [found[name] for name in sorted(found)]


def resolve(name_or_path: str | os.PathLike[str]) -> Path:
    """A style's short name or a path to a style file -> the file's path."""
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    looks_like_path = os.sep in text or text.endswith(SUFFIX) or candidate.suffix != ""
    if looks_like_path or candidate.exists():
        if not candidate.is_file():
            raise StyleError(f"style file {text} does not exist")
        return candidate
    for path in installed_styles():
        if path.stem == text:
            return path
    names = ", ".join(p.stem for p in installed_styles()) or "none installed"
    raise StyleError(f"unknown style '{text}' (installed: {names})")


def read_metadata(path: Path) -> dict[str, Any]:
    """The stylecam metadata of a style file, validated; raises StyleError otherwise."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise StyleError(f"style file {path} cannot be read ({error.strerror})") from None
    try:
        # Parsed as safetensors first: that cannot run code, and a valid file may begin with any
        # byte (its first 8 bytes are the header length, 0x80 as often as any other value).
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        if head.startswith(_PICKLE_MAGIC):
            raise StyleError(
                f"style file {path} is a pickle (torch.save) file, which could run code when loaded; "
                f"stylecam only loads {SUFFIX} style files"
            ) from None
        raise StyleError(f"style file {path} is corrupt or not a safetensors file ({error})") from None
    if METADATA_KEY not in header:
        raise StyleError(f"style file {path} has no stylecam metadata (not a stylecam style file)")
    try:
        metadata = json.loads(header[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise StyleError(f"style file {path} has unreadable metadata ({error.msg})") from None
    _validate(path, metadata)
    return metadata


def _validate(path: Path, metadata: dict[str, Any]) -> None:
    missing = [key for key in REQUIRED_FIELDS if key not in metadata]
    if missing:
        raise StyleError(f"style file {path} lacks metadata: {', '.join(missing)}")
    if metadata["architecture"] != ARCHITECTURE:
        raise StyleError(f"style file {path} is for architecture '{metadata['architecture']}', stylecam runs '{ARCHITECTURE}'")
    if metadata["preprocessing"] != PREPROCESSING:
        raise StyleError(f"style file {path} expects preprocessing {metadata['preprocessing']}, not {PREPROCESSING}")
    if not isinstance(metadata["width"], int) or metadata["width"] < 4:
        raise StyleError(f"style file {path} has an invalid width {metadata['width']!r}")
    missing_credit = [key for key in REQUIRED_CREDIT_FIELDS if key not in metadata["style_image"]]
    if missing_credit:
        raise StyleError(f"style file {path} lacks style image credit: {', '.join(missing_credit)}")


def load_style(name_or_path: str | os.PathLike[str]) -> tuple[Style, TransformerNet]:
    """Find, verify and load a style; returns its description and the network (CPU, eval mode)."""
    path = resolve(name_or_path)
    metadata = read_metadata(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise StyleError(f"style file {path} is corrupt ({error})") from None
    broken = [key for key, tensor in state.items() if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if broken:  # NaN or Inf weights turn every frame black or into noise
        raise StyleError(f"style file {path} has NaN or infinite weights (in {broken[0]}{' and more' if len(broken) > 1 else ''})")
    model = TransformerNet(width=metadata["width"])
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first_line = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
        raise StyleError(f"style file {path} does not fit the {ARCHITECTURE} network ({first_line})") from None
    model.eval().requires_grad_(False)
    return Style(name=str(metadata["style"]), path=path, metadata=metadata), model


def save_style(model: TransformerNet, path: Path, metadata: dict[str, Any]) -> None:
    """Write a style file; fills in the fields the runtime relies on, then validates the result."""
    full = {
        "format_version": FORMAT_VERSION,
        "architecture": ARCHITECTURE,
        "width": model.width,
        "preprocessing": PREPROCESSING,
        **metadata,
    }
    _validate(path, full)
    state = {key: value.detach().to("cpu", torch.float32).contiguous() for key, value in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    save_file(state, str(tmp), metadata={METADATA_KEY: json.dumps(full, sort_keys=True)})
    os.chmod(tmp, 0o644)  # a style file is for sharing; the writer may have made it private
    os.replace(tmp, path)
