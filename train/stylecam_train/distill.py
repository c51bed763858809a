"""``stylecam distill``: a small, fast network that imitates a trained style (its teacher).

The fast variants for the live CPU path are made here. No VGG: the teacher's own output is the
target, so a step is one forward and backward pass of a small network, and a few minutes on a
CPU are enough for a recognisable copy.

1. The teacher stylizes each photo once, at a short side of 300 pixels (a 640x480 webcam frame
   has 298 rows at the shipped styles' processing scale 0.62), on the whole picture as the
   runtime does, so its instance norms see whole frames.
2. The student learns on random aligned crops of those pairs. It sees each crop shrunk by
   ``student scale / teacher scale`` (what the runtime's processing scale does to a frame), and
   its output is enlarged back as the runtime enlarges it; the loss compares that with the
   teacher's output: L1 on the pixels plus L1 on the horizontal and vertical differences of
   neighbouring pixels (``--gradient-weight``), which keeps strokes and edges crisp where a
   pixel loss alone accepts a blur.
3. The file keeps the teacher's credit and its training record (under ``training.distilled_from``,
   with the teacher's name and sha256) and suggests the student's processing scale: at it, the
   student reproduces the teacher at the teacher's own scale.

A painter network (``stylecam distill painter``) is distilled as a whole: one small painter
network learns every style that has a code file, each step one style's crops (in turn), so that
one fast network serves all of them, blends and morphs included. Its files are
``networks/NAME_fast.safetensors`` and a code file ``STYLE_fast.safetensors`` per style.

A plain loop rather than Lightning: the targets are computed once into memory, the run is a
few minutes under a time budget, and there is nothing to resume or checkpoint; a Trainer would
add its start-up and checkpoint machinery for none of its benefits.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from stylecam.devices import configure_cpu_threads, hardware_description, pick_device
from stylecam.fastvariants import FAST_SUFFIX
from stylecam.frames import apply_controls
from stylecam.images import resize_batch, resize_to_side, save_rgb_png, square_thumbnail
from stylecam.model import TransformerNet
from stylecam.weights import (
    NETWORKS_DIR,
    SUFFIX,
    Style,
    StyleError,
    StyleMetadata,
    file_sha256,
    find_painter_network,
    installed_styles,
    is_painter_network_file,
    is_style_name,
    load_painter_network,
    load_style,
    painter_network_info,
    read_metadata,
    save_painter_network,
    save_style,
    save_style_code,
)
from stylecam_train.distill_settings import DistillConfig, DistillHardware, add_arguments  # noqa: F401  (the command's flags)
from stylecam_train.errors import TrainingDivergedError, TrainingInputError
from stylecam_train.export import PREVIEW_TILE, build_preview, check_can_write, output_dir, pick_photos, readme_row, update_readme
from stylecam_train.images import decode_folder
from stylecam_train.schedule import lr_factor
from stylecam_train.settings import check_bounds
from stylecam_train.settings import config_from_args as settings_from_args

# Short side of the pictures the teacher stylizes: a 640x480 frame is 298 rows at the shipped
# styles' processing scale 0.62. One size: on a shared 2-core CPU the teacher's pass at two sizes
# took a third of a 6-minute budget, and the crops already vary the scale of things.
TEACHER_SIDES = (300,)
# Share of --max-minutes the teacher's pass may take at most, before the loop (whose time the limit is).
TEACHER_BUDGET_SHARE = 0.35
PREVIEW_ROWS = 480  # the photos of the preview are stylized at a webcam frame's height


def config_from_args(args: argparse.Namespace) -> DistillConfig:
    # Every field that has a flag of the same name; the others keep their defaults.
    config = settings_from_args(DistillConfig, args)
    check_config(config)
    return config


def check_config(config: DistillConfig) -> None:
    """Every setting a user can get wrong, before any work: the bounds of each, and the network they make."""
    check_bounds(config)
    if config.edge_kernel % 2 == 0:
        raise TrainingInputError(f"--edge-kernel must be an odd number, got {config.edge_kernel}")
    try:
        TransformerNet(config.width, config.blocks, config.edge_kernel)
    except ValueError as error:
        raise TrainingInputError(f"the student network cannot be built: {error}") from error


# -- data ----------------------------------------------------------------------------------------
def load_photos(folder: Path, max_side: int = 1024) -> list[torch.Tensor]:
    """(3, H, W) uint8 RGB photos of a folder (unreadable files skipped with a warning); a clear error when none can be read."""
    return decode_folder(Path(folder), max_side)[0]


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    return image.clamp(0, 1).mul(255).round().to(torch.uint8)


Pair = tuple[torch.Tensor, torch.Tensor]  # (photo, the teacher's output), uint8 (3, H, W) on the CPU


@torch.inference_mode()
def teacher_pairs(
    teacher: TransformerNet,
    photos: list[torch.Tensor],
    sides: tuple[int, ...],
    device: torch.device,
    deadline: float | None = None,
    styles: list[int] | None = None,
) -> list[list[Pair]]:
    """Per style, (photo, teacher's output) pairs, each photo at each short side.

    ``styles``: the teacher's code rows to paint (a painter network); None for a one-style teacher,
    whose pairs are the one list returned. Stops early at ``deadline`` (time.monotonic()), keeping
    at least one photo for every style: the teacher's pass must not eat a time budget meant for
    training.
    """
    rows = styles if styles is not None else [None]
    pairs: list[list[Pair]] = [[] for _ in rows]
    for side in sides:
        for photo in photos:
            if pairs[0] and deadline is not None and time.monotonic() > deadline:
                return pairs
            view = resize_to_side(photo, side, short_side=True).to(device)
            kept = to_uint8(view[0]).cpu()  # one copy of the photo for all its styles
            for index, row in enumerate(rows):
                style = None if row is None else torch.tensor([row], device=device)
                pairs[index].append((kept, to_uint8(teacher(view, style)[0].float()).cpu()))
    return pairs


def sample_batch(pairs: list[Pair], crop: int, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned random crops (flipped at random) of photos and targets: two (B, 3, crop, crop) float tensors in [0, 1]."""
    inputs, targets = [], []
    for _ in range(batch):
        photo, target = pairs[int(torch.randint(len(pairs), (), generator=generator))]
        _, height, width = photo.shape
        side = min(crop, height, width)
        top = int(torch.randint(height - side + 1, (), generator=generator))
        left = int(torch.randint(width - side + 1, (), generator=generator))
        pair = torch.stack([photo[:, top : top + side, left : left + side], target[:, top : top + side, left : left + side]])
        if side != crop:
            pair = resize_batch(pair.float(), (crop, crop))
        if torch.rand((), generator=generator).item() < 0.5:
            pair = pair.flip(-1)
        inputs.append(pair[0])
        targets.append(pair[1])
    return torch.stack(inputs).float().div(255), torch.stack(targets).float().div(255)


# -- the loss ------------------------------------------------------------------------------------
def student_output(student: TransformerNet, photos: torch.Tensor, ratio: float, style: int | None = None) -> torch.Tensor:
    """What the runtime shows: the photos shrunk by ``ratio``, stylized (in code row ``style`` of a painter), enlarged back."""
    height, width = photos.shape[-2:]
    work = (max(16, round(height * ratio)), max(16, round(width * ratio)))
    rows = None if style is None else torch.full((photos.shape[0],), style, dtype=torch.long, device=photos.device)
    return resize_batch(student(resize_batch(photos, work), rows), (height, width))


def distill_loss(output: torch.Tensor, target: torch.Tensor, gradient_weight: float) -> torch.Tensor:
    """L1 on the pixels plus ``gradient_weight`` times L1 on neighbouring-pixel differences (edges, strokes)."""
    # Not clamped, although the runtime clamps: a clamp passes no gradient, and a random student starts with many
    # pixels outside [0, 1]; the loss pulls them in, which costs nothing where the teacher is in range.
    loss = F.l1_loss(output, target)
    if gradient_weight:
        dx = F.l1_loss(output[..., :, 1:] - output[..., :, :-1], target[..., :, 1:] - target[..., :, :-1])
        dy = F.l1_loss(output[..., 1:, :] - output[..., :-1, :], target[..., 1:, :] - target[..., :-1, :])
        loss = loss + gradient_weight * (dx + dy)
    return loss


@torch.no_grad()
def evaluate(
    student: TransformerNet, batches: list[tuple[torch.Tensor, torch.Tensor]], ratios: list[float], gradient_weight: float
) -> float:
    """The mean loss over held-out batches, one per style (a one-style student has one)."""
    was_training = student.training
    student.eval()
    try:
        losses = []
        for index, ((photos, targets), ratio) in enumerate(zip(batches, ratios, strict=True)):
            style = index if student.styles else None
            losses.append(float(distill_loss(student_output(student, photos, ratio, style), targets, gradient_weight)))
        return sum(losses) / len(losses)
    finally:
        student.train(was_training)


@dataclass
class DistillResult:
    student: TransformerNet
    steps: int
    minutes: float
    loss_before: float  # on a fixed held-out batch of crops
    loss_after: float
    pairs: int  # (photo, teacher output) pairs the student learned from
    sides: tuple[int, ...]  # their short sides


def start_student(config: DistillConfig, styles: int, init: TransformerNet | None) -> TransformerNet:
    """The student: random, or ``init``'s weights; a one-style ``init`` of a painter student starts every code from its own."""
    student = TransformerNet(config.width, config.blocks, config.edge_kernel, styles=styles)
    if init is None:
        return student
    if init.styles == student.styles:
        student.load_state_dict(init.state_dict())
    elif not init.styles:
        student.load_state_dict(init.with_codes([init.style_code()] * styles).state_dict())
    else:
        raise TrainingInputError(f"--init is a painter network of {init.styles} styles; the student has {styles}")
    return student


def distill(
    teacher: TransformerNet,
    teacher_scale: float | list[float],
    photos: list[torch.Tensor],
    config: DistillConfig,
    device: torch.device,
    sides: tuple[int, ...] | None = None,
    progress: bool = True,
    init: TransformerNet | None = None,
    styles: list[int] | None = None,
    code_only: bool = False,
) -> DistillResult:
    """Train a student of ``config``'s shape to imitate ``teacher`` (see the module's docstring).

    ``init``: a network of the same shape whose weights the student starts from (another style's
    fast variant: what makes a picture out of a photo carries over, and the run only has to learn
    the new painting). ``styles``: a painter teacher's code rows to learn, in the student's order,
    with ``teacher_scale`` one scale per row; the student is then a painter network of as many
    codes, and step t learns style t mod len(styles) (one style per step: one processing scale).
    ``code_only``: only the student's style code learns, its convolutions stay ``init``'s (a code
    of a fast painter network, following a teacher that changed).
    """
    check_config(config)
    started = time.monotonic()
    budget = config.max_minutes * 60 if config.max_minutes else None
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    teacher = teacher.to(device).eval()
    sides = sides or TEACHER_SIDES
    scales = list(teacher_scale) if isinstance(teacher_scale, list) else [teacher_scale]
    if len(scales) != len(styles or [None]):
        raise ValueError("one teacher scale per style")
    # The teacher's pass makes the targets before the loop; under a time limit it stops early, so that it
    # cannot take longer than a share of the limit the loop then has.
    pairs = teacher_pairs(teacher, photos, sides, device, started + TEACHER_BUDGET_SHARE * budget if budget else None, styles)
    ratios = [config.scale / scale for scale in scales]
    held_out = [
        tuple(
            part.to(device) for part in sample_batch(style_pairs, config.crop_size, config.batch_size, torch.Generator().manual_seed(12345))
        )
        for style_pairs in pairs
    ]
    student = start_student(config, len(styles) if styles is not None else 0, init)
    student = student.to(device).train().requires_grad_(True)
    if code_only:
        student.freeze_shared()
    optimizer = torch.optim.Adam([parameter for parameter in student.parameters() if parameter.requires_grad], lr=config.lr)
    loss_before = evaluate(student, held_out, ratios, config.gradient_weight)
    training_started = time.monotonic()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.steps, unit="step", desc="distill", file=sys.stderr, dynamic_ncols=True)
    step = 0
    try:
        while step < config.steps:
            # --max-minutes limits the training loop, as in `stylecam train`: at least one step, then
            # none once the limit has passed; the teacher's pass and the export do not count.
            trained = time.monotonic() - training_started
            if budget is not None and step and trained > budget:
                break
            # Whichever ends first, steps or time, ends the cosine: a time-limited run still finishes at the low rate.
            done = step / config.steps
            if budget is not None:
                done = max(done, min(1.0, trained / budget))
            for group in optimizer.param_groups:
                group["lr"] = config.lr * lr_factor(done, 1.0, config.lr_final_fraction)
            row = step % len(pairs)  # a painter student learns its styles in turn; a one-style one has one
            photos_batch, targets = (part.to(device) for part in sample_batch(pairs[row], config.crop_size, config.batch_size, generator))
            output = student_output(student, photos_batch, ratios[row], row if styles is not None else None)
            loss = distill_loss(output, targets, config.gradient_weight)
            if not torch.isfinite(loss):
                raise TrainingDivergedError(f"distillation diverged at step {step} (loss {float(loss)}): lower --lr")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if bar is not None:
                bar.update(1)
                if step % 10 == 0:
                    bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
    finally:
        if bar is not None:
            bar.close()
    loss_after = evaluate(student, held_out, ratios, config.gradient_weight)
    student = student.to("cpu").eval().requires_grad_(False)
    pair_count = sum(len(style_pairs) for style_pairs in pairs)
    return DistillResult(student, step, (time.monotonic() - started) / 60, loss_before, loss_after, pair_count, tuple(sides))


# -- the file ------------------------------------------------------------------------------------
def teacher_record(teacher: Style) -> dict[str, Any]:
    """What a fast style records of its teacher: its name, the sha256 of its file, its scale and its own training record."""
    return {
        "style": teacher.name,
        "sha256": file_sha256(teacher.path),
        "default_scale": teacher.default_scale,
        "training": teacher.metadata.training,
    }


def run_record(config: DistillConfig, result: DistillResult, hardware: str, init: StartingPoint | None, note: str) -> dict[str, Any]:
    """A distillation's settings and results, as its files record them."""
    record = {
        "method": "distillation",
        **{key: value for key, value in config.to_dict().items() if key not in ("width", "blocks", "edge_kernel", "scale")},
        "teacher_sides": list(result.sides),
        "pairs": result.pairs,
        "steps": result.steps,
        "images_seen": result.steps * config.batch_size,
        "hardware": hardware,
        "minutes": round(result.minutes, 1),
        "loss_before": round(result.loss_before, 5),
        "loss_after": round(result.loss_after, 5),
        "note": note,
    }
    if init is not None:
        kind = "network" if init.code_names else "style"
        record["initialized_from"] = {kind: init.name, "sha256": file_sha256(init.path)}
    return record


def student_metadata(
    teacher: Style, name: str, config: DistillConfig, result: DistillResult, hardware: str, init: StartingPoint | None = None
) -> StyleMetadata:
    """The teacher's credit; a training record of the distillation, with the teacher's own record under distilled_from.

    A student that is a code of ``init``'s painter network names that network, as its code files do.
    """
    note = f"a fast variant of {teacher.name} for the CPU, distilled from it (student-teacher L1 plus L1 on image gradients)"
    network = init.network if init is not None else None
    training = {"distilled_from": teacher_record(teacher), **run_record(config, result, hardware, init, note)}
    if network is not None:
        training["note"] += f"; only its style code learned, on the fast painter network {network['file']} (its convolutions frozen)"
        earlier = init.metadata.training  # the code's place in its network's table stays the same
        training.update({key: earlier[key] for key in ("style_index", "styles") if key in earlier})
    return StyleMetadata(
        style=name,
        width=config.width,
        blocks=config.blocks,
        edge_kernel=config.edge_kernel,
        style_image=teacher.metadata.style_image,
        training=training,
        default_scale=config.scale,
        default_detail=config.detail,
        network=network,
    )


@torch.inference_mode()
def stylized_tile(model: TransformerNet, photo: torch.Tensor, scale: float, detail: float = 0.0) -> torch.Tensor:
    """(3, H, W) uint8 -> (3, T, T) float: the photo at a webcam frame's height, stylized at ``scale`` (and ``detail``) as the runtime does, centre square."""
    frame = resize_to_side(photo, PREVIEW_ROWS, short_side=True)
    out = apply_controls(student_output(model, frame, scale).clamp(0, 1), frame, detail=detail)
    return square_thumbnail(to_uint8(out[0]), PREVIEW_TILE)


def distill_settings(metadata: StyleMetadata) -> str:
    """The settings cell of a distilled style's README line: its teacher, its shape and the run's settings."""
    training = metadata.training
    teacher = training["distilled_from"]
    shared = ""
    if metadata.network:
        index, count = training.get("style_index"), training.get("styles")
        shared = (
            f", style {index + 1} of a fast painter network of {count} styles"
            if index is not None and count
            else ", a fast painter network's code"
        )
    return (
        f"distilled from {teacher['style']} (sha256 {teacher['sha256'][:12]}): width {metadata.width}, {metadata.blocks} blocks, "
        f"{metadata.edge_kernel}x{metadata.edge_kernel} edges, processing scale {metadata.default_scale:g}{shared}; "
        f"crop {training['crop_size']}, batch {training['batch_size']}, L1 + {training['gradient_weight']:g} x gradient L1"
    )


def export_student(
    teacher: Style,
    teacher_model: TransformerNet,
    result: DistillResult,
    config: DistillConfig,
    name: str,
    out: Path | None,
    overwrite: bool,
    photos: list[torch.Tensor],
    hardware: str,
    init: StartingPoint | None = None,
) -> Path:
    """NAME.safetensors, NAME.png (photos, teacher, student) and its line in the folder's README.md."""
    path = check_can_write(name, out, overwrite)
    metadata = student_metadata(teacher, name, config, result, hardware, init)
    if metadata.network is not None:
        save_style_code(result.student.style_code(), path, metadata)
    else:
        save_style(result.student, path, metadata)
    teacher_cpu = copy.deepcopy(teacher_model).to("cpu", torch.float32).eval()
    write_preview_and_line(path, metadata, teacher_cpu, teacher.default_scale, result.student, pick_photos(photos, 3))
    return path


def write_preview_and_line(
    path: Path, metadata: StyleMetadata, teacher: TransformerNet, teacher_scale: float, student: TransformerNet, shown: list[torch.Tensor]
) -> None:
    """NAME.png beside a fast style's file and its line in the folder's README.md."""
    # Photos on top, the teacher's look in the middle, the student's below: no painting, the teacher is the target.
    rows = [
        [stylized_tile(teacher, photo, teacher_scale) for photo in shown],
        [stylized_tile(student, photo, metadata.default_scale, metadata.default_detail) for photo in shown],
    ]
    save_rgb_png(build_preview(shown, rows), path.with_suffix(".png"))
    row = readme_row(metadata.style, asdict(metadata.style_image), metadata.training, distill_settings(metadata))
    update_readme(path.parent / "README.md", metadata.style, row)


@dataclass
class StartingPoint:
    """What --init names: a style, or a fast painter network with the name of each of its codes."""

    name: str
    path: Path
    model: TransformerNet
    code_names: list[str]  # a painter network's styles, in its order; empty for a one-style file
    metadata: StyleMetadata | None = None  # a one-style file's, as loaded

    @property
    def network(self) -> dict[str, str] | None:
        """For a style code: the painter network it names ({file, sha256})."""
        return self.metadata.network if self.metadata is not None else None


def load_init(ref: str, config: DistillConfig) -> StartingPoint:
    """The network a student starts from; it must have the student's shape."""
    network_path = painter_network_named(ref)
    if network_path is not None:
        model, names = load_painter_network(network_path)
        start = StartingPoint(name=network_path.stem, path=network_path, model=model, code_names=names)
    else:
        style, model = load_style(ref)
        start = StartingPoint(name=style.name, path=style.path, model=model, code_names=[], metadata=style.metadata)
    wanted = (config.width, config.blocks, config.edge_kernel)
    found = (model.width, model.blocks, model.edge_kernel)
    if found != wanted:
        raise TrainingInputError(
            f"--init {ref} is a network of width {found[0]}, {found[1]} blocks, {found[2]}x{found[2]} edges; "
            f"the student is width {wanted[0]}, {wanted[1]} blocks, {wanted[2]}x{wanted[2]} edges"
        )
    return start


def codes_in_order(start: StartingPoint, names: list[str]) -> TransformerNet:
    """A fast painter network given as --init, its codes taken by name in the student's order.

    This is how a fast network follows its teacher when the teacher trains on: each style goes on
    from its own fast code, not from a neighbour's that happens to sit in the same row.
    """
    missing = [name for name in names if name not in start.code_names]
    if missing:
        raise TrainingInputError(f"--init {start.path} has no code for {', '.join(missing)} (it has {', '.join(start.code_names)})")
    return start.model.with_codes([start.model.style_code(start.code_names.index(name)) for name in names])


# -- a painter network as the teacher -------------------------------------------------------------
@dataclass
class PainterTeacher:
    """A painter network to distil, and the styles of it that have a code file: the ones the student learns."""

    path: Path
    sha256: str
    model: TransformerNet
    codes: list[Style]  # the code files found, in the network's order
    rows: list[int]  # each one's row of the network's code table


def painter_network_named(ref: str) -> Path | None:
    """The painter network that ``ref`` names (a network file, or a network's name that is no style's), else None."""
    path = Path(ref)
    if path.is_file():
        return path if is_painter_network_file(path) else None
    if not is_style_name(ref) or ref in {installed.stem for installed in installed_styles()}:
        return None
    try:
        return find_painter_network(ref)
    except StyleError:
        return None


def load_painter_teacher(path: Path) -> PainterTeacher:
    """The network and its styles' code files: beside it (NAME.safetensors above networks/) or installed, of its very SHA-256.

    A style of the network without a code file (its code is in the table, but nobody runs it) is
    left out: the student serves the styles a user can pick.
    """
    info = painter_network_info(path)  # the digest its codes must name
    model, names = load_painter_network(path)
    installed = {candidate.stem: candidate for candidate in installed_styles()}
    codes, rows = [], []
    for row, name in enumerate(names):
        for candidate in (path.parent.parent / f"{name}{SUFFIX}", installed.get(name)):
            if candidate is None or not candidate.is_file():
                continue
            try:
                metadata = read_metadata(candidate)
            except StyleError:
                continue
            if metadata.network is not None and metadata.network.get("sha256") == info.sha256:
                # Its metadata is all the student needs of it (credit, scale, record); the network is loaded once, above.
                codes.append(Style(name=metadata.style, path=candidate, metadata=metadata, network_sha256=info.sha256))
                rows.append(row)
                break
    if not codes:
        raise TrainingInputError(
            f"painter network {path} has no style code files installed (none of {', '.join(names)} beside it or among `stylecam styles`)"
        )
    return PainterTeacher(path=path, sha256=info.sha256, model=model, codes=codes, rows=rows)


def painter_student_record(
    teacher: PainterTeacher, config: DistillConfig, result: DistillResult, hardware: str, init: StartingPoint | None
) -> dict:
    """The fast network's training record: the teacher network, the run's settings and how many styles it learned."""
    note = f"a fast painter network for the CPU, distilled from {teacher.path.name} (student-teacher L1 plus L1 on image gradients)"
    return {
        "distilled_from_network": {"file": teacher.path.name, "sha256": teacher.sha256},
        **run_record(config, result, hardware, init, note),
        "styles": len(teacher.codes),
    }


def export_painter_student(
    teacher: PainterTeacher,
    result: DistillResult,
    config: DistillConfig,
    name: str,
    out: Path | None,
    overwrite: bool,
    photos: list[torch.Tensor],
    hardware: str,
    init: StartingPoint | None = None,
) -> list[Path]:
    """networks/NAME.safetensors and, per style, STYLE_fast.safetensors naming it, with a preview and a README line each."""
    folder = output_dir(out)
    network_path = folder / NETWORKS_DIR / f"{name}{SUFFIX}"
    training = painter_student_record(teacher, config, result, hardware, init)
    student = result.student
    names = [f"{code.name}{FAST_SUFFIX}" for code in teacher.codes]
    digest = save_painter_network(student, network_path, names, training)
    shown = pick_photos(photos, 3)
    teacher_cpu = copy.deepcopy(teacher.model).to("cpu", torch.float32).eval()
    written = [network_path]
    for index, (code, style_name, row) in enumerate(zip(teacher.codes, names, teacher.rows, strict=True)):
        record = {
            **training,
            "style_index": index,
            "distilled_from": teacher_record(code),
        }
        metadata = StyleMetadata(
            style=style_name,
            width=config.width,
            blocks=config.blocks,
            edge_kernel=config.edge_kernel,
            style_image=code.metadata.style_image,
            training=record,
            default_scale=config.scale,
            default_detail=config.detail,
            network={"file": network_path.name, "sha256": digest},
        )
        path = folder / f"{style_name}{SUFFIX}"
        save_style_code(student.style_code(index), path, metadata)
        teacher_one = teacher_cpu.with_code(teacher_cpu.style_code(row))
        student_one = student.with_code(student.style_code(index))
        write_preview_and_line(path, metadata, teacher_one, code.default_scale, student_one, shown)
        written.append(path)
    return written


def prepare_run(args: argparse.Namespace, config: DistillConfig) -> tuple[StartingPoint | None, list[torch.Tensor], torch.device]:
    """What every distillation needs once its outputs are known to be writable: the --init network, the photos, the device."""
    start = load_init(args.init, config) if args.init else None
    photos = load_photos(args.data)
    device = pick_device(args.device)
    if device.type == "cpu":
        configure_cpu_threads(args.threads)
    return start, photos, device


def student_line(config: DistillConfig, photos: list[torch.Tensor], device: torch.device) -> str:
    return (
        f"width {config.width}, {config.blocks} blocks, {config.edge_kernel}x{config.edge_kernel} edges at scale {config.scale:g}, "
        f"{len(photos)} photos, on {device}"
    )


def report(args: argparse.Namespace, config: DistillConfig, result: DistillResult, name: str, teacher: str, paths: list[Path]) -> int:
    """The run's last lines on stderr and, with --json, its summary on stdout."""
    print(
        f"stylecam: {result.steps} steps in {result.minutes:.1f} min; held-out loss {result.loss_before:.4f} -> {result.loss_after:.4f}",
        file=sys.stderr,
    )
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    if getattr(args, "json", False):
        summary = {
            "path": str(paths[0]),
            **({"styles": [str(path) for path in paths[1:]]} if len(paths) > 1 else {}),
            "name": name,
            "teacher": teacher,
            "steps": result.steps,
            "seconds": round(result.minutes * 60, 1),
            "loss_before": round(result.loss_before, 5),
            "loss_after": round(result.loss_after, 5),
            "student": config.to_dict(),
        }
        print(json.dumps(summary))
    return 0


def run_painter(args: argparse.Namespace, config: DistillConfig, network_path: Path) -> int:
    """`stylecam distill NETWORK`: one fast painter network for every style of the network that has a code file."""
    teacher = load_painter_teacher(network_path)
    name = args.name or f"{network_path.stem}{FAST_SUFFIX}"
    check_can_write(name, args.out, args.overwrite, folder=output_dir(args.out) / NETWORKS_DIR)
    for code in teacher.codes:
        check_can_write(f"{code.name}{FAST_SUFFIX}", args.out, args.overwrite)
    start, photos, device = prepare_run(args, config)
    init_model = None if start is None else start.model
    if start is not None and start.code_names:
        init_model = codes_in_order(start, [f"{code.name}{FAST_SUFFIX}" for code in teacher.codes])
    style_names = ", ".join(code.name for code in teacher.codes)
    print(
        f"stylecam: distilling the painter network {network_path.name} ({len(teacher.codes)} styles: {style_names}) into {name}: "
        + student_line(config, photos, device),
        file=sys.stderr,
    )
    scales = [code.default_scale for code in teacher.codes]
    result = distill(teacher.model, scales, photos, config, device, progress=not args.quiet, init=init_model, styles=teacher.rows)
    paths = export_painter_student(teacher, result, config, name, args.out, args.overwrite, photos, hardware_description(), start)
    return report(args, config, result, name, network_path.name, paths)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    network_path = painter_network_named(args.style)
    if network_path is not None:
        return run_painter(args, config, network_path)
    teacher, teacher_model = load_style(args.style)
    name = args.name or f"{teacher.name}{FAST_SUFFIX}"
    check_can_write(name, args.out, args.overwrite)
    start, photos, device = prepare_run(args, config)
    if start is not None and start.code_names:
        raise TrainingInputError(f"--init {start.path} is a fast painter network: start a one-style student from one of its styles")
    print(
        f"stylecam: distilling {teacher.name} (scale {teacher.default_scale:g}) into {name}: " + student_line(config, photos, device),
        file=sys.stderr,
    )
    # A code of a fast painter network as --init: only the code follows the teacher, and the result is
    # a code of that same network (what a retrained teacher's fast variant needs, in minutes).
    code_only = start is not None and start.network is not None
    result = distill(
        teacher_model,
        teacher.default_scale,
        photos,
        config,
        device,
        progress=not args.quiet,
        init=None if start is None else start.model,
        code_only=code_only,
    )
    path = export_student(teacher, teacher_model, result, config, name, args.out, args.overwrite, photos, hardware_description(), start)
    return report(args, config, result, name, teacher.name, [output_dir(args.out) / path.name])
