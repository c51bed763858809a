"""Side effects of training, kept out of the LightningModule: previews, throughput, and how checkpoints are written."""

from __future__ import annotations

import math
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins import TorchCheckpointIO
from pytorch_lightning.utilities import rank_zero_only
from torchvision.utils import make_grid

from stylecam.devices import hardware_description
from stylecam.files import atomic_write
from stylecam.images import save_rgb_png, square_thumbnail


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written through stylecam.files.atomic_write, like every other file stylecam keeps.

    A run killed while it saves (Ctrl-C twice, a full disk, a lost machine) then leaves the
    previous ``last.ckpt`` whole, which ``--resume`` can continue from, instead of a cut one.
    Lightning's own writer commits through an fsspec transaction whose temporary file is in the
    system's temporary folder (tempfile.mkstemp()), often another file system than the run's
    folder, where the final move is a copy that a kill can cut short.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options (checkpoints are local files)")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as tmp:
            torch.save(checkpoint, tmp)


class PreviewGrid(pl.Callback):
    """Every ``every`` steps: a few fixed photos (top row) and their stylizations (bottom row), as PNG."""

    def __init__(self, photos: list[torch.Tensor], every: int = 500, size: int = 256):
        self.thumbnails = torch.stack([square_thumbnail(photo, size) for photo in photos])  # (N, 3, S, S)
        self.every = every
        self.saved: list[Path] = []

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if self.every > 0 and trainer.global_step % self.every == 0:
            self.write(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.write(trainer, pl_module)

    @rank_zero_only
    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        styles = pl_module.transformer.styles
        # A painter network: a row per style (every style, up to 12), so each preview shows them all.
        rows = (
            [pl_module.stylize(self.thumbnails, style).cpu() for style in range(min(styles, 12))]
            if styles
            else [pl_module.stylize(self.thumbnails).cpu()]
        )
        grid = make_grid(torch.cat([self.thumbnails, *rows]), nrow=len(self.thumbnails), padding=2)
        # The logger's own folder, not trainer.log_dir: that one is a broadcast under DDP, and this
        # method runs on rank 0 alone, so the other ranks would never join it (the run hung there).
        folder = getattr(trainer.logger, "log_dir", None) or trainer.default_root_dir
        path = Path(folder) / "previews" / f"step_{trainer.global_step:07d}.png"
        save_rgb_png(grid, path)
        self.saved.append(path)
        experiment = getattr(trainer.logger, "experiment", None)
        if hasattr(experiment, "add_image"):  # TensorBoard, when installed
            experiment.add_image("preview", grid, trainer.global_step)


class Throughput(pl.Callback):
    """Images per second (logged, and printed every ``print_every`` steps) and the training time.

    The time and hardware travel in the checkpoint (callback state), so a resumed run reports
    its total minutes and an export from a checkpoint knows where it was trained.
    """

    def __init__(self, print_every: int = 50):
        self.print_every = print_every
        self.train_seconds = 0.0
        self.images = 0
        self.hardware = hardware_description()
        self._window_start: float | None = None
        self._window_images = 0
        self._last: float | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._last = self._window_start = time.perf_counter()
        self._window_images = 0
        self._print(trainer, f"training on {self.hardware}, precision {trainer.precision}")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        now = time.perf_counter()
        self.train_seconds += now - (self._last or now)
        self._last = now
        count = len(batch) * trainer.world_size
        self.images += count
        self._window_images += count
        step = trainer.global_step
        if self.print_every > 0 and step % self.print_every == 0:
            # Timing over a window of steps, so the GPU queue evens out without a sync per step.
            rate = self._window_images / max(now - self._window_start, 1e-9)
            pl_module.log("images_per_second", rate)
            self._print(trainer, f"step {step}: {rate:.2f} images/s, {self.train_seconds / 60:.1f} min")
            self._window_start, self._window_images = now, 0

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        rate = self.images / max(self.train_seconds, 1e-9)
        self._print(trainer, f"trained {self.images} images in {self.train_seconds / 60:.1f} min: {rate:.2f} images/s ({self.hardware})")

    @staticmethod
    @rank_zero_only
    def _print(trainer: pl.Trainer, message: str) -> None:
        bar = trainer.progress_bar_callback
        if bar is not None and hasattr(bar, "print"):
            bar.print(message)  # above the progress bar, not through it
        else:
            print(message, flush=True)

    def state_dict(self) -> dict[str, Any]:
        return {"train_seconds": self.train_seconds, "images": self.images, "hardware": self.hardware}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.train_seconds = float(state_dict.get("train_seconds", 0.0))
        self.images = int(state_dict.get("images", 0))
        previous = state_dict.get("hardware")
        if previous and previous != self.hardware:
            self.hardware = f"{previous} + {self.hardware}"


class DivergenceGuard(pl.Callback):
    """Stops a run whose loss turns non-finite or explodes, and puts back the last good weights.

    Every ``check_every`` steps the loss is read (one host sync per check, not per step) and
    compared with a running average of the healthy checks. The transformer's weights are
    copied at each healthy check; a weight copy counts as good only once a later check has
    passed too, because the loss of a step is computed before that step's update. On a trip
    the confirmed copy goes back into the module, so the checkpoint and export that follow hold
    weights from before the blow-up, and ``tripped`` says what happened.
    """

    def __init__(self, check_every: int = 10, explode_factor: float = 10.0, warmup_checks: int = 5):
        self.check_every = check_every
        self.explode_factor = explode_factor
        self.warmup_checks = warmup_checks
        self.average: float | None = None
        self.healthy_checks = 0
        self.tripped: str | None = None
        self.good_step: int | None = None
        self._candidate: tuple[int, dict[str, torch.Tensor]] | None = None
        self._confirmed: tuple[int, dict[str, torch.Tensor]] | None = None

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        step = trainer.global_step
        if self.check_every <= 0 or step % self.check_every:
            return
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        value = float(loss.detach())
        problem = self._problem(value)
        if problem is None:
            self._record_healthy(step, value, pl_module)
            return
        self.tripped = f"the loss {problem} at step {step}"
        if self._confirmed is not None:
            self.good_step, weights = self._confirmed
            pl_module.transformer.load_state_dict(weights)
        trainer.should_stop = True

    def _problem(self, value: float) -> str | None:
        if not math.isfinite(value):
            return f"became {value}"
        if self.average is not None and self.healthy_checks >= self.warmup_checks and value > self.explode_factor * self.average:
            return f"jumped to {value:.4g}, {value / self.average:.0f} times its recent average {self.average:.4g}"
        return None

    def _record_healthy(self, step: int, value: float, pl_module: pl.LightningModule) -> None:
        # An exponential average over about ten checks follows the falling loss of a healthy run.
        self.average = value if self.average is None else 0.9 * self.average + 0.1 * value
        self.healthy_checks += 1
        self._confirmed = self._candidate
        self._candidate = (step, {key: value.detach().clone() for key, value in pl_module.transformer.state_dict().items()})


class GracefulStop(pl.Callback):
    """Ctrl-C or SIGTERM during training: finish the current step, then stop, so the run can be saved and resumed.

    Lightning's own handling of an interrupt exits the process (status 1) before the caller can
    save anything, and its SIGTERM handler raises out of the loop; these handlers, installed when
    training starts (after Lightning's), only record the signal. The stop is decided at the end
    of a training step, where every DDP rank decides it together. The caller reads
    ``signal_number`` and saves the checkpoint. A second signal while stopping is not swallowed:
    it interrupts at once, as the user asked twice.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signal_number: int | None = None
        self._previous: dict[int, Any] = {}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread

        def request_stop(number: int, frame: Any) -> None:
            if self.signal_number is not None:
                raise KeyboardInterrupt
            # Not trainer.should_stop here: under DDP a signal landing between this rank's vote at
            # the end of a step and the loop's own check would stop this rank alone, and the
            # others would wait for it in their next all-reduce for ever.
            self.signal_number = number

        for number in self.SIGNALS:
            self._previous[number] = signal.signal(number, request_stop)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        # Under DDP the signal reaches one process (the one a terminal, systemd or `timeout` signals);
        # every rank must stop at the same step, or the others wait forever in the next all-reduce.
        asked = self.signal_number is not None
        if trainer.world_size > 1:
            asked = trainer.strategy.reduce_boolean_decision(asked, all=False)
        if asked:
            trainer.should_stop = True

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.restore()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self.restore()

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
