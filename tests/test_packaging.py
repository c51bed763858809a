"""One import namespace: nothing named `realtime` or `train` is installed, and a user's train.py shadows nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command", [["-m", "stylecam", "train", "--help"], ["-m", "stylecam_train", "--help"]])
def test_a_users_train_py_does_not_replace_the_recipe(tmp_path, command):
    (tmp_path / "train.py").write_text("print('the user script ran'); raise SystemExit(7)\n")
    (tmp_path / "realtime.py").write_text("print('the user script ran'); raise SystemExit(7)\n")
    result = subprocess.run([sys.executable, *command], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--style-image" in result.stdout and "the user script ran" not in result.stdout


def test_the_console_script_in_a_folder_with_train_py(tmp_path):
    script = Path(sys.executable).with_name("stylecam")  # the console script pip put beside this Python
    if not script.exists():
        pytest.skip("the stylecam console script is not installed beside this Python")
    (tmp_path / "train.py").write_text("print('the user script ran'); raise SystemExit(7)\n")
    result = subprocess.run([script, "train", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and "--style-image" in result.stdout


def test_no_top_level_realtime_or_train_is_installed(tmp_path):
    code = "import importlib.util as u; print(u.find_spec('realtime'), u.find_spec('train'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert result.stdout.strip() == "None None"


def test_shipped_styles_are_package_data():
    from stylecam.weights import installed_styles, shipped_styles_dir

    shipped = shipped_styles_dir()
    assert (shipped / "starry_night.safetensors").is_file()
    assert {path.stem for path in installed_styles() if path.parent == shipped} >= {"starry_night", "wave", "udnie"}


def test_every_package_of_the_source_roots_is_listed_for_the_wheel():
    # The editable install finds a package that pyproject.toml forgets; a wheel leaves it out.
    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(source).parts)
        for source in (root / "realtime", root / "train")
        for init in source.rglob("__init__.py")
    }
    assert found and found <= listed, f"not in [tool.setuptools] packages: {sorted(found - listed)}"


def test_the_registry_names_a_module_with_help_arguments_and_run_for_every_command():
    from importlib.metadata import entry_points

    commands = {point.name: point.load() for point in entry_points(group="stylecam.commands")}
    assert {"video", "image", "webcam", "sheet", "train", "paint", "distill", "bench-train"} <= set(commands)
    for name, module in commands.items():
        assert isinstance(module.HELP, str) and callable(module.add_arguments) and callable(module.run), name


@pytest.mark.slow
def test_the_wheel_carries_only_what_code_reads_and_twine_accepts_both_archives(tmp_path):
    pytest.importorskip("build")
    pytest.importorskip("twine")
    import shutil
    import zipfile

    root = Path(__file__).parent.parent
    source = tmp_path / "source"  # a copy, so that the build leaves the checkout as it was
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(root / name, source / name)
    for folder in ("realtime", "train", "weights"):
        shutil.copytree(root / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)], capture_output=True, text=True
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    payload = [name for name in names if ".dist-info/" not in name]
    read_by_code = [name for name in payload if name.endswith((".py", "py.typed", ".safetensors"))]
    assert payload == read_by_code, sorted(set(payload) - set(read_by_code))  # no previews, no READMEs
    assert {"stylecam/py.typed", "stylecam_train/py.typed", "stylecam/shipped_styles/starry_night.safetensors"} <= set(names)
    metadata = zipfile.ZipFile(wheel).read(next(name for name in names if name.endswith("METADATA"))).decode()
    assert "Classifier: Typing :: Typed" in metadata
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
