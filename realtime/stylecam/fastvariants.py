"""Fast variants: ``NAME_fast`` is a small network distilled from the style ``NAME`` (``stylecam distill``).

The live window on a CPU runs them in place of their full styles (the full network is a few
frames a second there), unless asked for the full ones; the style keys then step through the
fast ones. Where the full style is what runs, its fast variant is left out of the keys.
"""

from __future__ import annotations

from stylecam.weights import StyleError, installed_styles, is_blend, parse_blend, resolve

FAST_SUFFIX = "_fast"


def is_fast_name(name: str) -> bool:
    return name.endswith(FAST_SUFFIX) and len(name) > len(FAST_SUFFIX)


def teacher_name(name: str) -> str:
    """``wave_fast`` -> ``wave``; any other name is its own."""
    return name[: -len(FAST_SUFFIX)] if is_fast_name(name) else name


def _installed_names() -> list[str]:
    return [path.stem for path in installed_styles()]


def fast_variant(style: str, installed: list[str] | None = None) -> str | None:
    """The installed fast variant of a style given by name, or None (a style file given by path has none)."""
    names = _installed_names() if installed is None else installed
    if style not in names or is_fast_name(style):
        return None
    candidate = f"{style}{FAST_SUFFIX}"
    return candidate if candidate in names else None


def live_style(style: str, use_fast: bool, installed: list[str] | None = None) -> str:
    """The style the live window should run: ``NAME_fast`` for ``NAME`` when ``use_fast`` and it is installed.

    A blend runs as the same blend of fast variants when every style in it has one (the codes of
    a fast painter network blend as the full ones do), else as it is.
    """
    if not use_fast:
        return style
    if is_blend(style):
        names = _installed_names() if installed is None else installed
        try:
            parts = parse_blend(style)
        except StyleError:
            return style  # malformed: loading it says what is wrong
        fast = [fast_variant(name, names) for name, _ in parts]
        if all(fast):
            return ",".join(f"{name}:{weight:g}" for name, (_, weight) in zip(fast, parts, strict=True))
        return style
    return fast_variant(style, installed) or style


def live_cycle(chosen: str, use_fast: bool, installed: list[str] | None = None) -> tuple[list[str], int]:
    """The styles the next/previous/number keys step through, and the index of ``chosen`` among them.

    One entry per style: with ``use_fast``, a style with a fast variant is replaced by it;
    without, fast variants whose full style is installed are left out. ``chosen`` (a name, or a
    path to a style file) is always in the list.
    """
    names = _installed_names() if installed is None else installed
    available = set(names)
    refs = [live_style(name, use_fast, names) for name in names if not (is_fast_name(name) and teacher_name(name) in available)]
    if chosen not in available and is_blend(chosen):
        return [chosen, *refs], 0  # a blend goes first, like a file of its own
    if chosen not in available:
        path = resolve(chosen).resolve()
        stems = {installed_path.resolve(): installed_path.stem for installed_path in installed_styles()}
        if path not in stems:
            return [str(path), *refs], 0  # a file of its own goes first; the keys load it again by path
        chosen = stems[path]
    if chosen not in refs:  # a fast variant on a GPU or with --full, or a full style on the CPU: beside its twin
        twin = teacher_name(chosen) if is_fast_name(chosen) else f"{chosen}{FAST_SUFFIX}"
        refs.insert(refs.index(twin) + 1 if twin in refs else len(refs), chosen)
    return refs, refs.index(chosen)
