"""Shell completion (argcomplete): commands and each command's options complete, the recipe's too."""

from __future__ import annotations

import os
import subprocess
import sys


def complete(tmp_path, line: str) -> list[str]:
    out = tmp_path / "completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_SHELL": "bash",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_IFS": "\n",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }
    result = subprocess.run([sys.executable, "-m", "stylecam"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [word.strip() for word in out.read_text().split("\n")]  # a lone match comes with its trailing space


def test_commands_complete(tmp_path):
    assert {"video", "webcam", "train", "bench-train"} <= set(complete(tmp_path, "stylecam "))
    assert complete(tmp_path, "stylecam we") == ["webcam"]


def test_a_commands_options_complete_for_runtime_and_recipe(tmp_path):
    assert "--steady-strength" in complete(tmp_path, "stylecam video --stea")
    assert "--style-image" in complete(tmp_path, "stylecam train --style-i")
