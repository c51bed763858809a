import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import make_style
from stylecam.model import TransformerNet
from stylecam.weights import FORMAT_VERSION, StyleError, StyleImageCredit, StyleMetadata, load_style, read_metadata, save_style


class _Payload:
    """Unpickling this object creates a marker file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("name", ["evil.safetensors", "evil.pt", "evil.pth"])
@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_pickle_payload_is_refused_and_never_runs(tmp_path, name, writer):
    marker = tmp_path / "payload-ran"
    path = tmp_path / name
    payload = {"conv1.conv.weight": _Payload(marker)}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(StyleError, match="pickle") as error:
        load_style(path)
    assert str(path) in str(error.value)
    assert not marker.exists()


def test_random_bytes_are_refused_as_corrupt(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}" + bytes(range(256)))
    with pytest.raises(StyleError, match="corrupt") as error:
        load_style(path)
    assert "junk.safetensors" in str(error.value)


def test_truncated_style_file_is_refused(tmp_path, style_file):
    path = tmp_path / "cut.safetensors"
    path.write_bytes(style_file.read_bytes()[:5000])
    with pytest.raises(StyleError, match="corrupt"):
        load_style(path)


def test_plain_safetensors_without_metadata_is_refused(tmp_path):
    path = tmp_path / "bare.safetensors"
    save_file({k: v.contiguous() for k, v in TransformerNet(8).state_dict().items()}, str(path))
    with pytest.raises(StyleError, match="no stylecam metadata"):
        load_style(path)


def test_other_architecture_is_refused(tmp_path, style_file):
    metadata = read_metadata(style_file).to_dict() | {"architecture": "adain"}
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"stylecam": json.dumps(metadata)})
    with pytest.raises(StyleError, match="architecture 'adain'"):
        load_style(path)


def test_tensors_that_do_not_fit_the_declared_width_are_refused(tmp_path, style_file):
    metadata = read_metadata(style_file).to_dict() | {"width": 16}  # tensors are width 8
    path = tmp_path / "mismatch.safetensors"
    state = {k: v.contiguous() for k, v in TransformerNet(8).state_dict().items()}
    save_file(state, str(path), metadata={"stylecam": json.dumps(metadata)})
    with pytest.raises(StyleError, match="does not fit"):
        load_style(path)


def test_other_preprocessing_is_refused(tmp_path, style_file):
    metadata = read_metadata(style_file).to_dict() | {"preprocessing": {"color": "bgr", "range": [0, 255], "layout": "NCHW"}}
    path = tmp_path / "caffe.safetensors"
    state = {k: v.contiguous() for k, v in TransformerNet(8).state_dict().items()}
    save_file(state, str(path), metadata={"stylecam": json.dumps(metadata)})
    with pytest.raises(StyleError, match="preprocessing"):
        load_style(path)


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    path = make_style(tmp_path / "mine.safetensors", name="mine", default_scale=0.5)
    style, model = load_style(path)
    torch.manual_seed(0)
    expected = TransformerNet(8).state_dict()
    assert style.name == "mine" and style.default_scale == 0.5
    assert all(torch.equal(model.state_dict()[k], expected[k]) for k in expected)
    assert not any(p.requires_grad for p in model.parameters())


def test_styles_are_found_by_name_in_stylecam_weights(tmp_path, monkeypatch):
    make_style(tmp_path / "alpha.safetensors", name="alpha")
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    style, _ = load_style("alpha")
    assert style.path == tmp_path / "alpha.safetensors"
    with pytest.raises(StyleError, match="unknown style 'beta'.*alpha"):
        load_style("beta")


def test_missing_style_path_is_named(tmp_path):
    with pytest.raises(StyleError, match="does not exist"):
        load_style(tmp_path / "nowhere.safetensors")


def test_a_style_file_whose_header_length_starts_with_0x80_loads(tmp_path):
    """safetensors files begin with their header length; 0x80 there is not a pickle (a bug once refused it)."""
    for padding in range(256):
        path = make_style(tmp_path / "style.safetensors", name="style", training={"pad": "x" * padding})
        if path.read_bytes()[:1] == b"\x80":
            break
    else:
        pytest.fail("no padding gave a header length whose first byte is 0x80")
    style, model = load_style(path)
    assert style.name == "style" and model(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)


def test_a_style_with_nan_weights_is_refused_at_load(tmp_path):
    torch.manual_seed(0)
    model = TransformerNet(width=8)
    with torch.no_grad():
        model.conv1.conv.weight[0, 0, 0, 0] = float("nan")
    path = tmp_path / "broken.safetensors"
    credit = StyleImageCredit(title="t", artist="a", credit="c", licence="l")
    save_style(model, path, StyleMetadata(style="broken", width=8, style_image=credit))
    with pytest.raises(StyleError, match="NaN or infinite weights.*conv1"):
        load_style(path)


def test_a_newer_format_version_is_refused_with_a_clear_message(tmp_path, style_file):
    metadata = read_metadata(style_file).to_dict() | {"format_version": FORMAT_VERSION + 1}
    path = tmp_path / "future.safetensors"
    state = {k: v.contiguous() for k, v in TransformerNet(8).state_dict().items()}
    save_file(state, str(path), metadata={"stylecam": json.dumps(metadata)})
    with pytest.raises(StyleError, match=f"format version {FORMAT_VERSION + 1}, newer .*upgrade stylecam"):
        load_style(path)


def test_metadata_round_trips_typed(style_file):
    metadata = read_metadata(style_file)
    assert isinstance(metadata.style_image, StyleImageCredit) and metadata.format_version == FORMAT_VERSION
    assert StyleMetadata.from_dict(json.loads(json.dumps(metadata.to_dict()))) == metadata


def test_a_translated_error_keeps_its_cause(tmp_path):
    path = tmp_path / "corrupt.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(StyleError) as caught:
        load_style(path)
    assert caught.value.__cause__ is not None  # --debug shows what the library underneath said


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_partial(tmp_path):
    from stylecam.files import atomic_write

    target = tmp_path / "a.safetensors"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    with atomic_write(target) as tmp:
        assert not tmp.name.endswith(".safetensors")  # a half-written file is never found as a style
        tmp.write_text("new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]


def test_style_names_follow_one_rule():
    from stylecam.weights import is_style_name

    assert is_style_name("starry_night-2")
    for name in ("", "my style", "a.v2", "a:0.6", "a,b", "a/b", "..", "x\n"):
        assert not is_style_name(name), name


# -- hostile style files ---------------------------------------------------------------------
def _hostile(path, metadata_text: str):
    save_file({"w": torch.zeros(2)}, str(path), metadata={"stylecam": metadata_text})
    return path


def test_metadata_nested_deeply_or_huge_is_one_clear_error_and_styles_lists_the_rest(tmp_path, monkeypatch, capsys):
    from stylecam.cli import main
    from stylecam.weights import MAX_METADATA_CHARS

    make_style(tmp_path / "good.safetensors", name="good")
    _hostile(tmp_path / "deep.safetensors", "[" * 100_000 + "]" * 100_000)
    _hostile(tmp_path / "huge.safetensors", json.dumps({"x": "a" * (MAX_METADATA_CHARS + 1)}))
    with pytest.raises(StyleError, match="nested too deeply"):
        read_metadata(tmp_path / "deep.safetensors")
    with pytest.raises(StyleError, match="characters of metadata"):
        read_metadata(tmp_path / "huge.safetensors")
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    assert main(["styles"]) == 0
    out = capsys.readouterr().out
    assert " good " in out and "deep" in out and "UNUSABLE" in out  # one bad file does not hide the others


def test_text_from_a_style_file_never_reaches_the_terminal_raw(tmp_path, monkeypatch, capsys):
    from stylecam.cli import main

    evil = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\u202eevil"
    path = make_style(tmp_path / "evil.safetensors", name=evil)
    values = json.loads(safe_open_metadata(path))
    values["style_image"]["title"] = evil
    save_file(load_file(str(path)), str(path), metadata={"stylecam": json.dumps(values)})
    metadata = read_metadata(path)
    assert "\x1b" not in metadata.style and "\u202e" not in metadata.style_image.title and "red" in metadata.style_image.title
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    assert main(["styles"]) == 0
    out = capsys.readouterr().out
    assert "evil" in out and "\x1b" not in out and "\x07" not in out and "\u202e" not in out


def safe_open_metadata(path) -> str:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return handle.metadata()["stylecam"]
