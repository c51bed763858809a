"""Style files: one ``.safetensors`` file per style, metadata inside.

safetensors holds raw tensors and a JSON header, so loading a file cannot run code
(unlike a pickle). The metadata lives in the header under the key ``stylecam`` as one
JSON object (``StyleMetadata``); a file without it, of another architecture, or
whose tensors do not fit the network is refused with a message naming the file.

A style file holds either a whole one-style network, or only a *style code* (the scales and
shifts of the instance norms, a few thousand numbers) of a painter network, which it names by
file name and SHA-256 (``StyleMetadata.network``). Painter networks live in a ``networks/``
folder beside the codes (or in any styles folder's ``networks/``); a code whose network is
missing or differs is refused in one line. ``load_style`` also takes a blend of codes of one
network, ``starry_night:0.6,wave:0.4``, and mixes their codes (weights normalised).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from stylecam.choices import (
    DEFAULT_STYLE,  # noqa: F401  (their home; importers of this module find them here too)
    MAX_DETAIL,
)
from stylecam.errors import StylecamError
from stylecam.files import PICKLE_MAGIC, atomic_write
from stylecam.model import ARCHITECTURE, DEFAULT_BLOCKS, DEFAULT_EDGE_KERNEL, TransformerNet, mix_codes
from stylecam.text import printable

SUFFIX = ".safetensors"
METADATA_KEY = "stylecam"
# A style file's JSON metadata is a few KB (the training record included); a megabyte is far
# beyond any real one, and refusing more keeps a hostile file from costing memory and time.
MAX_METADATA_CHARS = 1_000_000
NETWORKS_DIR = "networks"  # painter networks, beside the style codes that use them
NETWORK_KIND = "painter_network"  # the "kind" of a painter network file's metadata
# The layout of the metadata. A reader refuses a newer one: a future field could change how the
# weights must be used, and guessing would give wrong pictures instead of a clear message.
# 2: style codes of painter networks (``network``) and painter network files; a stylecam that
# reads only 1 says "upgrade" for them instead of failing on their tensors.
FORMAT_VERSION = 2
# How frames must be prepared for the network; checked at load so that a file trained
# with another convention is refused instead of producing garbage.
PREPROCESSING = {"color": "rgb", "range": [0.0, 1.0], "layout": "NCHW"}
REQUIRED_FIELDS = ("style", "architecture", "width", "preprocessing", "training", "style_image")
REQUIRED_CREDIT_FIELDS = ("title", "artist", "credit", "licence")
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


# A style's name is its file's stem and what ``--style NAME`` looks up. Letters, digits, '_' and
# '-' only: a valid file name on every platform, never taken for a path by ``resolve`` (no
# separator, no '.' that would make a suffix) nor for a blend by ``is_blend`` (no ':' or ',').
STYLE_NAME = re.compile(r"[A-Za-z0-9_\-]+")
STYLE_NAME_RULE = "may only hold letters, digits, '_' and '-'"


def is_style_name(name: str) -> bool:
    """Whether ``name`` can name a style file (see STYLE_NAME); importers and exporters refuse others with STYLE_NAME_RULE."""
    return STYLE_NAME.fullmatch(name) is not None


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
    # The input's detail added back at the defaults (stylecam.frames.apply_controls): the fast
    # variants', whose small network blurs eyes and mouths away; 0 for the others and older files.
    default_detail: float = 0.0
    architecture: str = ""
    preprocessing: dict[str, Any] = field(default_factory=lambda: dict(PREPROCESSING))
    format_version: int = FORMAT_VERSION
    blocks: int = DEFAULT_BLOCKS
    edge_kernel: int = DEFAULT_EDGE_KERNEL
    # A style code's painter network: {"file": "NAME.safetensors", "sha256": HEX}; None for a whole network.
    network: dict[str, str] | None = None

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
        width, blocks, edge_kernel = check_network_shape(values, f"style file {path}")
        image = values["style_image"] if isinstance(values["style_image"], dict) else {}
        missing_credit = [key for key in REQUIRED_CREDIT_FIELDS if not isinstance(image.get(key), str)]
        if missing_credit:
            raise StyleError(f"style file {path} lacks style image credit: {', '.join(missing_credit)}")
        scale = values.get("default_scale", 1.0)
        if not isinstance(scale, int | float) or not 0 < scale <= 4:
            raise StyleError(f"style file {path} has an invalid default_scale {scale!r}")
        detail = values.get("default_detail", 0.0)
        if isinstance(detail, bool) or not isinstance(detail, int | float) or not 0 <= detail <= MAX_DETAIL:
            raise StyleError(f"style file {path} has an invalid default_detail {detail!r} (0 to {MAX_DETAIL:g})")
        if not isinstance(values["training"], dict):
            raise StyleError(f"style file {path} has an invalid training record")
        network = values.get("network")
        if network is not None and not _valid_network_reference(network):
            raise StyleError(f"style file {path} names its painter network wrongly (expected a file name and a SHA-256)")
        return cls(
            style=printable(values["style"]),
            width=width,
            style_image=StyleImageCredit(**{key: printable(image[key]) for key in (*REQUIRED_CREDIT_FIELDS, "year") if key in image}),
            training=values["training"],
            default_scale=float(scale),
            default_detail=float(detail),
            architecture=values["architecture"],
            format_version=version,
            blocks=blocks,
            edge_kernel=edge_kernel,
            network=dict(network) if network is not None else None,
        )


# Bounds on the fields that size a network, checked before anything is allocated: a file that
# declared a width of a million would otherwise ask for terabytes. 256 is eight times the
# classic network's width; nothing stylecam trains comes near it.
MAX_WIDTH = 256
MAX_BLOCKS = 64
MAX_STYLES = 4096  # codes in one painter network


def check_network_shape(values: dict[str, Any], what: str) -> tuple[int, int, int]:
    """(width, blocks, edge_kernel) of metadata, each within its bounds and fitting the architecture; a StyleError naming ``what`` otherwise."""
    width = values.get("width")
    if not _is_int(width) or not 4 <= width <= MAX_WIDTH:
        raise StyleError(f"{what} has an invalid width {width!r} (4 to {MAX_WIDTH})")
    blocks = values.get("blocks", DEFAULT_BLOCKS)
    if not _is_int(blocks) or not 0 <= blocks <= MAX_BLOCKS:
        raise StyleError(f"{what} has an invalid number of residual blocks {blocks!r}")
    edge_kernel = values.get("edge_kernel", DEFAULT_EDGE_KERNEL)
    if not _is_int(edge_kernel) or edge_kernel < 1 or edge_kernel % 2 == 0 or edge_kernel > 15:
        raise StyleError(f"{what} has an invalid edge_kernel {edge_kernel!r} (an odd number from 1 to 15)")
    if architecture_for(edge_kernel) != values.get("architecture"):
        raise StyleError(f"{what} says architecture '{values.get('architecture')}' but edge_kernel {edge_kernel}")
    return width, blocks, edge_kernel


def _valid_network_reference(value: Any) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("file"), str) or not isinstance(value.get("sha256"), str):
        return False
    file_name, digest = value["file"], value["sha256"]
    return (
        Path(file_name).name == file_name
        and file_name.endswith(SUFFIX)
        and len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
    )


@dataclass
class Style:
    """A loaded style: its name (a blend's is ``a:0.6,b:0.4``), file and metadata.

    ``code`` is the style code the network runs with, for a painter network's style (the mix,
    for a blend) and None for a whole one-style network; ``network_sha256`` names the painter
    network, so two codes can be told apart from two networks (a blend needs one network).
    """

    name: str
    path: Path
    metadata: StyleMetadata = field(repr=False)
    code: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    network_sha256: str | None = None
    blend: tuple[tuple[str, float], ...] = ()

    @property
    def default_scale(self) -> float:
        return self.metadata.default_scale

    @property
    def default_detail(self) -> float:
        return self.metadata.default_detail

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
    values = _read_header_json(path)
    if values.get("kind") == NETWORK_KIND if isinstance(values, dict) else False:
        raise StyleError(f"{path} is a painter network, not a style: use one of its styles (`stylecam styles`)")
    return StyleMetadata.from_dict(values, path)


def _read_header_json(path: Path) -> Any:
    """The stylecam JSON object of a safetensors file's header; a StyleError for anything else."""
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
    text = header[METADATA_KEY]
    if len(text) > MAX_METADATA_CHARS:
        raise StyleError(f"style file {path} has {len(text):,} characters of metadata, more than any style file ({MAX_METADATA_CHARS:,})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise StyleError(f"style file {path} has unreadable metadata ({error.msg})") from error
    except RecursionError as error:  # JSON nested thousands deep: no style file is
        raise StyleError(f"style file {path} has metadata nested too deeply to be a style file's") from error


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise StyleError(f"style file {path} is corrupt ({error})") from error
    broken = [key for key, tensor in state.items() if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if broken:  # NaN or Inf weights turn every frame black or into noise
        raise StyleError(f"style file {path} has NaN or infinite weights (in {broken[0]}{' and more' if len(broken) > 1 else ''})")
    return {key: tensor.float() for key, tensor in state.items()}  # fp16 files run as fp32 like the rest


def _fit(model: TransformerNet, state: dict[str, torch.Tensor], path: Path, description: str) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first_line = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
        shape = f"width {model.width}, {model.blocks} blocks, {model.edge_kernel}x{model.edge_kernel} edges"
        raise StyleError(f"style file {path} does not fit {description} ({shape}: {first_line})") from error


# ---- painter networks -----------------------------------------------------------------------
@dataclass(frozen=True)
class PainterNetwork:
    """A painter network file: the shared convolutions and the code table it was trained with."""

    path: Path
    sha256: str
    styles: tuple[str, ...]  # the name of each row of its code table
    metadata: dict[str, Any] = field(repr=False)


def is_painter_network_file(path: Path) -> bool:
    """Whether ``path`` is a painter network file (not a style): its metadata says so."""
    try:
        values = _read_header_json(Path(path))
    except StyleError:
        return False
    return isinstance(values, dict) and values.get("kind") == NETWORK_KIND


def painter_network_info(path: Path) -> PainterNetwork:
    values = _read_header_json(path)
    if not isinstance(values, dict) or values.get("kind") != NETWORK_KIND:
        raise StyleError(f"{path} is not a stylecam painter network")
    version = values.get("format_version", 1)
    if not _is_int(version) or version > FORMAT_VERSION:
        raise StyleError(
            f"painter network {path} has format version {version!r}, newer than the {FORMAT_VERSION} this stylecam reads (upgrade stylecam to use it)"
        )
    styles = values.get("styles")
    if not isinstance(styles, list) or not 0 < len(styles) <= MAX_STYLES or not all(isinstance(name, str) for name in styles):
        raise StyleError(f"painter network {path} does not list its styles (1 to {MAX_STYLES} names)")
    check_network_shape(values, f"painter network {path}")
    if values.get("preprocessing") != PREPROCESSING:
        raise StyleError(f"painter network {path} expects preprocessing {values.get('preprocessing')}, not {PREPROCESSING}")
    return PainterNetwork(path=path, sha256=_cached_sha256(path), styles=tuple(printable(name) for name in styles), metadata=values)


def load_painter_network(path: Path) -> tuple[TransformerNet, list[str]]:
    """A painter network file -> the network (with its code table; CPU, eval mode) and the name of each style."""
    info = painter_network_info(Path(path))
    values = info.metadata
    model = TransformerNet(width=values["width"], blocks=values["blocks"], edge_kernel=values["edge_kernel"], styles=len(info.styles))
    _fit(model, _load_tensors(info.path), info.path, f"the painter network of its metadata ({len(info.styles)} styles)")
    model.eval().requires_grad_(False)
    return model, list(info.styles)


def save_painter_network(model: TransformerNet, path: Path, styles: list[str], training: dict[str, Any]) -> str:
    """Write a painter network file atomically; returns its SHA-256 (what its style codes name)."""
    if model.styles != len(styles):
        raise ValueError(f"the network has {model.styles} style codes, {len(styles)} names were given")
    values = {
        "kind": NETWORK_KIND,
        "format_version": FORMAT_VERSION,
        "architecture": architecture_for(model.edge_kernel),
        "width": model.width,
        "blocks": model.blocks,
        "edge_kernel": model.edge_kernel,
        "styles": list(styles),
        "preprocessing": dict(PREPROCESSING),
        "training": training,
    }
    _write_tensors(model.state_dict(), path, values)
    return file_sha256(path)


DEFAULT_NETWORK = "painter"  # the painter network stylecam ships, which `stylecam train` fits new styles on


def find_painter_network(name_or_path: str | os.PathLike[str] = DEFAULT_NETWORK) -> Path:
    """A painter network file by path, or by name in the ``networks/`` folder of the styles folders (first found wins)."""
    text = os.fspath(name_or_path)
    candidate = Path(text).expanduser()
    if candidate.is_file() or os.sep in text or text.endswith(SUFFIX):
        if not candidate.is_file():
            raise StyleError(f"painter network {text} does not exist")
        if not is_painter_network_file(candidate):
            raise StyleError(f"{text} is not a painter network (a style file? give it as --init-from)")
        return candidate
    for folder in weights_dirs():
        path = folder / NETWORKS_DIR / f"{text}{SUFFIX}"
        if path.is_file():
            return path
    raise StyleError(f"no painter network '{text}' is installed (looked in {NETWORKS_DIR}/ of {', '.join(map(str, weights_dirs()))})")


def find_network(reference: dict[str, str], beside: Path) -> Path:
    """The painter network a style code names: in ``networks/`` beside it, else in any styles folder's; digest checked."""
    file_name, digest = reference["file"], reference["sha256"]
    folders = [beside.parent, *weights_dirs()]
    candidates = list(dict.fromkeys(folder / NETWORKS_DIR / file_name for folder in folders))
    present = [candidate for candidate in candidates if candidate.is_file()]
    for candidate in present:
        if _cached_sha256(candidate) == digest:
            return candidate
    if present:
        raise StyleError(
            f"style file {beside} belongs to another version of the painter network {file_name} "
            f"(SHA-256 {digest[:12]}..., found {_cached_sha256(present[0])[:12]}... in {present[0].parent}); "
            "install the network it was made with, or fit the style again on this one"
        )
    raise StyleError(
        f"style file {beside} needs the painter network {file_name}, which is not installed (looked in {NETWORKS_DIR}/ of its folder and of the styles folders)"
    )


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _cached_sha256(path: Path) -> str:
    """file_sha256, remembered per (path, size, modification time): every style code of a network hashes it."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = file_sha256(path)
    return _SHA_CACHE[key]


# ---- loading ---------------------------------------------------------------------------------
def parse_blend(text: str) -> list[tuple[str, float]]:
    """'starry_night:0.6,wave:0.4' -> [('starry_night', 0.6), ('wave', 0.4)]; a plain name is one part of weight 1.

    A part whose text after the last ':' is not a number is a name as it is (a path such as
    C:\\styles\\x.safetensors keeps its colon).
    """
    parts: list[tuple[str, float]] = []
    for item in (piece.strip() for piece in str(text).split(",")):
        if not item:
            raise StyleError(f"style blend '{text}' has an empty part (expected NAME:WEIGHT,NAME:WEIGHT)")
        name, colon, weight = item.rpartition(":")
        try:
            value = float(weight) if colon else None
        except ValueError:
            value = None
        if value is None:
            parts.append((item, 1.0))
            continue
        if not (value >= 0 and value < float("inf")):
            raise StyleError(f"style blend '{text}': weight {weight} of {name} must be a finite number of 0 or more")
        parts.append((name.strip(), value))
    if sum(weight for _, weight in parts) <= 0:
        raise StyleError(f"style blend '{text}' has no positive weight")
    return parts


def is_blend(text: str | os.PathLike[str]) -> bool:
    """Whether a --style value is a blend of several styles (or one style with a weight), not one name or path."""
    value = os.fspath(text)
    if not isinstance(value, str) or ("," not in value and ":" not in value) or Path(value).is_file():
        return False
    try:
        parts = parse_blend(value)
    except StyleError:
        return True  # a malformed blend: load_style says what is wrong with it
    return len(parts) > 1 or parts[0][0] != value


def load_style(name_or_path: str | os.PathLike[str]) -> tuple[Style, TransformerNet]:
    """Find, verify and load a style (or a blend, ``a:0.6,b:0.4``); returns its description and the network (CPU, eval mode)."""
    text = os.fspath(name_or_path)
    if not is_blend(text):
        return _load_one(text)
    parts = parse_blend(text)
    loaded = [_load_one(name) for name, _ in parts]
    return _blend(loaded, [weight for _, weight in parts])


def _load_one(name_or_path: str | os.PathLike[str]) -> tuple[Style, TransformerNet]:
    path = resolve(name_or_path)
    metadata = read_metadata(path)
    state = _load_tensors(path)
    model = TransformerNet(width=metadata.width, blocks=metadata.blocks, edge_kernel=metadata.edge_kernel)
    if metadata.network is None:
        _fit(model, state, path, f"the {metadata.architecture} network of its metadata")
        model.eval().requires_grad_(False)
        return Style(name=metadata.style, path=path, metadata=metadata), model
    network_path = find_network(metadata.network, path)
    code_keys = set(model.code_keys())
    shared = {key: value for key, value in _load_tensors(network_path).items() if key not in code_keys}
    unknown = sorted(set(state) - code_keys)
    if unknown:
        raise StyleError(f"style file {path} holds more than a style code ({unknown[0]})")
    _fit(model, {**shared, **state}, path, f"its painter network {network_path.name}")
    model.eval().requires_grad_(False)
    return Style(name=metadata.style, path=path, metadata=metadata, code=state, network_sha256=metadata.network["sha256"]), model


def _blend(loaded: list[tuple[Style, TransformerNet]], weights: list[float]) -> tuple[Style, TransformerNet]:
    """One network running the weighted mix of the styles' codes; they must be codes of one painter network."""
    styles = [style for style, _ in loaded]
    whole = [style.name for style in styles if style.code is None]
    if whole:
        raise StyleError(
            f"style {whole[0]} is a whole network, not a code of a painter network: only styles of one painter network blend "
            "(a network's styles are listed together by `stylecam styles`)"
        )
    networks = {style.network_sha256 for style in styles}
    if len(networks) > 1:
        names = ", ".join(f"{style.name} ({style.metadata.network['file']})" for style in styles)
        raise StyleError(f"styles of different painter networks cannot blend: {names}")
    total = sum(weights)
    code = mix_codes([style.code for style in styles], weights)
    model = loaded[0][1]
    model.load_state_dict(code, strict=False)  # the shared part is the same network for all of them
    first = styles[0]
    blend = tuple((style.name, weight / total) for style, weight in zip(styles, weights, strict=True))
    scale = sum(style.default_scale * weight for style, (_, weight) in zip(styles, blend, strict=True))
    detail = sum(style.default_detail * weight for style, (_, weight) in zip(styles, blend, strict=True))
    metadata = StyleMetadata(**{**first.metadata.__dict__, "default_scale": round(scale, 3), "default_detail": round(detail, 3)})
    name = ",".join(f"{style_name}:{weight:.2g}" for style_name, weight in blend)
    return Style(name=name, path=first.path, metadata=metadata, code=code, network_sha256=first.network_sha256, blend=blend), model


def save_style(model: TransformerNet, path: Path, metadata: StyleMetadata) -> None:
    """Write a style file atomically; the metadata's width, blocks and edge kernel must be the model's."""
    for name in ("width", "blocks", "edge_kernel"):
        if getattr(metadata, name) != getattr(model, name):
            raise ValueError(f"metadata says {name} {getattr(metadata, name)}, the model has {getattr(model, name)}")
    StyleMetadata.from_dict(metadata.to_dict(), path)  # what a reader will check, checked before writing
    _write_tensors(model.state_dict(), path, metadata.to_dict())


def save_style_code(code: dict[str, torch.Tensor], path: Path, metadata: StyleMetadata) -> None:
    """Write a style code file atomically; metadata.network names its painter network."""
    if metadata.network is None:
        raise ValueError("a style code's metadata must name its painter network")
    StyleMetadata.from_dict(metadata.to_dict(), path)
    expected = TransformerNet(width=metadata.width, blocks=metadata.blocks, edge_kernel=metadata.edge_kernel).style_code()
    if set(code) != set(expected) or any(code[key].shape != expected[key].shape for key in expected):
        raise ValueError(f"the code does not fit a width-{metadata.width} network's norms")
    _write_tensors(code, path, metadata.to_dict())


def set_style_defaults(path: Path, **defaults: Any) -> StyleMetadata:
    """The style file at ``path`` written again with ``defaults`` (default_detail=0.5, ...) in its metadata.

    Its tensors stay exactly as stored, their dtype included (the shipped fast codes are fp16), and
    so does the rest of its metadata; the new metadata is checked as a reader checks it before
    anything is written.
    """
    values = {**_read_header_json(path), **defaults}
    metadata = StyleMetadata.from_dict(values, path)
    _write_tensors(load_file(str(path)), path, values, dtype=None)  # its header just read: a safetensors file
    return metadata


def _write_tensors(state: dict[str, torch.Tensor], path: Path, values: dict[str, Any], dtype: torch.dtype | None = torch.float32) -> None:
    """``state`` (as ``dtype``; None keeps each tensor's own) and ``values`` as the stylecam metadata, atomically."""
    tensors = {key: value.detach().to("cpu", dtype or value.dtype).contiguous() for key, value in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        try:
            save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(values, sort_keys=True)})
        except SafetensorError as error:  # safetensors reports a full disk as its own error, "... (os error 28)"
            code = re.search(r"os error (\d+)", str(error))
            if code is None:
                raise
            raise OSError(int(code.group(1)), os.strerror(int(code.group(1)))) from error  # atomic_write words it
        os.chmod(tmp, 0o644)  # a style file is for sharing; the writer may have made it private
