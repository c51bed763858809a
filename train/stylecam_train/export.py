"""Checkpoint or module -> style file (``weights/NAME.safetensors``), preview PNG and model-card line.

The style file carries everything a reader needs to trust and reproduce it: every training
setting, the steps, the hardware and minutes, and the painting's title, artist and licence.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from stylecam import files
from stylecam.choices import MAX_SCALE
from stylecam.files import CheckpointError, atomic_write
from stylecam.images import find_images, resize_batch, save_rgb_png, square_thumbnail
from stylecam.weights import (
    DEFAULT_NETWORK,
    NETWORKS_DIR,
    STYLE_NAME_RULE,
    SUFFIX,
    USER_STYLES_DIR,
    StyleError,
    StyleImageCredit,
    StyleMetadata,
    file_sha256,
    is_painter_network_file,
    is_style_name,
    painter_network_info,
    read_metadata,
    save_painter_network,
    save_style,
    save_style_code,
)
from stylecam_train.errors import TrainingInputError
from stylecam_train.images import decode_image
from stylecam_train.vgg import RANDOM

_KNOWN_CREDIT = "public-domain reproduction, as used by the original fast style transfer work"
_EXAMPLE_CREDIT = (
    "public-domain reproduction from the example style images of public style transfer code "
    "(jcjohnson/fast-neural-style, lengstrom/fast-style-transfer, jcjohnson/neural-style, gordicaleksa/pytorch-neural-style-transfer)"
)
# The five paintings of the shared data set (all public domain: the artists died over 70 years ago,
# and the works were published before 1929 — public domain in the US as well).
KNOWN_PAINTINGS: dict[str, dict[str, str]] = {
    "starry_night": {"title": "The Starry Night", "artist": "Vincent van Gogh", "year": "1889"},
    "wave": {"title": "The Great Wave off Kanagawa", "artist": "Katsushika Hokusai", "year": "c. 1831"},
    "the_scream": {"title": "The Scream", "artist": "Edvard Munch", "year": "1893"},
    "composition_vii": {"title": "Composition VII", "artist": "Wassily Kandinsky", "year": "1913"},
    "udnie": {"title": "Udnie (Young American Girl, The Dance)", "artist": "Francis Picabia", "year": "1913"},
    # The seven more of ../shared/data/styles (its README gives these titles and where they come from; two have
    # no title at the source).
    "edtaonisl": {"title": "Edtaonisl (Ecclesiastic)", "artist": "Francis Picabia", "year": "1913", "credit": _EXAMPLE_CREDIT},
    "shipwreck_of_the_minotaur": {
        "title": "The Shipwreck of the Minotaur",
        "artist": "J. M. W. Turner",
        "year": "c. 1810",
        "credit": _EXAMPLE_CREDIT,
    },
    "tahiti": {
        "title": "Tahitian women by a river (untitled at the source)",
        "artist": "Paul Gauguin",
        "year": "1890s",
        "credit": _EXAMPLE_CREDIT,
    },
    "thatched_cottages": {
        "title": "Thatched cottages under the sun (untitled at the source)",
        "artist": "Vincent van Gogh",
        "year": "1890",
        "credit": _EXAMPLE_CREDIT,
    },
    "night_cafe": {"title": "The Night Cafe", "artist": "Vincent van Gogh", "year": "1888", "credit": _EXAMPLE_CREDIT},
    "wheat_field": {"title": "Wheat Field with Cypresses", "artist": "Vincent van Gogh", "year": "1889", "credit": _EXAMPLE_CREDIT},
    "woman_with_a_hat": {"title": "Woman with a Hat", "artist": "Henri Matisse", "year": "1905", "credit": _EXAMPLE_CREDIT},
}
_KNOWN_LICENCE = "public domain"
CPU_NOTE = "trained on CPU at reduced settings"
# The classic settings, for a GPU (256 px crops as in Johnson et al.; batch 16 in bf16 on an H100).
GPU_SETTINGS = "--crop-size 256 --style-size 512 --batch-size 16 --max-steps 5000"
README_HEADER = (
    "# Style files\n\n"
    "One `.safetensors` file per style (the training settings and the painting's credit are in its\n"
    "metadata) and a preview `NAME.png`: the painting, three photos and their stylizations.\n"
    "Lines are written by `stylecam train` (train/stylecam_train/export.py).\n\n"
    "A style file holds a whole network, or only the style code of a painter network in `networks/`,\n"
    "which it names by SHA-256.\n\n"
    "A style trained on a CPU says so (hardware, settings, and `training.note` in its metadata);\n"
    "`training.gpu_command` in its metadata is the command that retrains it at the classic settings:\n"
    f"`stylecam train --style-image PAINTING --data PHOTOS --name NAME {GPU_SETTINGS} --overwrite`.\n\n"
    "| style | painting | credit and licence | steps | settings | hardware | minutes |\n"
    "| --- | --- | --- | --- | --- | --- | --- |\n"
)
# Settings that hold paths on the trainer's machine (None for vgg_weights means torchvision's own).
PATH_SETTINGS = ("style_image", "vgg_weights", "init_from", "network")
PREVIEW_TILE = 320  # pixels per preview tile: big enough to see strokes, small enough for git


def style_image_credit(name: str, overrides: dict[str, str | None], earlier: dict[str, str] | None = None) -> dict[str, str]:
    """Title/artist/year/credit/licence: known defaults for the shared paintings, else ``earlier``'s
    (the style a run goes on from), flags win."""
    known = KNOWN_PAINTINGS.get(name)
    credit = {"credit": _KNOWN_CREDIT, "licence": _KNOWN_LICENCE, **known} if known else dict(earlier or {})
    credit.update({key: value for key, value in overrides.items() if value})
    missing = [key for key in ("title", "artist", "licence") if not credit.get(key)]
    if missing:
        flags = ", ".join(f"--{key}" for key in missing)
        raise TrainingInputError(f"style '{name}' is not one of the known paintings: give {flags} (and --credit, --year)")
    credit.setdefault("credit", "given by the trainer")
    credit.setdefault("year", "unknown")
    return credit


def painting_key(name: str, style_image: str) -> str:
    """The known painting a style was trained on: by style name, else by the image's file name."""
    return name if name in KNOWN_PAINTINGS else Path(style_image).stem


def _cell(text: object) -> str:
    return str(text).replace("|", "/").replace("\n", " ")  # keep the Markdown table intact


def check_can_write_run(name: str, config, out: Path | None, overwrite: bool) -> None:
    """Every file a run will export, checked before it trains: the style, or a painter's network and each style."""
    if not config.painter:
        check_can_write(name, out, overwrite)
        return
    check_can_write(name, out, overwrite, folder=output_dir(out) / NETWORKS_DIR)
    for painting in config.style_image:
        check_can_write(Path(painting).stem, out, overwrite)


def earlier_credit(config) -> dict[str, str] | None:
    """The painting's credit in the style file a one-painting run goes on from (--init-from), if it is one."""
    from stylecam.weights import is_painter_network_file, read_metadata

    path = Path(config.init_from) if config.init_from else None
    if path is None or not path.is_file() or is_painter_network_file(path):
        return None
    return dataclasses.asdict(read_metadata(path).style_image)


def check_credits(name: str, config, overrides: dict[str, str | None]) -> None:
    """Each painting's credit is known or given; a painter run takes the known ones only (one --title cannot fit twelve)."""
    if not config.painter:
        style_image_credit(painting_key(name, config.style_image[0]), overrides, earlier_credit(config))
        return
    for painting in config.style_image:
        style_image_credit(Path(painting).stem, {})


def network_training_record(path: Path) -> dict[str, Any]:
    """The training record of a painter network file ({} if it has none)."""
    record = painter_network_info(path).metadata.get("training")
    return record if isinstance(record, dict) else {}


def output_dir(out: Path | None) -> Path:
    return Path(out) if out is not None else USER_STYLES_DIR


def check_can_write(name: str, out: Path | None, overwrite: bool, folder: Path | None = None) -> Path:
    if not is_style_name(name):
        raise TrainingInputError(f"style name '{name}' {STYLE_NAME_RULE}")
    path = (folder or output_dir(out)) / f"{name}{SUFFIX}"
    if path.exists() and not overwrite:
        raise TrainingInputError(f"style file {path} exists (use --overwrite to replace it)")
    # Before hours of training, not after: the nearest folder that exists must take new files
    # (the export creates the missing ones below it).
    existing = path.parent
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise TrainingInputError(f"the output folder {path.parent} cannot be made: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise TrainingInputError(f"the output folder {existing} is not writable (choose another --out)")
    return path


def default_scale_for(style_size: int) -> float:
    """Runtime processing scale to suggest: strokes are learned in pixels, and 512 px styles looked right at 1.0.

    A style learned at a smaller working size has smaller strokes; processing frames at
    style_size/512 of their size brings the strokes back (and costs fewer pixels).
    """
    return round(min(1.0, max(0.25, style_size / 512)), 2)


def options_from_args(args: argparse.Namespace, name: str | None = None) -> dict[str, Any]:
    overrides = {key: getattr(args, key) for key in ("title", "artist", "year", "licence", "credit")}
    return {
        "name": name or args.name,
        "out": args.out,
        "overwrite": args.overwrite,
        "credit_overrides": overrides,
        "default_scale": args.default_scale,
        "photo_paths": args.preview_photos,
        "data": args.data,
    }


def pick_photos(images: list[torch.Tensor], count: int) -> list[torch.Tensor]:
    """count images spread evenly over the (sorted) list: fixed across runs, varied in subject."""
    step = max(1, len(images) // count)
    return [images[(index * step + step // 2) % len(images)] for index in range(min(count, len(images)))]


def preview_photos_from(args: argparse.Namespace, images: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
    return load_preview_photos(args.preview_photos, args.data, images)


def load_preview_photos(paths: list[Path] | None, data: str | Path | None, images: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
    if paths:
        decoded = [decode_image(Path(path), 1024) for path in paths]
        unreadable = [str(path) for path, image in zip(paths, decoded, strict=True) if image is None]
        if unreadable:
            raise TrainingInputError(f"preview photo(s) cannot be read: {', '.join(unreadable)}")
        return decoded
    if images:
        return pick_photos(images, 3)
    if data is not None:
        decoded = [image for image in (decode_image(p, 1024) for p in find_images(Path(data))) if image is not None]
        if decoded:
            return pick_photos(decoded, 3)
    raise TrainingInputError("no photos for the preview: give --preview-photos or --data")


def file_names_only(config: dict[str, Any]) -> dict[str, Any]:
    """The config with its file paths cut to file names: a style file is shared, the trainer's folders are private."""
    named = dict(config)
    paintings = [str(path) for path in named.get("style_image") or []]
    # One painting is recorded as its file name (as style files always had it); several as a list of names.
    named["style_image"] = Path(paintings[0]).name if len(paintings) == 1 else [Path(path).name for path in paintings]
    if len(paintings) == 1 and Path(paintings[0]).is_file():
        named["style_image_sha256"] = file_sha256(Path(paintings[0]))
    for key in (key for key in PATH_SETTINGS if key != "style_image"):
        if named.get(key) and named[key] != RANDOM:
            path = Path(str(named[key]))
            named[key] = path.name
            if path.is_file():  # two VGG files may share a name; the digest tells them apart
                named[f"{key}_sha256"] = file_sha256(path)
    return named


def training_metadata(config: dict[str, Any], steps: int, minutes: float, hardware: str, images: int | None = None) -> dict[str, Any]:
    """``images``: the images trained on, counted over every process (Throughput); without it, steps x batch, one process's."""
    training = {
        **file_names_only(config),
        "steps": int(steps),
        "images_seen": int(images) if images else int(steps) * int(config["batch_size"]),
        "hardware": hardware,
        "minutes": round(float(minutes), 1),
        **init_record(config.get("init_from")),
    }
    if hardware.startswith("CPU"):
        training["note"] = CPU_NOTE
    return training


def spans_record(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier spans of steps and the settings they used, their paths cut to file names as in training_metadata."""

    def name_of(value: Any) -> Any:
        if isinstance(value, list):
            return [Path(str(item)).name for item in value]
        return Path(str(value)).name if value and value != RANDOM else value

    return [
        {
            "steps": span["steps"],
            "settings": {key: name_of(value) if key in PATH_SETTINGS else value for key, value in span["settings"].items()},
        }
        for span in spans
    ]


def init_record(init_from: str | None) -> dict[str, Any]:
    """A fine-tuned style's earlier training: the steps of the style it started from (and of that one's start)."""
    if not init_from or not Path(init_from).is_file():  # exported elsewhere: the file name and digest remain
        return {}
    try:
        if is_painter_network_file(Path(init_from)):  # a painter network continued: its own record's steps
            earlier = painter_network_info(Path(init_from)).metadata.get("training") or {}
        else:
            earlier = read_metadata(Path(init_from)).training
    except StyleError:
        return {}
    return {"init_from_steps": int(earlier.get("steps", 0)) + int(earlier.get("init_from_steps", 0))}


def build_preview(photos: list[torch.Tensor], rows: list[list[torch.Tensor]], painting: torch.Tensor | None = None) -> torch.Tensor:
    """(3, H, W) in [0, 1]: the photos' centre squares on top, each row of stylized tiles below, the painting (if given) on the left.

    The one preview layout of `stylecam train` (a row of stylizations, the painting beside) and
    `stylecam distill` (the teacher's row and the student's, no painting). Every tile is
    PREVIEW_TILE square; the painting is as tall as the grid, at most twice as wide as tall.
    """
    tile = (PREVIEW_TILE, PREVIEW_TILE)
    grid = [
        [square_thumbnail(photo, PREVIEW_TILE) for photo in photos],
        *[[resize_batch(t.unsqueeze(0), tile)[0] for t in row] for row in rows],
    ]
    image = torch.cat([torch.cat(row, dim=2) for row in grid], dim=1)
    if painting is not None:
        height = image.shape[1]
        _, p_h, p_w = painting.shape
        width = min(round(p_w * height / p_h), 2 * height)
        image = torch.cat([resize_batch(painting.unsqueeze(0), (height, width))[0], image], dim=2)
    return image.clamp(0, 1)


def update_readme(readme: Path, name: str, row: str) -> None:
    """Replace the line of this style in the table, or append it; creates the file with its header."""
    text = readme.read_text(encoding="utf-8") if readme.exists() else README_HEADER
    lines = text.splitlines()
    prefix = f"| {name} |"
    replaced = [row if line.startswith(prefix) else line for line in lines]
    if not any(line.startswith(prefix) for line in lines):  # not `replaced == lines`: an unchanged row is no new style
        replaced.append(row)
    with atomic_write(readme) as tmp:  # a run killed mid-write must not cut the table short
        tmp.write_text("\n".join(replaced) + "\n", encoding="utf-8")


def readme_row(name: str, credit: dict[str, str], training: dict[str, Any], settings: str | None = None) -> str:
    """A style's line in its folder's README.md table (README_HEADER's columns), for train and distill alike.

    ``credit`` has the keys of StyleImageCredit; ``settings`` is the settings cell, by default
    that of a training run (training_settings).
    """
    if settings is None:
        settings = training_settings(training)
    cells = [
        name,
        f"{credit['title']}, {credit['artist']}, {credit['year']}",
        f"{credit['credit']}; {credit['licence']}",
        training["steps"],
        settings,
        training["hardware"],
        f"{training['minutes']:g}",
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def training_settings(training: dict[str, Any]) -> str:
    """The settings cell of a trained style's README line."""
    settings = (
        f"crop {training['crop_size']}, style {training['style_size']}, batch {training['batch_size']}, "
        f"width {training['width']}, style/content/tv {training['style_weight']:g}/{training['content_weight']:g}/{training['tv_weight']:g}"
    )
    if training.get("styles"):
        settings += f", style {training['style_index'] + 1} of a painter network of {training['styles']} styles"
    stability = {key: training.get(f"{key}_weight", 0) for key in ("temporal", "noise")}
    if any(stability.values()):
        settings += ", temporal/noise " + "/".join(f"{value:g}" for value in stability.values())
    if training.get("init_from"):
        earlier = f" after its {training['init_from_steps']} steps" if "init_from_steps" in training else ""
        settings += f", fine-tuned from {training['init_from']}{earlier}"
    if training.get("note"):
        settings += f" ({training['note']})"
    return settings


def export_module(
    module,
    *,
    steps: int,
    minutes: float,
    hardware: str,
    photos: list[torch.Tensor],
    name: str | None,
    out: Path | None = None,
    overwrite: bool = False,
    credit_overrides: dict[str, str | None] | None = None,
    default_scale: float | None = None,
    images: int | None = None,
    **_ignored: Any,
) -> Path:
    """Write NAME.safetensors, NAME.png and the README line for a trained StyleTransferModule."""
    config = module.config
    if config.painter:
        return export_painter(
            module,
            steps=steps,
            minutes=minutes,
            hardware=hardware,
            images=images,
            photos=photos,
            name=name,
            out=out,
            overwrite=overwrite,
            default_scale=default_scale,
        )
    name = name or Path(config.style_image[0]).stem
    path = check_can_write(name, out, overwrite)
    credit = style_image_credit(painting_key(name, config.style_image[0]), credit_overrides or {}, earlier_credit(config))
    training = training_metadata(config.to_dict(), steps, minutes, hardware, images)
    if getattr(module, "spans", None):  # a resumed run whose earlier steps used other settings
        training["earlier_spans"] = spans_record(module.spans)
    if config.network:  # a code fit is the recipe itself, not a reduced one; a network trained at reduced settings is
        network = Path(config.network)
        training["note"] = f"style code fitted on the painter network {network.name}, its convolutions frozen"
        if CPU_NOTE in str(network_training_record(network).get("note", "")):
            # The full-quality style: the same fit on the network retrained at the classic settings (its own gpu_command).
            training["note"] += (
                f"; that network was {CPU_NOTE}: gpu_command fits the same code on GPU_NETWORK, the network retrained with its own gpu_command"
            )
            training["gpu_command"] = (
                f"stylecam train --style-image {training['style_image']} --data PHOTOS --name {name} --network GPU_NETWORK --overwrite"
            )
    elif "note" in training:  # CPU-trained: how to get the full-quality style
        # The stability terms are part of the style's recipe: a retrain from scratch keeps them.
        terms = "".join(f" --{key.replace('_', '-')} {training[key]:g}" for key in ("temporal_weight", "noise_weight") if training.get(key))
        training["gpu_command"] = (
            f"stylecam train --style-image {training['style_image']} --data PHOTOS --name {name} {GPU_SETTINGS}{terms} --overwrite"
        )
    if default_scale is None:
        default_scale = network_default_scale(Path(config.network)) if config.network else None
    metadata = StyleMetadata(
        style=name,
        width=config.width,
        training=training,
        style_image=StyleImageCredit(**credit),
        default_scale=default_scale if default_scale is not None else default_scale_for(config.style_size),
    )
    transformer = copy.deepcopy(module.transformer).to("cpu", torch.float32)  # the caller's module stays where it is
    if config.network:  # a code fitted on a painter network: the code alone, naming the network it runs on
        network = Path(config.network)
        metadata = dataclasses.replace(metadata, network={"file": network.name, "sha256": file_sha256(network)})
        save_style_code(transformer.style_code(), path, metadata)
    else:
        save_style(transformer, path, metadata)
    write_preview(transformer, Path(config.style_image[0]), photos, path.with_suffix(".png"))
    update_readme(path.parent / "README.md", name, readme_row(name, credit, training))
    return path


def network_default_scale(path: Path) -> float | None:
    """The processing scale a painter network's styles were exported at (its record's), None for a network from before it was recorded."""
    value = network_training_record(path).get("default_scale")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= MAX_SCALE else None


def write_preview(transformer: torch.nn.Module, painting_path: Path, photos: list[torch.Tensor], path: Path) -> None:
    painting = decode_image(painting_path, 1024)
    if painting is None:
        raise TrainingInputError(f"style image {painting_path} cannot be read for the preview")
    stylized = [stylize_photo(transformer, photo) for photo in photos[:3]]
    save_rgb_png(build_preview(photos[:3], [stylized], painting=painting.float().div(255)), path)


def export_painter(
    module,
    *,
    steps: int,
    minutes: float,
    hardware: str,
    photos: list[torch.Tensor],
    name: str | None,
    out: Path | None = None,
    overwrite: bool = False,
    default_scale: float | None = None,
    images: int | None = None,
) -> Path:
    """A painter run's files: networks/NAME.safetensors (shared network and code table) and a style code file per painting.

    Each code file names the network's SHA-256, so a code is never run on a network it was not
    trained with. Returns the network's path.
    """
    config = module.config
    name = name or DEFAULT_NETWORK
    folder = output_dir(out)
    check_can_write_run(name, config, out, overwrite)
    network_path = folder / NETWORKS_DIR / f"{name}{SUFFIX}"
    training = training_metadata(config.to_dict(), steps, minutes, hardware, images)
    training["styles"] = len(config.style_image)
    if getattr(module, "spans", None):
        training["earlier_spans"] = spans_record(module.spans)
    if "note" in training:  # CPU-trained: the run that makes the network at the classic settings on a GPU
        training["gpu_command"] = f"stylecam train --style-image PAINTINGS/ --data PHOTOS --name {name} {GPU_SETTINGS} --overwrite"
    painter = copy.deepcopy(module.transformer).to("cpu", torch.float32)
    names = [Path(painting).stem for painting in config.style_image]
    scale = default_scale if default_scale is not None else default_scale_for(config.style_size)
    # In the network's record too: a code fitted on it later takes the scale its styles were chosen to run at.
    training["default_scale"] = scale
    digest = save_painter_network(painter, network_path, names, training)
    for index, (painting, style) in enumerate(zip(config.style_image, names, strict=True)):
        credit = style_image_credit(style, {})
        record = {**training, "style_image": Path(painting).name, "style_index": index}
        metadata = StyleMetadata(
            style=style,
            width=painter.width,
            blocks=painter.blocks,
            edge_kernel=painter.edge_kernel,
            training=record,
            style_image=StyleImageCredit(**credit),
            default_scale=scale,
            network={"file": network_path.name, "sha256": digest},
        )
        path = folder / f"{style}{SUFFIX}"
        code = painter.style_code(index)
        save_style_code(code, path, metadata)
        write_preview(painter.with_code(code), Path(painting), photos, path.with_suffix(".png"))
        update_readme(folder / "README.md", style, readme_row(style, credit, record))
    return network_path


@torch.no_grad()
def stylize_photo(transformer: torch.nn.Module, photo: torch.Tensor) -> torch.Tensor:
    """(3, H, W) uint8 -> (3, S, S) float in [0, 1]: the preview tile's square, stylized at tile size."""
    was_training = transformer.training
    transformer.eval()
    try:
        return transformer(square_thumbnail(photo, PREVIEW_TILE).unsqueeze(0))[0].clamp(0, 1)
    finally:
        transformer.train(was_training)


def read_training_checkpoint(path: Path) -> dict[str, Any]:
    """A stylecam training checkpoint, read without running code (stylecam.files.read_checkpoint); a clear error for anything else."""
    path = Path(path)
    try:
        checkpoint = files.read_checkpoint(path)
    except CheckpointError as error:
        if error.reason is None:  # missing or unreadable: nothing is known about what it holds
            raise TrainingInputError(f"checkpoint {error}") from error
        raise TrainingInputError(f"checkpoint {path} is not a stylecam training checkpoint ({error.reason})") from error
    config = checkpoint.get("hyper_parameters", {}).get("config") if isinstance(checkpoint, dict) else None
    state = checkpoint.get("state_dict", {}) if isinstance(checkpoint, dict) else {}
    if not isinstance(config, dict) or not any(str(key).startswith("transformer.") for key in state):
        raise TrainingInputError(f"checkpoint {path} is not a stylecam training checkpoint (no stylecam settings or transformer weights)")
    return checkpoint


def checkpoint_record(path: Path) -> dict[str, Any]:
    """Steps, minutes and hardware of a checkpoint (the Throughput callback stores the last two)."""
    checkpoint = read_training_checkpoint(path)
    throughput = next((state for key, state in checkpoint.get("callbacks", {}).items() if key.startswith("Throughput")), {})
    return {
        "steps": int(checkpoint.get("global_step", 0)),
        "minutes": float(throughput.get("train_seconds", 0.0)) / 60,
        "hardware": str(throughput.get("hardware", "unknown")),
        "images": int(throughput.get("images", 0)) or None,
    }


def load_module(path: Path):
    from stylecam_train.module import StyleTransferModule

    read_training_checkpoint(path)
    return StyleTransferModule.load_from_checkpoint(str(path), map_location="cpu", weights_only=True)


def export_checkpoint(path: Path, *, photo_paths=None, data=None, **options: Any) -> Path:
    module = load_module(Path(path))
    photos = load_preview_photos(photo_paths, data)
    return export_module(module, photos=photos, **checkpoint_record(Path(path)), **options)
