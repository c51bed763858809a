"""Text from files and file names, made safe for where it goes: a terminal, or a picture."""

from __future__ import annotations

import unicodedata

MAX_TEXT_CHARS = 300  # names, titles, artists, credits: one line each on a terminal


def printable(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """Text read from a file, safe for a terminal, a log or a window title: control and format
    characters (escape sequences that retitle or clear a terminal, bidi overrides that reorder
    what is shown) become '?', and text longer than ``limit`` is cut with '...'."""
    cleaned = "".join("?" if unicodedata.category(char).startswith("C") else char for char in str(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def drawable(text: str) -> str:
    """Text for cv2.putText, which draws ASCII only and crashes the process on a str holding a
    surrogate (how Python keeps a file name that is not UTF-8): anything else becomes '?'."""
    return text.encode("ascii", "replace").decode("ascii")
