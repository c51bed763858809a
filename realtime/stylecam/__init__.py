"""stylecam: live video that looks like a painting.

The Python API::

    import stylecam
    from stylecam import Stylizer

    stylizer = Stylizer.from_style("starry_night", device="auto")
    painted = stylizer(frame)  # NumPy (BGR, or channels="rgb"), PIL image or torch tensor in, the same kind out
    stylecam.stylize_video(stylizer, "in.mp4", "out.mp4")  # sound and timing kept
    stylecam.stylize_folder(stylizer, "photos/", "painted/")

``styles()`` lists the installed styles. Errors a user can fix are ``StylecamError``. The
training recipe is ``stylecam_train``; importing ``stylecam`` never loads it.

The API leaves the process's settings alone: importing ``stylecam`` sets no environment variable,
and a Stylizer keeps torch's thread count unless given ``threads``. It reports through
``warnings`` (``StylecamWarning``) and the ``stylecam`` loggers and configures neither. The
``stylecam`` command makes its own choices (quiet OpenCV logs, one thread per core, those
reports as ``stylecam: ...`` lines on stderr) in its entry point.
"""

# Loaded on first use (PEP 562): `stylecam --help` and `import stylecam` stay quick, torch and
# OpenCV load only when the API is touched.
_LAZY = {
    "Stylizer": "stylecam.frames",
    "StylecamError": "stylecam.errors",
    "SettingError": "stylecam.errors",
    "InputError": "stylecam.errors",
    "InputTypeError": "stylecam.errors",
    "StylecamWarning": "stylecam.errors",
    "Style": "stylecam.weights",
    "StyleMetadata": "stylecam.weights",
    "load_style": "stylecam.weights",
    "stylize_video": "stylecam.loops",
    "stylize_folder": "stylecam.loops",
}
__all__ = [*_LAZY, "styles", "__version__"]


def styles() -> list[str]:
    """The names of the installed styles (shipped, the user's own, and $STYLECAM_WEIGHTS folders)."""
    from stylecam.weights import installed_styles

    return [path.stem for path in installed_styles()]


def __getattr__(name: str):
    if name == "__version__":  # the installed distribution's, the one pip and `stylecam --version` show
        from stylecam.cli import _version

        return _version()
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stylecam' has no attribute {name!r}")
