"""Style files: one ``.safetensors`` file per style, metadata inside.

safetensors holds raw tensors and a JSON header, so loading a file cannot run code
(unlike a pickle). The metadata lives in the header under the key ``stylecam`` as one
JSON object (``StyleMetadata``); a file without it, of another architecture, or
whose tensors do not fit the network is refused with a message naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from stylecam.errors import StylecamError
from stylecam.model import ARCHITECTURE, DEFAULT_BLOCKS, DEFAULT_EDGE_KERNEL, TransformerNet

SUFFIX = ".safetensors"
METADATA_KEY = "stylecam"
# The layout of the metadata. A reader refuses a newer one: a future field could change how the
# weights must be used, and guessing would give wrong pictures instead of a clear message.
FORMAT_VERSION = 1
# How frames must be prepared for the network; checked at load so that a file trained
# with another convention is refused instead of producing garbage.
PREPROCESSING = {"color": "rgb", "range": [0.0, 1.0], "layout": "NCHW"}
REQUIRED_FIELDS = ("style", "architecture", "width", "preprocessing", "training", "style_image")
REQUIRED_CREDIT_FIELDS = ("title", "artist", "credit", "licence")
DEFAULT_STYLE = "starry_night"
# Styles a user trains or imports land here unless told otherwise (each platform's convention:
# ~/.local/share/stylecam/styles on Linux, %LOCALAPPDATA%\stylecam\styles on Windows).
USER_STYLES_DIR = Path(platformdirs.user_data_dir("stylecam", appauthor=False)) / "styles"

# Johnson et al.'s layout with first and last convolutions of ``edge_kernel`` pixels instead of 9:
# a fast variant for the CPU, where those two layers run at full resolution. Its own name, so that
# a stylecam that predates it refuses such a file by name instead of failing on tensor shapes.
ARCHITECTURE_SMALL_EDGES = "johnson2016-small-edges"
ARCHITECTURES = (ARCHITECTURE, ARCHITECTURE_SMALL_EDGES)


def architecture_for(edge_kernel: int) -> str:
    """The architecture name of a TransformerNet: the classic one exactly when its edge convolutions are 9x9."""
    return ARCHITECTURE if edge_kernel == DEFAULT_EDGE_KERNEL else ARCHITECTURE_SMALL_EDGES


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


PICKLE_MAGIC = (b"PK\x03\x04", b"\x80")  # torch.save zip archive, or a bare pickle stream


class StyleError(StylecamError):
    """A style that cannot be found or loaded; the message names the file and the problem."""


@dataclass(frozen=True)
class StyleImageCredit:
    """The painting a style was learned from, and the right to use it."""

    title: str
    artist: str
    licence: str
    credit: str  # where the image comes from
    year: str = "unknown"

    def line(self) -> str:
        return f"{self.title} by {self.artist} ({self.licence})"


@dataclass(frozen=True)
class StyleMetadata:
    """What a style file says about itself, stored as JSON in the safetensors header.

    ``training`` is the recipe's record (settings, steps, hardware, notes): free-form, shown to
    people, never needed to run the style. ``blocks`` and ``edge_kernel`` shape the network (see
    TransformerNet); files written before they existed lack them and are the classic 5 and 9.
    ``architecture`` follows from ``edge_kernel`` when left empty.
    """

    style: str
    width: int
    style_image: StyleImageCredit
    training: dict[str, Any] = field(default_factory=dict)
    default_scale: float = 1.0  # processing scale the style was made for (stroke size)
    architecture: str = ""
    preprocessing: dict[str, Any] = field(default_factory=lambda: dict(PREPROCESSING))
    format_version: int = FORMAT_VERSION
    blocks: int = DEFAULT_BLOCKS
    edge_kernel: int = DEFAULT_EDGE_KERNEL

    def __post_init__(self) -> None:
        if not self.architecture:
            object.__setattr__(self, "architecture", architecture_for(self.edge_kernel))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], path: Path | str = "<metadata>") -> StyleMetadata:
        """Validated metadata; a StyleError naming ``path`` for anything a runtime cannot trust."""
        if not isinstance(values, dict):
            raise StyleError(f"style file {path} has unreadable metadata (not a JSON object)")
        version = values.get("format_version", 1)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise StyleError(
                f"style file {path} has format version {version}, newer than the {FORMAT_VERSION} this stylecam reads "
                "(upgrade stylecam to use it)"
            )
        missing = [key for key in REQUIRED_FIELDS if key not in values]
        if missing:
            raise StyleError(f"style file {path} lacks metadata: {', '.join(missing)}")
        if values["architecture"] not in ARCHITECTURES:
            raise StyleError(
                f"style file {path} is for architecture '{values['architecture']}', stylecam runs {' and '.join(map(repr, ARCHITECTURES))}"
            )
        if values["preprocessing"] != PREPROCESSING:
            raise StyleError(f"style file {path} expects preprocessing {values['preprocessing']}, not {PREPROCESSING}")
        if not _is_int(values["width"]) or values["width"] < 4:
            raise StyleError(f"style file {path} has an invalid width {values['width']!r}")
        blocks = values.get("blocks", DEFAULT_BLOCKS)
        if not _is_int(blocks) or not 0 <= blocks <= 64:
            raise StyleError(f"style file {path} has an invalid number of residual blocks {blocks!r}")
        edge_kernel = values.get("edge_kernel", DEFAULT_EDGE_KERNEL)
        if not _is_int(edge_kernel) or edge_kernel < 1 or edge_kernel % 2 == 0 or edge_kernel > 15:
            raise StyleError(f"style file {path} has an invalid edge_kernel {edge_kernel!r} (an odd number from 1 to 15)")
        if architecture_for(edge_kernel) != values["architecture"]:
            raise StyleError(f"style file {path} says architecture '{values['architecture']}' but edge_kernel {edge_kernel}")
        image = values["style_image"] if isinstance(values["style_image"], dict) else {}
        missing_credit = [key for key in REQUIRED_CREDIT_FIELDS if not isinstance(image.get(key), str)]
        if missing_credit:
            raise StyleError(f"style file {path} lacks style image credit: {', '.join(missing_credit)}")
        scale = values.get("default_scale", 1.0)
        if not isinstance(scale, int | float) or not 0 < scale <= 4:
            raise StyleError(f"style file {path} has an invalid default_scale {scale!r}")
        if not isinstance(values["training"], dict):
            raise StyleError(f"style file {path} has an invalid training record")
        return cls(
            style=str(values["style"]),
            width=values["width"],
            style_image=StyleImageCredit(**{key: str(image[key]) for key in (*REQUIRED_CREDIT_FIELDS, "year") if key in image}),
            training=values["training"],
            default_scale=float(scale),
            architecture=values["architecture"],
            format_version=version,
            blocks=blocks,
            edge_kernel=edge_kernel,
        )


@dataclass
class Style:
    name: str
    path: Path
    metadata: StyleMetadata = field(repr=False)

    @property
    def default_scale(self) -> float:
        return self.metadata.default_scale

    def credit_line(self) -> str:
        return self.metadata.style_image.line()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (style metadata names its sources by digest)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def shipped_styles_dir() -> Path:
    """The styles that come with stylecam: package data of ``stylecam.shipped_styles`` (the repository's weights/)."""
    return Path(str(resources.files("stylecam.shipped_styles")))


def weights_dirs() -> list[Path]:
    """Where styles are looked up, first match wins: $STYLECAM_WEIGHTS (os.pathsep-separated), the user's styles, the shipped ones."""
    dirs = [Path(p) for p in os.environ.get("STYLECAM_WEIGHTS", "").split(os.pathsep) if p]
    return [*dirs, USER_STYLES_DIR, shipped_styles_dir()]


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


def read_metadata(path: Path) -> StyleMetadata:
    """The stylecam metadata of a style file, validated; raises StyleError otherwise."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise StyleError(f"style file {path} cannot be read ({error.strerror})") from error
    try:
        # Parsed as safetensors first: that cannot run code, and a valid file may begin with any
        # byte (its first 8 bytes are the header length, 0x80 as often as any other value).
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        if head.startswith(PICKLE_MAGIC):
            raise StyleError(
                f"style file {path} is a pickle (torch.save) file, which could run code when loaded; "
                f"stylecam only loads {SUFFIX} style files"
            ) from error
        raise StyleError(f"style file {path} is corrupt or not a safetensors file ({error})") from error
    if METADATA_KEY not in header:
        raise StyleError(f"style file {path} has no stylecam metadata (not a stylecam style file)")
    try:
        values = json.loads(header[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise StyleError(f"style file {path} has unreadable metadata ({error.msg})") from error
    return StyleMetadata.from_dict(values, path)


def load_style(name_or_path: str | os.PathLike[str]) -> tuple[Style, TransformerNet]:
    """Find, verify and load a style; returns its description and the network (CPU, eval mode)."""
    path = resolve(name_or_path)
    metadata = read_metadata(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise StyleError(f"style file {path} is corrupt ({error})") from error
    broken = [key for key, tensor in state.items() if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if broken:  # NaN or Inf weights turn every frame black or into noise
        raise StyleError(f"style file {path} has NaN or infinite weights (in {broken[0]}{' and more' if len(broken) > 1 else ''})")
    model = TransformerNet(width=metadata.width, blocks=metadata.blocks, edge_kernel=metadata.edge_kernel)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first_line = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
        shape = f"width {metadata.width}, {metadata.blocks} blocks, {metadata.edge_kernel}x{metadata.edge_kernel} edges"
        raise StyleError(
            f"style file {path} does not fit the {metadata.architecture} network of its metadata ({shape}: {first_line})"
        ) from error
    model.eval().requires_grad_(False)
    return Style(name=metadata.style, path=path, metadata=metadata), model


def save_style(model: TransformerNet, path: Path, metadata: StyleMetadata) -> None:
    """Write a style file atomically; the metadata's width, blocks and edge kernel must be the model's."""
    for name in ("width", "blocks", "edge_kernel"):
        if getattr(metadata, name) != getattr(model, name):
            raise ValueError(f"metadata says {name} {getattr(metadata, name)}, the model has {getattr(model, name)}")
    StyleMetadata.from_dict(metadata.to_dict(), path)  # what a reader will check, checked before writing
    state = {key: value.detach().to("cpu", torch.float32).contiguous() for key, value in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    save_file(state, str(tmp), metadata={METADATA_KEY: json.dumps(metadata.to_dict(), sort_keys=True)})
    os.chmod(tmp, 0o644)  # a style file is for sharing; the writer may have made it private
    os.replace(tmp, path)
