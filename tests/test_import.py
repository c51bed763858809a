"""`stylecam import`: a pytorch/examples fast_neural_style checkpoint becomes a style file that paints the same pictures."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import make_style
from stylecam.cli import main
from stylecam.importer import ImportCredit, ModelImportError, import_model, lookup_note
from stylecam.weights import installed_styles, load_style, shipped_styles_dir


# -- the recipe's network, written out here in its own layout (parameter names are what matter) --
class ExampleConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class ExampleUpsampleConv(ExampleConv):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.interpolate(x, scale_factor=2, mode="nearest"))


class ExampleResidual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ExampleConv(channels, channels, 3)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ExampleConv(channels, channels, 3)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.in2(self.conv2(F.relu(self.in1(self.conv1(x)))))


class ExampleNet(nn.Module):
    """pytorch/examples' TransformerNet: RGB 0-255 in, RGB 0-255 out, no padding to a multiple of 4."""

    def __init__(self):
        super().__init__()
        self.conv1 = ExampleConv(3, 32, 9)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = ExampleConv(32, 64, 3, stride=2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = ExampleConv(64, 128, 3, stride=2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        for index in range(1, 6):
            setattr(self, f"res{index}", ExampleResidual(128))
        self.deconv1 = ExampleUpsampleConv(128, 64, 3)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = ExampleUpsampleConv(64, 32, 3)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = ExampleConv(32, 3, 9)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.in1(self.conv1(x)))
        y = F.relu(self.in2(self.conv2(y)))
        y = F.relu(self.in3(self.conv3(y)))
        for index in range(1, 6):
            y = getattr(self, f"res{index}")(y)
        y = F.relu(self.in4(self.deconv1(y)))
        y = F.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def example_net(seed: int = 0) -> ExampleNet:
    """Random weights, with instance-norm scales and an output layer that span 0-255 like a trained net."""
    torch.manual_seed(seed)
    net = ExampleNet()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.2)
        net.deconv3.conv2d.weight.mul_(300.0)
        net.deconv3.conv2d.bias.fill_(128.0)
    return net.eval()


def save_example(path: Path, seed: int = 0, **torch_save_options) -> tuple[Path, ExampleNet]:
    net = example_net(seed)
    torch.save(net.state_dict(), path, **torch_save_options)
    return path, net


def photo(height: int, width: int, seed: int = 1) -> torch.Tensor:
    """RGB in 0-1 with structure (a gradient plus noise), so instance norm has something to normalise."""
    generator = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(0, 1, width).expand(height, width)
    return ((ramp + 0.3 * torch.rand(3, height, width, generator=generator)) / 1.3).unsqueeze(0)


def assert_same_pictures(imported: nn.Module, original: ExampleNet, height: int = 64, width: int = 48) -> None:
    x01 = photo(height, width)
    with torch.no_grad():
        ours = imported(x01)
        theirs = original(x01 * 255) / 255
    assert ours.shape == theirs.shape == (1, 3, height, width)
    assert theirs.std() > 0.05  # a picture, not a constant: the comparison below means something
    assert (ours - theirs).abs().max() < 1e-4


@pytest.fixture
def example_file(tmp_path) -> tuple[Path, ExampleNet]:
    return save_example(tmp_path / "candy.pth")


# -- conversion ----------------------------------------------------------------------------------
def test_imported_style_paints_what_the_example_net_paints(example_file, tmp_path):
    source, original = example_file
    path = import_model(source, out_dir=tmp_path / "styles")
    assert path == tmp_path / "styles" / "candy.safetensors"
    style, model = load_style(path)
    assert style.name == "candy" and model.width == 32
    assert_same_pictures(model, original, 64, 48)


def test_odd_sizes_match_the_example_net_on_the_reflect_padded_frame(example_file, tmp_path):
    source, original = example_file
    _, model = load_style(import_model(source, out_dir=tmp_path))
    x01 = photo(37, 50)
    with torch.no_grad():
        ours = model(x01)
        # stylecam pads to a multiple of 4 by reflection and crops back; the example net needs that done for it
        padded = F.pad(x01 * 255, (0, 2, 0, 3), mode="reflect")
        theirs = original(padded)[..., :37, :50] / 255
    assert ours.shape == (1, 3, 37, 50)
    assert (ours - theirs).abs().max() < 1e-4


def test_old_files_with_running_stats_in_the_legacy_format_import(tmp_path):
    original = example_net(seed=3)
    state = original.state_dict()
    for key in list(state):  # what PyTorch before 0.4 saved for every instance norm
        if key.endswith(".weight") and (key.split(".")[-2].startswith("in")):
            prefix = key.removesuffix("weight")
            state[prefix + "running_mean"] = torch.zeros_like(state[key])
            state[prefix + "running_var"] = torch.ones_like(state[key])
            state[prefix + "num_batches_tracked"] = torch.tensor(0)
    assert "res3.in2.running_var" in state
    source = tmp_path / "mosaic.pth"
    torch.save(state, source, _use_new_zipfile_serialization=False)
    _, model = load_style(import_model(source, out_dir=tmp_path))
    assert_same_pictures(model, original)


@pytest.mark.parametrize("wrap", ["module_prefix", "state_dict", "model"])
def test_wrapped_and_data_parallel_checkpoints_import(tmp_path, wrap):
    original = example_net(seed=4)
    state = original.state_dict()
    saved = {f"module.{key}": value for key, value in state.items()} if wrap == "module_prefix" else {wrap: state, "epoch": 2}
    source = tmp_path / "udnie.pth"
    torch.save(saved, source)
    _, model = load_style(import_model(source, out_dir=tmp_path))
    assert_same_pictures(model, original)


def test_metadata_records_the_source_and_says_unknown_where_nothing_was_given(example_file, tmp_path):
    source, _ = example_file
    style, _ = load_style(import_model(source, out_dir=tmp_path))
    training = style.metadata.training
    assert training["imported_from"] == "candy.pth"
    assert training["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert training["recipe"] == "pytorch/examples fast_neural_style"
    image = style.metadata.style_image
    assert (image.title, image.artist, image.licence, image.year) == ("unknown",) * 4
    assert image.credit == "imported from candy.pth"
    assert style.default_scale == 1.0


def test_credit_name_and_scale_are_kept(example_file, tmp_path):
    source, _ = example_file
    credit = ImportCredit(title="Candy", artist="someone", year="1900", licence="CC0", credit="my scan")
    style, _ = load_style(import_model(source, name="sweet", out_dir=tmp_path, credit=credit, default_scale=0.5))
    assert style.name == "sweet" and style.path.name == "sweet.safetensors"
    image = style.metadata.style_image
    assert (image.title, image.artist, image.year, image.licence, image.credit) == ("Candy", "someone", "1900", "CC0", "my scan")
    assert style.default_scale == 0.5


# -- refusals --------------------------------------------------------------------------------------
class RunsCode:
    """Unpickling this would create ``marker``: proof that a load ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def assert_one_line_about(error: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message, message


def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    source = tmp_path / "evil.pth"
    state = example_net().state_dict()
    state["conv1.conv2d.weight"] = RunsCode(marker)
    torch.save(state, source)
    with pytest.raises(ModelImportError) as error:
        import_model(source, out_dir=tmp_path)
    assert_one_line_about(error, source, "could run code")
    assert not marker.exists()
    assert not (tmp_path / "evil.safetensors").exists()


def test_wrong_shapes_are_refused_naming_the_parameter(tmp_path):
    state = example_net().state_dict()
    state["res2.conv1.conv2d.weight"] = torch.zeros(128, 128, 5, 5)
    source = tmp_path / "wrong.pth"
    torch.save(state, source)
    with pytest.raises(ModelImportError) as error:
        import_model(source, out_dir=tmp_path)
    assert_one_line_about(error, source, "residuals.1.conv1.conv.weight", "(128, 128, 5, 5)", "(128, 128, 3, 3)")


def test_a_huge_declared_width_is_refused_before_the_network_is_built(tmp_path, monkeypatch):
    import stylecam.importer as importer

    state = example_net().state_dict()
    state["conv1.conv2d.weight"] = torch.zeros(100_000, 3, 1, 1)  # 100,000 channels: a network of hundreds of GB
    source = tmp_path / "huge.pth"
    torch.save(state, source)
    built = []
    monkeypatch.setattr(importer, "TransformerNet", lambda *args, **kwargs: built.append(kwargs))
    with pytest.raises(ModelImportError) as error:
        import_model(source, out_dir=tmp_path)
    assert_one_line_about(error, source, "100000 channels", "4 to 256")
    assert built == [] and list(tmp_path.glob("*.safetensors")) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda state: state.update({"res6.in1.weight": torch.ones(128)}), ["res6.in1.weight", "lacks"]),
        (lambda state: state.pop("in3.bias"), ["lacks 1 parameter", "in3.bias"]),
        (lambda state: state["deconv3.conv2d.bias"].fill_(float("nan")), ["NaN", "deconv3.conv.bias"]),
        (lambda state: state.update({"in1.weight": [1.0] * 32}), ["not a state_dict of tensors", "in1.weight"]),
    ],
    ids=["unknown_key", "missing_key", "nan", "not_a_tensor"],
)
def test_files_of_another_shape_are_refused(tmp_path, change, words):
    state = example_net().state_dict()
    change(state)
    source = tmp_path / "other.pth"
    torch.save(state, source)
    with pytest.raises(ModelImportError) as error:
        import_model(source, out_dir=tmp_path)
    assert_one_line_about(error, source, *words)


def test_files_that_are_not_checkpoints_are_refused(tmp_path):
    text = tmp_path / "notes.pth"
    text.write_text("not a model")
    with pytest.raises(ModelImportError) as error:
        import_model(text, out_dir=tmp_path / "out")
    assert_one_line_about(error, text, "not a PyTorch file")

    style = make_style(tmp_path / "already.safetensors")
    with pytest.raises(ModelImportError) as error:
        import_model(style, out_dir=tmp_path / "out")
    assert_one_line_about(error, style, "safetensors", "--style")

    module = tmp_path / "whole-module.pth"
    torch.save(example_net(), module)  # a pickled nn.Module, not a state_dict
    with pytest.raises(ModelImportError) as error:
        import_model(module, out_dir=tmp_path / "out")
    assert_one_line_about(error, module, "could run code")
    assert not (tmp_path / "out").exists()


def test_a_name_that_style_lookup_could_not_find_is_refused(example_file, tmp_path):
    source, _ = example_file
    with pytest.raises(ModelImportError, match="may only hold"):
        import_model(source, name="my style.v2", out_dir=tmp_path)


# -- the command -----------------------------------------------------------------------------------
def test_cli_imports_into_the_user_styles_folder_and_styles_lists_it(example_file, capsys):
    source, original = example_file
    assert main(["import", str(source), "--title", "Candy", "--artist", "someone"]) == 0
    out, err = capsys.readouterr()
    written = Path(out.strip())
    assert written.name == "candy.safetensors" and written.is_file()
    assert "imported" in err
    assert written in installed_styles() and lookup_note(written) is None
    assert main(["styles", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"name": "candy", "title": "Candy", "artist": "someone"}.items() <= next(r for r in rows if r["name"] == "candy").items()
    _, model = load_style("candy")
    assert_same_pictures(model, original)


def test_cli_refuses_a_bad_file_with_exit_2_and_one_line(tmp_path, capsys):
    source = tmp_path / "broken.pth"
    source.write_bytes(b"\x80\x02garbage")
    assert main(["import", str(source), "--out", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("stylecam: error: ") and err.count("\n") == 1 and str(source) in err


def test_cli_never_replaces_a_style_without_overwrite(tmp_path, capsys):
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first, _ = save_example(tmp_path / "first" / "candy.pth", seed=0)
    second, replacement = save_example(tmp_path / "second" / "candy.pth", seed=5)
    out_dir = tmp_path / "styles"
    assert main(["import", str(first), "--out", str(out_dir)]) == 0
    written = out_dir / "candy.safetensors"
    before = written.read_bytes()
    capsys.readouterr()

    assert main(["import", str(second), "--out", str(out_dir)]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--overwrite" in err and err.count("\n") == 1
    assert written.read_bytes() == before

    assert main(["import", str(second), "--out", str(out_dir), "--overwrite"]) == 0
    assert written.read_bytes() != before
    _, model = load_style(written)
    assert_same_pictures(model, replacement)
    assert sorted(p.name for p in out_dir.iterdir()) == ["candy.safetensors"]  # no partial file left beside it


def test_importing_does_not_load_the_training_recipe(example_file, tmp_path):
    source, _ = example_file
    code = (
        "import sys; from stylecam.cli import main;"
        f"assert main(['import', {str(source)!r}, '--out', {str(tmp_path / 'out')!r}]) == 0;"
        "bad = [m for m in sys.modules if m.startswith('stylecam_train') or m.split('.')[0] in ('pytorch_lightning', 'lightning')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "candy.safetensors").is_file()


def test_cli_says_when_an_import_takes_a_shipped_styles_place(example_file, capsys):
    source, _ = example_file
    if not (shipped_styles_dir() / "udnie.safetensors").is_file():
        pytest.skip("no shipped udnie style in this install")
    assert main(["import", str(source), "--name", "udnie"]) == 0
    out, err = capsys.readouterr()
    assert "instead of the shipped style" in err
    assert load_style("udnie")[0].path == Path(out.strip())
