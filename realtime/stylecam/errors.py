"""The one base class of errors a user can cause and fix (bad input, missing device...).

Library code raises subclasses with a message that names the thing and the problem;
only the CLI turns them into ``stylecam: error: ...`` and exit code 2.
"""


class StylecamError(Exception):
    """An error in what the user asked for, not a bug: reported in one line, no traceback."""


class OutputError(StylecamError):
    """An output that cannot or must not be written; the message names it and says why."""
