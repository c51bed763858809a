"""The import structure holds: import-linter's contracts in pyproject.toml (the runtime never
imports the recipe or Lightning, no cycles, the runtime's layers), and the CLI's help stays light."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def test_import_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is part of the test extra: pip install -e '.[test]'"
    result = subprocess.run([lint_imports, "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and result.stdout.count("KEPT") >= 4


COMMANDS = [
    "styles",
    "video",
    "flicker",
    "image",
    "webcam",
    "bench",
    "sheet",
    "demo",
    "import",
    "export",
    "train",
    "paint",
    "distill",
    "bench-train",
]


@pytest.mark.parametrize("argv", [["--help"], *([command, "--help"] for command in COMMANDS)])
def test_help_loads_neither_torch_opencv_nor_pyav(argv):
    code = (
        "import sys; from stylecam.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'cv2', 'av', 'numpy', 'pytorch_lightning'})\n"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    assert "usage: stylecam" in result.stdout, result.stderr
    assert "HEAVY []" in result.stderr, result.stderr
