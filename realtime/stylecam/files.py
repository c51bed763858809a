"""Files, the one home of how stylecam writes and reads them whole: atomic writes, and checkpoints read without running code.

Every file stylecam writes for keeps (style files, previews, still images, the styles README,
the recipe's exports) goes through ``atomic_write``: a reader, or a run killed half-way, never
sees half a file. The video writer (stylecam.sinks) has its own claim-then-write scheme, since
a recording is written for minutes and must claim its name before the first frame.

Every ``.pth`` / ``.ckpt`` file stylecam opens (``stylecam import``'s foreign checkpoints, the
recipe's training checkpoints) goes through ``read_checkpoint``, which only ever calls
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from stylecam.errors import StylecamError

PICKLE_MAGIC = (b"PK\x03\x04", b"\x80")  # torch.save zip archive, or a bare pickle stream


# The first bytes of the still-image formats FFmpeg would also open (as a one-frame "video").
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def check_input_file(path: Path, what: str = "input") -> None:
    """A file to read whole: it exists, is a regular file and can be read; a StylecamError saying which not.

    A FIFO, a socket or a device would block the reader or never end, so they are refused before
    anything opens them. ``path`` may hold any name the OS accepts, UTF-8 or not.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise StylecamError(f"{what} {path} does not exist") from None
    except OSError as error:
        raise StylecamError(f"{what} {path} cannot be read ({error.strerror or error})") from error
    if stat.S_ISDIR(info.st_mode):
        raise StylecamError(f"{what} {path} is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise StylecamError(f"{what} {path} is not a regular file (a FIFO, socket or device); stylecam reads files")
    if not os.access(path, os.R_OK):
        raise StylecamError(f"{what} {path} cannot be read (permission denied)")


def is_still_image(path: Path) -> bool:
    """Whether the file begins like a PNG, JPEG, GIF, BMP, TIFF or WebP (read as bytes: any file name works)."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    return head.startswith(IMAGE_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def utf8_name(path: Path | str) -> bool:
    """Whether a path can be given to a library that takes UTF-8 names (OpenCV crashes on others)."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:  # a name in another encoding, kept by Python as surrogates
        return False
    return True


def partial_path(path: Path) -> Path:
    """Where ``atomic_write`` puts ``path`` while it is written: hidden, beside it, ending in ``.partial``.

    Beside it, so the final rename stays on one file system (a rename across file systems is a
    copy, which a reader could see half-done). Not ending in the file's own suffix, so that a
    search by suffix (``installed_styles``' ``*.safetensors``, ``find_images``) never takes a
    half-written file for a finished one. The process id keeps two processes that write the
    same file from sharing one temporary file.
    """
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextmanager
def atomic_write(path: Path | str) -> Iterator[Path]:
    """Yields a temporary path to write ``path``'s content to; renamed onto ``path`` when the block ends.

    When the block raises, the temporary file is deleted and ``path`` keeps what it held before.
    The folder must exist (the caller knows whether creating it is right). A writer that picks
    the format by the file's suffix (cv2.imwrite) must be told it: the temporary path ends in
    ``.partial``.
    """
    path = Path(path)
    tmp = partial_path(path)
    try:
        yield tmp
        os.replace(tmp, path)  # atomic on POSIX and Windows: readers see the old file or the new one
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class CheckpointError(StylecamError):
    """A checkpoint that cannot be read, or that a safe load refuses.

    ``problem`` completes "FILE ..." ("does not exist", "cannot be loaded: ..."), and ``reason``
    is set when the file was read but is not a PyTorch file of tensors (what the file is, in
    one line, for a caller that words its own message). Callers raise their own error with it.
    """

    def __init__(self, path: Path, problem: str, reason: str | None = None):
        super().__init__(f"{path} {problem}")
        self.path = path
        self.problem = problem
        self.reason = reason


def read_checkpoint(path: Path | str) -> object:
    """What a torch.save file holds (on the CPU), loaded without running code; a CheckpointError otherwise.

    A ``.pth`` or ``.ckpt`` file is a pickle, which may run code when loaded.
    ``torch.load(weights_only=True)`` accepts tensors and plain containers only and refuses
    anything else before it is built.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(path, "does not exist")
    if not path.is_file():
        raise CheckpointError(path, "is not a file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as error:
        raise CheckpointError(path, f"cannot be read ({error.strerror or error})") from error
    if not head.startswith(PICKLE_MAGIC):
        reason = "not a PyTorch file (neither a torch.save archive nor a pickle)"
        raise CheckpointError(path, f"is {reason}", reason)
    try:
        with warnings.catch_warnings():  # e.g. the pickle protocol of an old file: not the user's concern
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except OSError as error:
        raise CheckpointError(path, f"cannot be read ({error.strerror or error})") from error
    except Exception as error:  # noqa: BLE001 - torch raises several unrelated types for a bad file
        reason = _refusal(error)
        raise CheckpointError(path, f"cannot be loaded: {reason}", reason) from error


def _refusal(error: BaseException) -> str:
    """One line about why torch.load refused a file.

    torch's own messages run to several lines and suggest weights_only=False, which is exactly
    what must not be done; none of that reaches the user.
    """
    text = str(error)
    unsupported = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if unsupported:
        return f"it holds Python objects ({unsupported.group(1)}), not only tensors, and loading those could run code"
    if type(error).__name__ == "UnpicklingError" or "weights_only" in text:
        return "it is damaged, or holds data other than tensors, which a safe load refuses"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"not a PyTorch file ({type(error).__name__}{': ' + first[:120] if first else ''})"
