"""``stylecam train``: train a style on a folder of photos and export it as a style file.

``add_arguments(parser)`` and ``run(args)`` are what the command module
stylecam_train.commands.train hands to the dispatcher, which imports it only when ``train`` is
the command. This module does not import Lightning at its top (the functions that train do),
so ``stylecam train --help`` works on an install without stylecam[train].
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from stylecam.argtypes import bounded, positive_int
from stylecam.errors import OutputError
from stylecam_train.config import TrainConfig
from stylecam_train.errors import TrainingDivergedError, TrainingInputError
from stylecam_train.settings import add_config_arguments, max_minutes_setting, scale_setting


@dataclass
class SharedFlags:
    """The flags of ``stylecam train`` outside its recipe that other commands share, declared as theirs are
    (stylecam_train.settings), so that each means the same and has the same bounds everywhere."""

    # As distill's --max-minutes: a limit on the training loop, after which the run exports what it has.
    max_minutes: float | None = max_minutes_setting(group="run")
    # As `stylecam import --default-scale` and distill's --scale: above 0, at most the runtime's MAX_SCALE.
    default_scale: float | None = scale_setting(
        None, "runtime processing scale the style suggests", shown="from the crop size", group="credit"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    inputs = parser.add_argument_group("inputs and outputs")
    inputs.add_argument("--data", help="folder of training photos (searched recursively)")
    inputs.add_argument("--name", help="style name (default: the style image's file name)")
    inputs.add_argument(
        "--out", type=Path, default=None, help="folder for the style file (default: your styles folder, see `stylecam styles`)"
    )
    inputs.add_argument("--workdir", type=Path, default=None, help="logs, previews and checkpoints (default: runs/NAME)")
    inputs.add_argument(
        "--resume", type=Path, default=None, metavar="CKPT", help="continue from a checkpoint (e.g. WORKDIR/checkpoints/last.ckpt)"
    )
    inputs.add_argument("--export-from", type=Path, default=None, metavar="CKPT", help="skip training: export this checkpoint")
    inputs.add_argument("--no-export", action="store_true", help="train only; export later with --export-from")
    inputs.add_argument("--overwrite", action="store_true", help="replace an existing style file")
    inputs.add_argument(
        "--full",
        action="store_true",
        help="train a whole one-style network (hours on a CPU) instead of fitting a style code on the installed painter network (minutes)",
    )
    inputs.add_argument(
        "--preview-photos", nargs="*", type=Path, default=None, help="photos for the exported preview (default: three from --data)"
    )
    inputs.add_argument(
        "--json",
        action="store_true",
        help="at the end, one JSON object on stdout: path, name, steps, seconds, workdir, checkpoint, stopped "
        "(notes and the progress bar are on stderr either way)",
    )

    recipe = parser.add_argument_group("recipe")
    TrainConfig.add_arguments({"inputs": inputs, "recipe": recipe})
    run = parser.add_argument_group("run length")
    run.add_argument(
        "--max-steps",
        type=positive_int,
        default=None,
        help=f"optimizer steps in total, resumed ones included (default {FULL_STEPS}; {CODE_FIT_STEPS} for a style code)",
    )
    run.add_argument(
        "--epochs", type=bounded(int, 1, 10**6), default=None, help="stop after this many epochs of --steps-per-epoch steps instead"
    )
    run.add_argument("--steps-per-epoch", type=positive_int, default=None, help="(default 1000; a style code's fit is one epoch)")

    hardware = parser.add_argument_group("hardware")
    hardware.add_argument(
        "--precision",
        default=None,
        choices=TRAIN_PRECISIONS,
        metavar="PRECISION",
        help=f"Lightning precision: {', '.join(TRAIN_PRECISIONS)} (default: bf16-mixed on a CUDA GPU that supports it, else 32)",
    )
    hardware.add_argument(
        "--accelerator",
        default="auto",
        choices=ACCELERATORS,
        help="where to train (default %(default)s: a CUDA GPU, else Apple's MPS, else the CPU); checked to be present",
    )
    hardware.add_argument(
        "--devices",
        default="auto",
        help="how many devices of the accelerator (a number, -1 for all, or GPU ids such as 0,1; "
        "default %(default)s); on the CPU, processes, at most one per core",
    )
    hardware.add_argument("--num-nodes", type=bounded(int, 1, 4096), default=1, help="(default %(default)s)")
    hardware.add_argument(
        "--strategy", default="auto", help="Lightning strategy: auto, ddp, ddp_spawn, fsdp, ... (those installed; default %(default)s)"
    )
    hardware.add_argument(
        "--num-workers", type=bounded(int, 0, 256), default=0, help="data loader workers; photos are decoded once, so 0 is usually enough"
    )

    logging = parser.add_argument_group("logging")
    logging.add_argument(
        "--log-every", type=positive_int, default=50, help="steps between logged losses and images/s (default %(default)s)"
    )
    logging.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=200,
        help="steps between saves of WORKDIR/checkpoints/last.ckpt (default %(default)s)",
    )
    logging.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep every checkpoint (WORKDIR/checkpoints/step=N.ckpt), not only last.ckpt: "
        "a run that degrades late can be exported from an earlier step",
    )
    logging.add_argument(
        "--preview-every", type=bounded(int, 0), default=500, help="steps between preview grids (default %(default)s; 0: off)"
    )

    credit = parser.add_argument_group("style image credit (known for the five shared paintings)")
    credit.add_argument("--title")
    credit.add_argument("--artist")
    credit.add_argument("--year")
    credit.add_argument("--licence")
    credit.add_argument("--credit", help="where the image comes from")
    add_config_arguments(parser, SharedFlags, {"run": run, "credit": credit})


# Lightning's precision names (the short aliases it also takes included).
TRAIN_PRECISIONS = ("32", "32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64", "64-true")
ACCELERATORS = ("auto", "cpu", "cuda", "gpu", "mps")


def check_hardware(args: argparse.Namespace) -> None:
    """--accelerator, --devices and --strategy against what this machine has and Lightning offers,
    in stylecam's words, before anything is built (Lightning's own errors are tracebacks, and too
    many CPU processes never start)."""
    import torch
    from pytorch_lightning.strategies import StrategyRegistry

    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    accelerator = args.accelerator
    if accelerator in ("cuda", "gpu") and not cuda and not (accelerator == "gpu" and mps):
        raise TrainingInputError(f"--accelerator {accelerator}: no CUDA GPU is available here (use --accelerator cpu or auto)")
    if accelerator == "mps" and not mps:
        raise TrainingInputError("--accelerator mps: Apple's MPS is not available here (use --accelerator cpu or auto)")
    kind = "cuda" if accelerator in ("cuda", "gpu") or (accelerator == "auto" and cuda) else "cpu"
    if accelerator == "mps" or (accelerator in ("auto", "gpu") and not cuda and mps):
        kind = "mps"
    available = {"cuda": torch.cuda.device_count() if cuda else 0, "mps": 1, "cpu": os.cpu_count() or 1}[kind]
    what = {"cuda": "CUDA GPU(s)", "mps": "MPS device", "cpu": "CPU cores (one process each)"}[kind]
    text = str(args.devices).strip()
    if text != "auto":
        parts = [part.strip() for part in text.strip("[]").split(",") if part.strip()]
        if not parts or not all(part.lstrip("-").isdigit() for part in parts):
            raise TrainingInputError(f"--devices must be auto, a number, -1 or ids such as 0,1; got '{text}'")
        numbers = [int(part) for part in parts]
        if len(numbers) == 1 and "," not in text:
            count = numbers[0]
            if count == 0 or count < -1 or count > available:
                raise TrainingInputError(f"--devices {count}: this machine has {available} {what} (give 1 to {available}, -1 or auto)")
        elif kind != "cuda" or any(number < 0 or number >= available for number in numbers):
            raise TrainingInputError(f"--devices {text}: ids name CUDA GPUs, and this machine has {available if kind == 'cuda' else 0}")
    strategies = {"auto", *StrategyRegistry.available_strategies()}
    if args.strategy not in strategies:
        shown = ", ".join(sorted(name for name in strategies if "_" not in name or name.startswith("ddp_")))
        raise TrainingInputError(f"--strategy {args.strategy} is not a strategy Lightning offers here (for example: {shown})")


def default_precision() -> str:
    import torch  # here, not at the top: `stylecam train --help` loads no torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16-mixed"  # tensor cores, and bf16 needs no loss scaling
    # CPU: exact by default. bf16-mixed helps only on CPUs with bf16 instructions (AVX512-BF16 or
    # AMX: 1.7x on a 2-core EPYC) and slows others down: ask for it with --precision.
    return "32"


# A style code on the painter network: a few hundred steps, since only the code learns. Measured
# on 2 CPU cores at 128 px crops and batch 4 (README, "The painter network"), 300 steps take
# under 10 minutes. Its learning rate is higher than a whole network's: the code's numbers are
# scales near 1 and shifts near 0 that must move by tenths, and nothing else moves with them.
CODE_FIT_STEPS = 300
CODE_FIT_LR = 5e-3
FULL_STEPS = 40000


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    if not args.style_image:
        raise TrainingInputError("--style-image is required to train")
    config = TrainConfig.from_args(args)
    config.style_image = expand_paintings(config.style_image)
    full = getattr(args, "full", False)
    if config.init_from and not config.painter and not full:
        continue_code(config)
    if config.network is None and not config.painter and not config.init_from and not full:
        config.network = default_network()
        # Said once the run has passed its checks (train_and_export), not before an error about something else.
        args.whole_network_note = config.network is None
    if config.network:
        resolve_network(config, args)
    elif config.init_from:
        resolve_init_from(config, width_given=getattr(args, "width", None) is not None)
    code_fit = bool(config.network)
    if getattr(args, "max_steps", None) is None:
        args.max_steps = CODE_FIT_STEPS if code_fit else FULL_STEPS
    if getattr(args, "steps_per_epoch", None) is None:
        # One epoch for a code fit: the progress bar then counts the whole run and its ETA is the run's.
        args.steps_per_epoch = args.max_steps if code_fit else 1000
    return config


def continue_code(config: TrainConfig) -> None:
    """--init-from a painter network's style code, for one painting: fit that code further on its own network.

    What someone who trained a style in minutes and wants more of it expects; a whole network
    from it is --full. Anything else given to --init-from (a whole network) is left as it was.
    """
    from stylecam.weights import find_network, find_painter_network, is_painter_network_file, read_metadata, resolve

    path = resolve(config.init_from)  # a StyleError (one line) for an unknown name or a missing file
    if is_painter_network_file(path):
        raise TrainingInputError(
            f"{path.name} is a painter network: --init-from one of its styles, or give several paintings to train it further"
        )
    reference = read_metadata(path).network
    if reference is None:
        return
    network = find_network(reference, path)
    if config.network and find_painter_network(config.network).resolve() != network.resolve():
        raise TrainingInputError(f"--init-from {path.name} is a code of {network}, not of --network {config.network}")
    config.init_from, config.network = str(path), str(network)


def default_network() -> str | None:
    """The installed painter network a new style's code is fitted on, or None (then a whole network trains)."""
    from stylecam.weights import StyleError, find_painter_network

    try:
        return str(find_painter_network())
    except StyleError:
        return None


# What a code fit takes from the painter network's own training unless a flag says otherwise: the
# shared convolutions learned their strokes at that crop and painting size and under those loss
# weights, and a code fitted under others would ask them for strokes they never learned.
INHERITED_SETTINGS = ("crop_size", "style_size", "style_weight", "content_weight", "tv_weight", "style_layers", "content_layers")


def resolve_network(config: TrainConfig, args: argparse.Namespace) -> None:
    """--network as a painter network file; the run's width and (unless given) recipe are the network's; a code learns at CODE_FIT_LR unless --lr."""
    from stylecam.weights import find_painter_network, painter_network_info

    path = find_painter_network(config.network)
    values = painter_network_info(path).metadata
    width = values["width"]
    if getattr(args, "width", None) is not None and args.width != width:
        raise TrainingInputError(f"--width {args.width} does not fit the painter network {path.name}, which has width {width}")
    config.network, config.width = str(path), width
    record = values.get("training") if isinstance(values.get("training"), dict) else {}
    inherited = {key: record[key] for key in INHERITED_SETTINGS if key in record and getattr(args, key, None) is None}
    if inherited:
        defaults = dataclasses.asdict(config) | inherited
        try:
            checked = TrainConfig.from_dict(defaults)  # the network's record, validated like flags are
        except (TypeError, ValueError) as error:
            raise TrainingInputError(f"painter network {path.name} has an unusable training record ({error})") from error
        for key in inherited:
            setattr(config, key, getattr(checked, key))
    if getattr(args, "lr", None) is None:
        config.lr = CODE_FIT_LR


def resolve_init_from(config: TrainConfig, width_given: bool) -> None:
    """--init-from as the style file's path (the metadata records which file), and its width as the run's.

    Checked now, not after the Trainer has started: an unknown style or a width that does not
    fit is one line.
    """
    from stylecam.weights import is_painter_network_file, painter_network_info, read_metadata, resolve

    path = resolve(config.init_from)  # a StyleError (one line) for an unknown name or a missing file
    # A painter network (to train on from where it stopped) or a style file.
    width = painter_network_info(path).metadata["width"] if is_painter_network_file(path) else read_metadata(path).width
    if width_given and config.width != width:
        raise TrainingInputError(f"--width {config.width} does not fit --init-from {path.name}, which has width {width}")
    config.init_from, config.width = str(path), width


def expand_paintings(paths: list[str]) -> list[str]:
    """--style-image's files, a folder standing for the images in it (sorted); a painting named twice is refused."""
    from stylecam.images import find_images

    paintings: list[str] = []
    for text in paths:
        path = Path(text)
        paintings.extend(str(found) for found in find_images(path)) if path.is_dir() else paintings.append(text)
    if not paintings:
        raise TrainingInputError(f"no paintings in {', '.join(paths)}")
    names = [Path(path).stem for path in paintings]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise TrainingInputError(f"two paintings would give the style name '{repeated[0]}': rename one of them")
    return paintings


def style_name(args: argparse.Namespace, config: TrainConfig) -> str:
    if config.painter:  # --name names the network; each painting's style is named after its file
        from stylecam.weights import DEFAULT_NETWORK

        return args.name or DEFAULT_NETWORK
    return args.name or Path(config.style_image[0]).stem


def quiet_lightning() -> None:
    """stderr shows stylecam's lines and the progress bar only: no tips, device banners or upstream deprecations."""
    import logging
    import warnings

    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Raised inside Lightning's own code on newer torch; nothing a stylecam user can act on.
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*is deprecated")


def note(message: str) -> None:
    """A line for the person watching: stderr, so stdout holds only results (the --json object)."""
    print(message, file=sys.stderr, flush=True)


def stderr_progress_bar(refresh_rate: int):
    """Lightning's TQDMProgressBar on stderr (it writes to stdout), with the lines printed above it there too."""
    from pytorch_lightning.callbacks import TQDMProgressBar

    class StderrProgressBar(TQDMProgressBar):
        # Each init_*_tqdm passes file=sys.stdout, read when it is called: pointed at stderr meanwhile.
        def init_sanity_tqdm(self):
            with contextlib.redirect_stdout(sys.stderr):
                return super().init_sanity_tqdm()

        def init_train_tqdm(self):
            with contextlib.redirect_stdout(sys.stderr):
                return super().init_train_tqdm()

        def init_validation_tqdm(self):
            with contextlib.redirect_stdout(sys.stderr):
                return super().init_validation_tqdm()

        def print(self, *args, sep: str = " ", **kwargs) -> None:
            # tqdm.write's default file is sys.stdout (the Throughput lines come here).
            super().print(*args, sep=sep, **{"file": sys.stderr, **kwargs})

    return StderrProgressBar(refresh_rate=refresh_rate)


def build_trainer(args: argparse.Namespace, workdir: Path, callbacks: list):
    import pytorch_lightning as pl

    quiet_lightning()
    from pytorch_lightning.callbacks import ModelCheckpoint
    from pytorch_lightning.loggers import CSVLogger

    from stylecam_train.callbacks import AtomicCheckpointIO

    loggers = [CSVLogger(str(workdir), name="logs")]
    try:
        import tensorboard  # noqa: F401  (only to know it is installed)
        from pytorch_lightning.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(str(workdir), name="tensorboard"))
    except ImportError:
        pass
    checkpoint = ModelCheckpoint(
        dirpath=str(workdir / "checkpoints"),
        save_last=True,
        # The loss of random crops says little about quality, so no "best": the latest, or all.
        save_top_k=-1 if args.keep_checkpoints else 0,
        filename="{step}",
        every_n_train_steps=max(1, args.checkpoint_every),
    )
    return pl.Trainer(
        accelerator=args.accelerator,
        devices=args.devices,
        num_nodes=args.num_nodes,
        strategy=args.strategy,
        precision=args.precision or default_precision(),
        max_steps=args.max_steps,
        max_epochs=args.epochs if args.epochs is not None else -1,
        max_time=timedelta(minutes=args.max_minutes) if args.max_minutes else None,
        # Never more than the run's steps: a code fit's epoch is the whole run, and Lightning warns on
        # stderr of a logging interval longer than an epoch.
        log_every_n_steps=min(args.log_every, args.max_steps) if args.max_steps and args.max_steps > 0 else args.log_every,
        logger=loggers,
        callbacks=[checkpoint, stderr_progress_bar(max(1, min(args.log_every, 10))), *callbacks],
        plugins=[AtomicCheckpointIO()],
        default_root_dir=str(workdir),
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )


def run(args: argparse.Namespace) -> int:
    """Train (or resume) and export; returns the exit code. Raises TrainingInputError on bad input."""
    from stylecam_train import export

    if args.export_from is not None:
        started = time.perf_counter()
        path = export.export_checkpoint(args.export_from, **export.options_from_args(args))
        note(f"wrote {path}")
        if getattr(args, "json", False):
            steps = export.checkpoint_record(args.export_from)["steps"]
            print_result(path, path.stem, steps, time.perf_counter() - started, None, args.export_from)
        return 0
    return train_and_export(args)


def print_result(
    path: Path | None, name: str, steps: int, seconds: float, workdir: Path | None, checkpoint: Path | None, stopped: str | None = None
) -> None:
    """--json: the run as one JSON object on stdout. path: the style file (a painter run: its network), None when
    nothing was exported; seconds: the training's wall time (--export-from: the export's); stopped: why a run ended early."""
    result = {
        "path": None if path is None else str(path),
        "name": name,
        "steps": steps,
        "seconds": round(seconds, 1),
        "workdir": None if workdir is None else str(workdir),
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "stopped": stopped,
    }
    print(json.dumps(result), flush=True)


def train_and_export(args: argparse.Namespace) -> int:
    import pytorch_lightning as pl

    from stylecam_train import export
    from stylecam_train.callbacks import DivergenceGuard, GracefulStop, PreviewGrid, Throughput
    from stylecam_train.images import load_style_image

    config = config_from_args(args)
    name = style_name(args, config)
    # Everything that can fail is checked before the Trainer starts, not after an hour of training.
    check_hardware(args)
    export.check_can_write_run(name, config, args.out, args.overwrite)
    export.check_credits(name, config, export.options_from_args(args)["credit_overrides"])
    for painting in config.style_image:
        load_style_image(painting, config.style_size)
    if args.resume is not None:
        # A clear message for a missing, foreign or unreadable file, and for one of another task.
        check_resumable(export.read_training_checkpoint(args.resume), config, args.resume)
    workdir = args.workdir or Path("runs") / name
    from stylecam.files import sweep_stale_partials

    sweep_stale_partials(workdir / "checkpoints")  # the half-written checkpoint of a run killed outright
    pl.seed_everything(config.seed, workers=True, verbose=False)
    datamodule = build_datamodule(args, config)
    module = build_module(args, config)
    throughput = Throughput(print_every=args.log_every)
    previews = PreviewGrid(export.pick_photos(datamodule.images, 4), every=args.preview_every)
    # As often as the losses are logged, at least every 10 steps: one host sync per check.
    guard = DivergenceGuard(check_every=min(10, max(1, args.log_every)))
    if getattr(args, "whole_network_note", False):
        note("stylecam: no painter network installed: training a whole network (as --full does), which takes hours on a CPU")
    stop = GracefulStop()
    trainer = build_trainer(args, workdir, [throughput, previews, guard, stop])
    started = time.perf_counter()
    # weights_only: a checkpoint is a pickle, and loading one must not be able to run code. Whatever a
    # callback prints during the run is a note, so it goes to stderr with the progress bar.
    with contextlib.redirect_stdout(sys.stderr):
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(args.resume) if args.resume else None, weights_only=True)
    # The last step is saved whatever stopped the run (max steps between checkpoints,
    # --max-minutes, Ctrl-C), so --resume and --export-from always see the final weights.
    last = workdir / "checkpoints" / "last.ckpt"
    trainer.save_checkpoint(str(last), weights_only=False)  # the whole state, so --resume can continue
    seconds = time.perf_counter() - started
    if trainer.is_global_zero:  # one line, not one per DDP process
        note(f"training took {seconds / 60:.1f} min wall time; last checkpoint {last}")
    wants_json = getattr(args, "json", False)
    if guard.tripped:
        kept = f"the weights of step {guard.good_step} are in {last}" if guard.good_step is not None else "no good weights were kept"
        raise TrainingDivergedError(
            f"training diverged: {guard.tripped}; {kept} (not exported: lower --lr or --style-weight, "
            f"then --resume {last}, or export it with --export-from {last})"
        )
    if stop.signal_number is not None or trainer.interrupted:
        name_of = "terminated" if stop.signal_number == signal.SIGTERM else "interrupted"
        note(f"stylecam: {name_of} at step {trainer.global_step}, saved; continue with: {resume_command(args, last)}")
        if wants_json and trainer.is_global_zero:
            print_result(None, name, trainer.global_step, seconds, workdir, last, stopped=name_of)
        return 143 if stop.signal_number == signal.SIGTERM else 130
    if not trainer.is_global_zero:
        return 0
    if args.no_export:
        if wants_json:
            print_result(None, name, trainer.global_step, seconds, workdir, last)
        return 0
    if trainer.global_step == 0:  # an untrained network is no style (a time budget spent before the first step)
        raise TrainingInputError(f"no training step was taken, so nothing is exported (the run stopped before its first step; {last})")
    try:
        path = export.export_module(
            module,
            steps=trainer.global_step,
            minutes=throughput.train_seconds / 60,
            hardware=throughput.hardware,
            images=throughput.images,
            photos=export.preview_photos_from(args, datamodule.images),
            **export.options_from_args(args, name=name),
        )
    except OutputError as error:  # a disk that filled up during training: the work is in the checkpoint
        raise TrainingInputError(f"{error}; the trained weights are kept in {last}: export them with --export-from {last}") from error
    note(f"wrote {path}")
    if wants_json:
        print_result(path, name, trainer.global_step, seconds, workdir, last)
    return 0


# What a checkpoint's weights are: resuming with another of these would train another network
# under the old one's step count. Everything else (learning rate, weights of the losses, crop,
# batch) may change between spans; each span's settings are recorded (module.spans).
RESUME_MUST_MATCH = ("width", "network")


def check_resumable(checkpoint: dict, config, path: Path) -> None:
    """Refuse --resume of a checkpoint trained on other paintings or another architecture."""
    from stylecam_train.config import TrainConfig

    before = TrainConfig.from_dict(checkpoint["hyper_parameters"]["config"])
    paintings_before = [Path(painting).name for painting in before.style_image]
    paintings_now = [Path(painting).name for painting in config.style_image]
    if paintings_before != paintings_now:
        shown = ", ".join(paintings_before[:3]) + (f" and {len(paintings_before) - 3} more" if len(paintings_before) > 3 else "")
        raise TrainingInputError(
            f"--resume {path} was trained on {shown}, not on what --style-image gives now; resume with the same "
            "paintings, or start a new run (--init-from takes a finished style's weights)"
        )
    for field in RESUME_MUST_MATCH:
        was, now = getattr(before, field), getattr(config, field)
        if (Path(was).name if field == "network" and was else was) != (Path(now).name if field == "network" and now else now):
            raise TrainingInputError(
                f"--resume {path} has --{field.replace('_', '-')} {was}, this run asks for {now}; they must be the same"
            )


def resume_command(args: argparse.Namespace, checkpoint: Path) -> str:
    """The command line that continues this run from checkpoint: the same words, with --resume set to it."""
    import shlex

    words = list(getattr(args, "argv", None) or sys.argv[1:])
    if "--resume" in words:  # replace an earlier --resume's value
        index = words.index("--resume")
        del words[index : index + 2]
    words = [word for word in words if not word.startswith("--resume=")]
    command = words if words[:1] == ["train"] else ["train", *words]
    return shlex.join(["stylecam", *command, "--resume", str(checkpoint)])


def build_module(args: argparse.Namespace, config: TrainConfig):
    """The LightningModule with the loss network, started from --init-from's weights unless resuming."""
    from stylecam_train.module import StyleTransferModule
    from stylecam_train.vgg import load_vgg

    module = StyleTransferModule(config, vgg=load_vgg(config.vgg_weights))
    # A resumed run takes its weights from the checkpoint; a code fit has taken its code already.
    if config.init_from and not config.network and args.resume is None:
        module.load_initial_weights()
    return module


def build_datamodule(args: argparse.Namespace, config: TrainConfig):
    from stylecam_train.data import PhotoDataModule

    if args.data is None:
        raise TrainingInputError("--data (a folder of training photos) is required to train")
    datamodule = PhotoDataModule(
        args.data,
        crop_size=config.crop_size,
        batch_size=config.batch_size,
        scale=config.crop_scale,
        steps_per_epoch=args.steps_per_epoch,
        decode_side=config.decode_size,
        num_workers=args.num_workers,
    )
    datamodule.setup("fit")  # errors about the photo folder now, before the Trainer starts
    if datamodule.skipped_count:
        note(f"skipped {datamodule.skipped_count} unreadable image(s) in {args.data}")
    return datamodule
