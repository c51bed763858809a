"""Where and how the network runs: device, precision, CPU threads, free memory, and the
one line that says which hardware gave a number."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import torch

from stylecam.choices import DEVICES, PRECISIONS  # noqa: F401  (their home; importers of this module find them here too)
from stylecam.errors import SettingError


class DeviceError(SettingError):
    """The requested device is unknown or not available (a StylecamError and a ValueError)."""


def pick_device(name: str = "auto") -> torch.device:
    if name not in DEVICES:
        raise DeviceError(f"unknown device '{name}' (choose from {', '.join(DEVICES)})")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda asked for, but no CUDA GPU is available (try --device auto)")
    if name == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("--device mps asked for, but Apple's MPS is not available (try --device auto)")
    return torch.device(name)


def configure_cpu_threads(threads: int | None = None) -> None:
    """Set torch's intra-op threads (process-wide): ``threads``, or by default one per core this
    process may use (a container or taskset may allow fewer than os.cpu_count()).

    The CLI's choice; the API calls it only when asked (``Stylizer.from_style(threads=...)``).
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise SettingError(f"threads must be a whole number of at least 1, got {threads!r}")
    if threads is None:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # macOS, Windows
            threads = os.cpu_count() or 1
    torch.set_num_threads(max(1, threads))


@dataclass
class Precision:
    dtype: torch.dtype
    # Asked for by name (--precision fp32), not chosen by auto: a back end keeps it as it is instead
    # of trading it for a faster one of its own (OpenVINO's bf16 inside, on CPUs made for it).
    exact: bool = False

    @property
    def name(self) -> str:
        return {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[self.dtype]


def pick_precision(device: torch.device, requested: str = "auto") -> Precision:
    """fp16 on CUDA (Tensor Cores; InstanceNorm keeps the statistics stable), fp32 elsewhere."""
    table = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    if requested == "auto":
        return Precision(torch.float16 if device.type == "cuda" else torch.float32)
    if requested not in table:
        raise SettingError(f"unknown precision {requested!r} (choose from {', '.join(PRECISIONS)})")
    return Precision(table[requested], exact=True)


def free_memory(device: torch.device) -> int | None:
    """Bytes the device can still allocate, or None where that cannot be known."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type == "cpu":
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not Linux
            return None
    return None


def hardware_line(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def hardware_description() -> str:
    """'GPU: NVIDIA H100 80GB HBM3' or 'CPU: 2 cores': what a reader needs to compare minutes."""
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        name = torch.cuda.get_device_name(0)
        return f"GPU: {name}" if count == 1 else f"GPU: {count}x {name}"
    return f"CPU: {os.cpu_count()} cores"
