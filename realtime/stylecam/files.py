"""Files, the one home of how stylecam writes and reads them whole: claims, atomic writes, and checkpoints read without running code.

Every file stylecam writes for keeps (style files, previews, still images, videos, the styles
README, the recipe's exports and checkpoints) is written to a hidden temporary file beside it
(``partial_path``) and renamed into place when complete (``atomic_write``; the video writer
does the same over minutes): a reader, or a run killed half-way, never sees half a file.

An output a command will write is claimed before the work starts (``output_claim``): the name is
created exclusively and holds a line naming the process, so a second run writing the same name
is refused at once instead of silently replacing the first's work when it finishes. Files a run
makes along the way (screenshots, recordings, ``--save-every`` snapshots) take a new name
(``claim_new_name``) and never replace an existing file. The debris of a killed run (its
temporary files and claims) is recognised by the process id in it and swept by the next run.
A full disk, a read-only file system or a missing permission is one ``OutputError`` naming the
path, with no partial file and no claim left behind.

Every ``.pth`` / ``.ckpt`` file stylecam opens (``stylecam import``'s foreign checkpoints, the
recipe's training checkpoints) goes through ``read_checkpoint``, which only ever calls
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from stylecam.errors import OutputError, StylecamError

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


# Temporary files are named .NAME.stylecam-PID-RANDOM.partial: the PID says which process owns
# one, so a later run can tell the debris of a killed run (SIGKILL, power loss) from the work of
# a run still going, and remove only the former. Not ending in the file's own suffix, so that a
# search by suffix (``installed_styles``' ``*.safetensors``, ``find_images``) never takes a
# half-written file for a finished one; writers that pick a format by suffix are told it.
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.stylecam-(?P<pid>\d+)-[0-9a-f]{8}\.partial$")
# An output claimed by a run in progress holds this line until the finished file replaces it.
_CLAIM = b"stylecam: being written by process "
# Write errors that are the machine's state, not a bug: one line naming the path.
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def partial_path(path: Path) -> Path:
    """Where ``path`` is written until it is complete: hidden, beside it (the final rename stays on
    one file system, so it is atomic), owned by this process (see ``_PARTIAL``)."""
    return path.with_name(f".{path.name}.stylecam-{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")


def disk_error(path: Path, error: OSError) -> OutputError:
    """The one-line error for a write that the machine refused (full, read-only, not permitted)."""
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up", errno.EROFS: "the file system is read-only"}
    return OutputError(f"cannot write {path}: {reason.get(error.errno) or error.strerror or error}")


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate the process there; keep everything
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def claim_owner(path: Path) -> int | None:
    """The PID written in a claimed output, or None when the file is not a claim."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_CLAIM) + 12)
    except OSError:
        return None
    if not head.startswith(_CLAIM):
        return None
    digits = head[len(_CLAIM) :].strip()
    return int(digits) if digits.isdigit() else None


def live_claim_owner(path: Path) -> int | None:
    """The PID of the run still writing ``path``, or None (no claim, or its process is gone)."""
    owner = claim_owner(path)
    return owner if owner is not None and _process_alive(owner) else None


def sweep_stale_partials(folder: Path) -> list[Path]:
    """Remove the temporary files and output claims that killed stylecam runs left in folder."""
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL.match(entry.name)
        if match and not _process_alive(int(match["pid"])):
            entry.unlink(missing_ok=True)
            removed.append(entry)
            output = entry.with_name(match["name"])
            if claim_owner(output) == int(match["pid"]):
                output.unlink(missing_ok=True)
                removed.append(output)
    return removed


def remove_stale_claim(path: Path) -> bool:
    """Remove path if it is the claim of a process that no longer exists (a run killed before it wrote)."""
    owner = claim_owner(path)
    if owner is None or _process_alive(owner):
        return False
    path.unlink(missing_ok=True)
    return True


class OutputExistsError(OutputError):
    """The output exists already (a finished file, or another run's claim)."""


def _being_written(path: Path, owner: int) -> OutputExistsError:
    return OutputExistsError(f"output {path} is being written by another stylecam run (process {owner}); choose another name")


def claim_output(path: Path) -> None:
    """Create path exclusively, holding this process's claim: a second run writing the same name is refused, not silently last."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError as error:
        owner = live_claim_owner(path)
        if owner is not None:
            raise _being_written(path, owner) from error
        raise OutputExistsError(f"output {path} exists (use --overwrite to replace it)") from error
    except OSError as error:
        raise (
            disk_error(path, error) if error.errno in DISK_ERRORS else OutputError(f"output {path} cannot be created ({error.strerror})")
        ) from error
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_CLAIM + str(os.getpid()).encode() + b"\n")
    except OSError as error:  # a disk with room for the name but not for the line
        path.unlink(missing_ok=True)
        raise disk_error(path, error) from error


def release_claim(path: Path) -> None:
    """Remove path if it is still this process's claim (a run that failed leaves nothing behind)."""
    if claim_owner(path) == os.getpid():
        path.unlink(missing_ok=True)


def check_not_taken(path: Path, overwrite: bool = False) -> None:
    """Whether this run may take the output name ``path``: the claim of a killed run is removed;
    another run's live claim refuses (OutputExistsError), as does an existing file unless ``overwrite``."""
    remove_stale_claim(path)
    owner = live_claim_owner(path)
    if owner is not None and owner != os.getpid():
        raise _being_written(path, owner)
    if not overwrite and os.path.lexists(path):
        raise OutputExistsError(f"output {path} exists (use --overwrite to replace it)")


@contextmanager
def output_claim(path: Path | str, overwrite: bool = False) -> Iterator[Path]:
    """Hold ``path`` for this run while the block does the work that ends in writing it.

    Without ``overwrite`` the name is claimed now (``claim_output``): an existing file or another
    run's claim refuses the run before any work. With ``overwrite`` an existing finished file may
    be replaced, but never a file another run is still writing. When the block raises, the claim
    is removed and the name is as it was.
    """
    path = Path(path)
    check_not_taken(path, overwrite=True)  # an existing file is claim_output's to refuse, atomically
    if not overwrite:
        claim_output(path)
    try:
        yield path
    except BaseException:
        if not overwrite:
            release_claim(path)
        raise


def claim_new_name(folder: Path, stem: str, suffix: str) -> Path:
    """A name in ``folder`` that no file has, claimed for this run: STEM.SUFFIX, else STEM-2.SUFFIX, ...

    For the files a run makes along the way (two screenshots in one second, two recordings),
    which must never replace one another or anything else.
    """
    for number in range(1, 10_000):
        path = folder / (f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}")
        try:
            claim_output(path)
            return path
        except OutputExistsError:
            continue
    raise OutputError(f"no free name for {stem}{suffix} in {folder}")


@contextmanager
def atomic_write(path: Path | str, replace: bool = True) -> Iterator[Path]:
    """Yields a temporary path to write ``path``'s content to; renamed onto ``path`` when the block ends.

    When the block raises, the temporary file is deleted and ``path`` keeps what it held before
    (this process's claim on it is removed). The folder must exist (the caller knows whether
    creating it is right). A writer that picks the format by the file's suffix (cv2.imwrite) must
    be told it: the temporary path ends in ``.partial``. ``replace=False``: the file must not
    exist when the write ends (this process's own claim aside), checked atomically.
    A full disk, a read-only file system or a missing permission becomes one OutputError naming ``path``.
    """
    path = Path(path)
    tmp = partial_path(path)
    try:
        yield tmp
        if replace or claim_owner(path) == os.getpid():
            os.replace(tmp, path)  # atomic on POSIX and Windows: readers see the old file or the new one
        else:
            try:
                os.link(tmp, path)  # fails if the name exists: never replaces
            except FileExistsError as error:
                raise OutputExistsError(f"output {path} exists (use --overwrite to replace it)") from error
            tmp.unlink()
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        release_claim(path)
        if isinstance(error, OSError) and not isinstance(error, FileExistsError) and error.errno in DISK_ERRORS:
            raise disk_error(path, error) from error
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
