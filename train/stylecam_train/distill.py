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

import torch
import torch.nn.functional as F

from stylecam.devices import configure_cpu_threads, hardware_description, pick_device
from stylecam.fastvariants import FAST_SUFFIX
from stylecam.images import resize_batch, resize_to_side, save_rgb_png, square_thumbnail
from stylecam.model import TransformerNet
from stylecam.weights import Style, StyleMetadata, file_sha256, load_style, save_style
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


@torch.inference_mode()
def teacher_pairs(
    teacher: TransformerNet, photos: list[torch.Tensor], sides: tuple[int, ...], device: torch.device, deadline: float | None = None
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(photo, teacher's output) pairs, uint8 (3, H, W) on the CPU, each photo at each short side.

    Stops early at ``deadline`` (time.monotonic()), keeping at least one pair: the teacher's pass
    must not eat a time budget meant for training.
    """
    pairs = []
    for side in sides:
        for photo in photos:
            if pairs and deadline is not None and time.monotonic() > deadline:
                return pairs
            view = resize_to_side(photo, side, short_side=True).to(device)
            pairs.append((to_uint8(view[0]).cpu(), to_uint8(teacher(view)[0].float()).cpu()))
    return pairs


def sample_batch(
    pairs: list[tuple[torch.Tensor, torch.Tensor]], crop: int, batch: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
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
def student_output(student: TransformerNet, photos: torch.Tensor, ratio: float) -> torch.Tensor:
    """What the runtime shows: the photos shrunk by ``ratio``, stylized, and enlarged back to their size."""
    height, width = photos.shape[-2:]
    work = (max(16, round(height * ratio)), max(16, round(width * ratio)))
    return resize_batch(student(resize_batch(photos, work)), (height, width))


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
def evaluate(student: TransformerNet, batch: tuple[torch.Tensor, torch.Tensor], ratio: float, gradient_weight: float) -> float:
    was_training = student.training
    student.eval()
    try:
        photos, targets = batch
        return float(distill_loss(student_output(student, photos, ratio), targets, gradient_weight))
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


def distill(
    teacher: TransformerNet,
    teacher_scale: float,
    photos: list[torch.Tensor],
    config: DistillConfig,
    device: torch.device,
    sides: tuple[int, ...] | None = None,
    progress: bool = True,
    init: TransformerNet | None = None,
) -> DistillResult:
    """Train a student of ``config``'s shape to imitate ``teacher`` (see the module's docstring).

    ``init``: a network of the same shape whose weights the student starts from (another style's
    fast variant: what makes a picture out of a photo carries over, and the run only has to learn
    the new painting).
    """
    check_config(config)
    started = time.monotonic()
    budget = config.max_minutes * 60 if config.max_minutes else None
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    teacher = teacher.to(device).eval()
    sides = sides or TEACHER_SIDES
    # The teacher's pass makes the targets before the loop; under a time limit it stops early, so that it
    # cannot take longer than a share of the limit the loop then has.
    pairs = teacher_pairs(teacher, photos, sides, device, started + TEACHER_BUDGET_SHARE * budget if budget else None)
    ratio = config.scale / teacher_scale
    held_out = tuple(
        part.to(device) for part in sample_batch(pairs, config.crop_size, config.batch_size, torch.Generator().manual_seed(12345))
    )
    student = TransformerNet(config.width, config.blocks, config.edge_kernel)
    if init is not None:
        student.load_state_dict(init.state_dict())
    student = student.to(device).train().requires_grad_(True)
    optimizer = torch.optim.Adam(student.parameters(), lr=config.lr)
    loss_before = evaluate(student, held_out, ratio, config.gradient_weight)
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
            photos_batch, targets = (part.to(device) for part in sample_batch(pairs, config.crop_size, config.batch_size, generator))
            loss = distill_loss(student_output(student, photos_batch, ratio), targets, config.gradient_weight)
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
    loss_after = evaluate(student, held_out, ratio, config.gradient_weight)
    student = student.to("cpu").eval().requires_grad_(False)
    return DistillResult(student, step, (time.monotonic() - started) / 60, loss_before, loss_after, len(pairs), tuple(sides))


# -- the file ------------------------------------------------------------------------------------
def student_metadata(
    teacher: Style, name: str, config: DistillConfig, result: DistillResult, hardware: str, init: Style | None = None
) -> StyleMetadata:
    """The teacher's credit; a training record of the distillation, with the teacher's own record under distilled_from."""
    training = {
        "method": "distillation",
        "distilled_from": {
            "style": teacher.name,
            "sha256": file_sha256(teacher.path),
            "default_scale": teacher.default_scale,
            "training": teacher.metadata.training,
        },
        **{key: value for key, value in config.to_dict().items() if key not in ("width", "blocks", "edge_kernel", "scale")},
        "teacher_sides": list(result.sides),
        "pairs": result.pairs,
        "steps": result.steps,
        "images_seen": result.steps * config.batch_size,
        "hardware": hardware,
        "minutes": round(result.minutes, 1),
        "loss_before": round(result.loss_before, 5),
        "loss_after": round(result.loss_after, 5),
        "note": f"a fast variant of {teacher.name} for the CPU, distilled from it (student-teacher L1 plus L1 on image gradients)",
    }
    if init is not None:
        training["initialized_from"] = {"style": init.name, "sha256": file_sha256(init.path)}
    return StyleMetadata(
        style=name,
        width=config.width,
        blocks=config.blocks,
        edge_kernel=config.edge_kernel,
        style_image=teacher.metadata.style_image,
        training=training,
        default_scale=config.scale,
    )


@torch.inference_mode()
def stylized_tile(model: TransformerNet, photo: torch.Tensor, scale: float) -> torch.Tensor:
    """(3, H, W) uint8 -> (3, T, T) float: the photo at a webcam frame's height, stylized at ``scale`` as the runtime does, centre square."""
    frame = resize_to_side(photo, PREVIEW_ROWS, short_side=True)
    out = student_output(model, frame, scale).clamp(0, 1)
    return square_thumbnail(to_uint8(out[0]), PREVIEW_TILE)


def distill_settings(metadata: StyleMetadata) -> str:
    """The settings cell of a distilled style's README line: its teacher, its shape and the run's settings."""
    training = metadata.training
    teacher = training["distilled_from"]
    return (
        f"distilled from {teacher['style']} (sha256 {teacher['sha256'][:12]}): width {metadata.width}, {metadata.blocks} blocks, "
        f"{metadata.edge_kernel}x{metadata.edge_kernel} edges, processing scale {metadata.default_scale:g}; "
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
    init: Style | None = None,
) -> Path:
    """NAME.safetensors, NAME.png (photos, teacher, student) and its line in the folder's README.md."""
    path = check_can_write(name, out, overwrite)
    metadata = student_metadata(teacher, name, config, result, hardware, init)
    save_style(result.student, path, metadata)
    teacher_cpu = copy.deepcopy(teacher_model).to("cpu", torch.float32).eval()
    shown = pick_photos(photos, 3)
    # Photos on top, the teacher's look in the middle, the student's below: no painting, the teacher is the target.
    rows = [
        [stylized_tile(teacher_cpu, photo, teacher.default_scale) for photo in shown],
        [stylized_tile(result.student, photo, config.scale) for photo in shown],
    ]
    save_rgb_png(build_preview(shown, rows), path.with_suffix(".png"))
    row = readme_row(name, asdict(metadata.style_image), metadata.training, distill_settings(metadata))
    update_readme(path.parent / "README.md", name, row)
    return path


def load_init(ref: str, config: DistillConfig) -> tuple[Style, TransformerNet]:
    """The style a student starts from; it must have the student's shape."""
    style, model = load_style(ref)
    wanted = (config.width, config.blocks, config.edge_kernel)
    found = (model.width, model.blocks, model.edge_kernel)
    if found != wanted:
        raise TrainingInputError(
            f"--init {ref} is a network of width {found[0]}, {found[1]} blocks, {found[2]}x{found[2]} edges; "
            f"the student is width {wanted[0]}, {wanted[1]} blocks, {wanted[2]}x{wanted[2]} edges"
        )
    return style, model


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    teacher, teacher_model = load_style(args.style)
    name = args.name or f"{teacher.name}{FAST_SUFFIX}"
    check_can_write(name, args.out, args.overwrite)
    init_style, init_model = load_init(args.init, config) if args.init else (None, None)
    photos = load_photos(args.data)
    device = pick_device(args.device)
    if device.type == "cpu":
        configure_cpu_threads(args.threads)
    print(
        f"stylecam: distilling {teacher.name} (scale {teacher.default_scale:g}) into {name}: width {config.width}, "
        f"{config.blocks} blocks, {config.edge_kernel}x{config.edge_kernel} edges at scale {config.scale:g}, "
        f"{len(photos)} photos, on {device}",
        file=sys.stderr,
    )
    result = distill(teacher_model, teacher.default_scale, photos, config, device, progress=not args.quiet, init=init_model)
    print(
        f"stylecam: {result.steps} steps in {result.minutes:.1f} min; held-out loss {result.loss_before:.4f} -> {result.loss_after:.4f}",
        file=sys.stderr,
    )
    path = export_student(
        teacher, teacher_model, result, config, name, args.out, args.overwrite, photos, hardware_description(), init_style
    )
    written = output_dir(args.out) / path.name
    print(f"wrote {written}", file=sys.stderr)
    if getattr(args, "json", False):
        summary = {
            "path": str(written),
            "name": name,
            "teacher": teacher.name,
            "steps": result.steps,
            "seconds": round(result.minutes * 60, 1),
            "loss_before": round(result.loss_before, 5),
            "loss_after": round(result.loss_after, 5),
            "student": config.to_dict(),
        }
        print(json.dumps(summary))
    return 0
