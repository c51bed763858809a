"""The painter network: shared convolutions, a style code per style, blends and morphs of codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import TEST_WIDTH, make_style
from stylecam import capture
from stylecam.cli import main
from stylecam.devices import Precision
from stylecam.frames import Stylizer
from stylecam.model import TransformerNet, mix_codes
from stylecam.webcam import MORPH_SECONDS, WebcamApp, overlay_lines
from stylecam.weights import (
    NETWORKS_DIR,
    StyleError,
    StyleImageCredit,
    StyleMetadata,
    file_sha256,
    installed_styles,
    is_blend,
    load_style,
    painter_network_info,
    parse_blend,
    save_painter_network,
    save_style_code,
)

STYLES = ("alpha", "beta", "gamma")
TEST_NETWORK = "test_painter"


def random_painter(styles: int = len(STYLES), seed: int = 0) -> TransformerNet:
    """A painter network whose codes differ clearly (random scales and shifts), as trained ones do."""
    torch.manual_seed(seed)
    painter = TransformerNet(width=TEST_WIDTH, styles=styles)
    with torch.no_grad():
        for key in painter.code_keys():
            parameter = painter.get_parameter(key)
            parameter.copy_(torch.randn_like(parameter) * 0.5 + (1.0 if key.endswith("weight") else 0.0))
    return painter.eval()


def install_painter(
    folder: Path, painter: TransformerNet | None = None, names=STYLES, network: str = "painter", training: dict | None = None
) -> TransformerNet:
    """A painter network in folder/networks/ and a style code file per style in folder, as `stylecam train` exports them."""
    painter = painter if painter is not None else random_painter(len(names))
    network_path = folder / NETWORKS_DIR / f"{network}.safetensors"
    digest = save_painter_network(painter, network_path, list(names), {"note": "random, for tests", **(training or {})})
    for index, name in enumerate(names):
        metadata = StyleMetadata(
            style=name,
            width=painter.width,
            style_image=StyleImageCredit(title=name, artist="nobody", credit="test", licence="CC0"),
            training={"note": "random, for tests", "style_index": index},
            network={"file": network_path.name, "sha256": digest},
        )
        save_style_code(painter.style_code(index), folder / f"{name}.safetensors", metadata)
    return painter


@pytest.fixture
def painter_dir(tmp_path, monkeypatch) -> tuple[Path, TransformerNet]:
    folder = tmp_path / "styles"
    # Its own network name: the shipped painter network (another file named painter.safetensors) stays out of these tests.
    painter = install_painter(folder, network=TEST_NETWORK)
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(folder))
    return folder, painter


PHOTO = torch.rand(1, 3, 40, 52, generator=torch.Generator().manual_seed(3))


# -- the network -------------------------------------------------------------------------------
def test_each_sample_is_painted_in_its_own_style_and_a_code_alone_gives_the_same_picture():
    painter = random_painter()
    photos = PHOTO.repeat(3, 1, 1, 1)
    with torch.no_grad():
        per_sample = painter(photos, torch.tensor([2, 0, 1]))
        for row, index in enumerate((2, 0, 1)):
            single = painter.with_code(painter.style_code(index))
            assert single.styles == 0 and set(single.state_dict()) == set(TransformerNet(width=TEST_WIDTH).state_dict())
            torch.testing.assert_close(single(PHOTO)[0], per_sample[row], atol=1e-5, rtol=0)
        assert (per_sample[0] - per_sample[1]).abs().mean() > 0.01  # the codes make different pictures


def test_mixing_weights_mix_the_codes():
    painter = random_painter()
    with torch.no_grad():
        one_hot = painter(PHOTO, torch.tensor([[0.0, 1.0, 0.0]]))
        torch.testing.assert_close(one_hot, painter(PHOTO, torch.tensor([1])), atol=1e-5, rtol=0)
        mixed = painter(PHOTO, torch.tensor([[0.25, 0.75, 0.0]]))
        blend = painter.with_code(mix_codes([painter.style_code(0), painter.style_code(1)], [1, 3]))
        torch.testing.assert_close(blend(PHOTO), mixed, atol=1e-5, rtol=0)


def test_a_code_is_a_few_kilobytes_and_the_classic_network_keeps_its_keys():
    painter = random_painter()
    code = painter.style_code(0)
    assert sum(value.numel() for value in code.values()) == 2 * (8 + 16 + 32 + 10 * 32 + 16 + 8)
    classic = TransformerNet(width=TEST_WIDTH)
    assert "in1.weight" in classic.state_dict() and classic.state_dict()["in1.weight"].shape == (TEST_WIDTH,)
    assert painter.state_dict()["in1.weight"].shape == (3, TEST_WIDTH)


# -- files ---------------------------------------------------------------------------------------
def test_a_style_code_file_runs_on_its_network(painter_dir):
    folder, painter = painter_dir
    style, model = load_style("beta")
    assert style.code is not None and style.network_sha256 == file_sha256(folder / NETWORKS_DIR / f"{TEST_NETWORK}.safetensors")
    with torch.no_grad():
        torch.testing.assert_close(model(PHOTO), painter(PHOTO, torch.tensor([1])), atol=1e-5, rtol=0)
    assert (folder / "beta.safetensors").stat().st_size < 20_000  # a code, not a network
    assert {path.stem for path in installed_styles() if path.parent == folder} == set(STYLES)  # the network itself is not a style


def test_a_missing_or_different_network_is_one_clear_line(painter_dir, capsys):
    folder, _ = painter_dir
    network = folder / NETWORKS_DIR / f"{TEST_NETWORK}.safetensors"
    saved = network.read_bytes()
    network.unlink()
    with pytest.raises(StyleError, match=rf"needs the painter network {TEST_NETWORK}\.safetensors, which is not installed"):
        load_style("alpha")
    assert main(["styles", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert "not installed" in listed["alpha"]["error"]  # listed, and marked unusable with the reason
    save_painter_network(random_painter(seed=5), network, list(STYLES), {})
    with pytest.raises(StyleError, match=f"another version of the painter network {TEST_NETWORK}.safetensors"):
        load_style("alpha")
    network.write_bytes(saved)
    load_style("alpha")


def test_a_painter_network_is_not_taken_for_a_style(painter_dir):
    folder, _ = painter_dir
    with pytest.raises(StyleError, match="is a painter network, not a style"):
        load_style(folder / NETWORKS_DIR / f"{TEST_NETWORK}.safetensors")


# -- blends --------------------------------------------------------------------------------------
def test_blend_syntax():
    assert parse_blend("starry_night:0.6,wave:0.4") == [("starry_night", 0.6), ("wave", 0.4)]
    assert parse_blend("a,b:2") == [("a", 1.0), ("b", 2.0)]
    assert is_blend("a:0.6,b:0.4") and is_blend("a,b") and not is_blend("starry_night") and not is_blend("x.safetensors")
    for bad in ("a:0.5,", "a:-1,b:1", "a:0,b:0", "a:inf,b:1"):
        with pytest.raises(StyleError):
            parse_blend(bad)


def test_a_blend_runs_the_mixed_code_with_weights_normalised(painter_dir):
    _, painter = painter_dir
    style, model = load_style("alpha:3,gamma:1")
    assert style.name == "alpha:0.75,gamma:0.25" and style.blend == (("alpha", 0.75), ("gamma", 0.25))
    expected = painter(PHOTO, torch.tensor([[0.75, 0.0, 0.25]]))
    with torch.no_grad():
        torch.testing.assert_close(model(PHOTO), expected, atol=1e-5, rtol=0)
    _, alone = load_style("alpha")  # loading a blend left the style's own network alone
    with torch.no_grad():
        torch.testing.assert_close(alone(PHOTO), painter(PHOTO, torch.tensor([0])), atol=1e-5, rtol=0)


def test_blends_across_networks_or_with_whole_networks_are_refused(painter_dir, tmp_path):
    folder, _ = painter_dir
    make_style(folder / "whole.safetensors", name="whole")
    with pytest.raises(StyleError, match="whole is a whole network"):
        load_style("alpha:0.5,whole:0.5")
    other = tmp_path / "other"
    install_painter(other, random_painter(styles=1, seed=9), names=("delta",), network="other")
    with pytest.raises(StyleError, match="styles of different painter networks cannot blend"):
        load_style(f"alpha:0.5,{other / 'delta.safetensors'}:0.5")


def test_blends_on_image_video_and_sheet(painter_dir, workdir, video_with_sound, capsys):
    import cv2

    photo = workdir / "photo.png"
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8))
    assert main(["image", str(photo), "-o", "out", "--style", "alpha:0.5,beta:0.5", "--device", "cpu", "--backend", "eager"]) == 0
    assert [path.name for path in (workdir / "out").iterdir()] == ["photo-alpha-0.5+beta-0.5.png"]  # a file-safe name
    blended = cv2.imread(str(next((workdir / "out").iterdir())))
    assert main(["image", str(photo), "-o", "alone", "--style", "alpha", "--device", "cpu", "--backend", "eager"]) == 0
    alone = cv2.imread(str(next((workdir / "alone").iterdir())))
    assert blended.shape == alone.shape and np.abs(blended.astype(int) - alone).mean() > 1
    assert main(["video", str(video_with_sound), "-o", "v.mp4", "--style", "beta:1,gamma:1", "--json", "--device", "cpu"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["style"] == "beta:0.5,gamma:0.5" and report["frames"] == 12
    sheet_args = ["sheet", str(photo), "-o", "sheet.png", "--styles", "alpha", "--blend", "alpha:0.5,gamma:0.5", "--height", "48"]
    assert main([*sheet_args, "--device", "cpu"]) == 0
    assert "1 row(s) x 2 style(s)" in capsys.readouterr().err


def test_a_blend_across_networks_is_one_line_on_the_command_line(painter_dir, workdir, capsys):
    import cv2

    make_style(painter_dir[0] / "whole.safetensors", name="whole")
    cv2.imwrite(str(workdir / "x.png"), np.zeros((32, 32, 3), np.uint8))
    assert main(["image", "x.png", "-o", "out", "--style", "alpha:0.5,whole:0.5"]) == 2
    err = capsys.readouterr().err
    assert "whole is a whole network" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_from_style_takes_a_blend(painter_dir):
    stylizer = Stylizer.from_style("alpha:0.2,beta:0.8", device="cpu", backend="eager")
    assert stylizer.style_name == "alpha:0.2,beta:0.8"
    frame = np.random.default_rng(2).integers(0, 256, (40, 52, 3), dtype=np.uint8)
    assert stylizer(frame).shape == frame.shape


# -- the webcam's morph --------------------------------------------------------------------------
def test_morph_key_mixes_the_codes_over_a_second_then_lands_on_the_next_style(painter_dir, tmp_path, monkeypatch):
    from test_webcam import FakeCamera

    _, painter = painter_dir
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera())
    clock = [1000.0]
    monkeypatch.setattr("stylecam.webcam.time.monotonic", lambda: clock[0])
    stylizer = Stylizer(TransformerNet(TEST_WIDTH), torch.device("cpu"), Precision(torch.float32), backend="eager")
    with capture.LiveSource(0) as source:
        app = WebcamApp(source, stylizer, list(STYLES), 0, tmp_path)
        app._select(0)
        frame = source.read()
        start = app.step(frame)
        app.handle_key(ord("m"), start)
        assert app.state.morph_to == 1 and overlay_lines(app.state)[0].startswith("alpha -> beta ")
        clock[0] += MORPH_SECONDS / 2
        halfway = app.step(frame)
        halfway_code = {key: value.clone() for key, value in app.stylizer.model.state_dict().items() if key in painter.code_keys()}
        expected = mix_codes([painter.style_code(0), painter.style_code(1)], [0.5, 0.5])  # smoothstep(0.5) = 0.5
        for key, value in expected.items():
            torch.testing.assert_close(halfway_code[key], value, atol=1e-6, rtol=0)
        clock[0] += MORPH_SECONDS
        end = app.step(frame)
        assert app.state.style_index == 1 and app.state.morph_to is None and app.stylizer.style_name == "beta"
        assert not np.array_equal(start, halfway) and not np.array_equal(halfway, end)
        app._select(0)  # the start style's own network got its code back after the morph
        np.testing.assert_array_equal(app.step(frame), start)


def test_morph_between_whole_networks_switches_and_says_why(tmp_path, monkeypatch):
    from test_webcam import FakeCamera

    for index in range(2):
        make_style(tmp_path / f"s{index}.safetensors", name=f"s{index}", seed=index)
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera())
    stylizer = Stylizer(TransformerNet(TEST_WIDTH), torch.device("cpu"), Precision(torch.float32), backend="eager")
    with capture.LiveSource(0) as source:
        app = WebcamApp(source, stylizer, ["s0", "s1"], 0, tmp_path)
        app._select(0)
        app.handle_key(ord("m"), None)
        assert app.state.style_index == 1 and app.state.morph_to is None and "morph needs two styles" in app.state.message


def test_set_code_leaves_an_onnx_graph_for_eager(painter_dir):
    pytest.importorskip("onnxruntime")
    stylizer = Stylizer.from_style("alpha", device="cpu", backend="onnx")
    assert stylizer.backend.name == "onnx"
    stylizer.set_code(load_style("gamma")[0].code)
    assert stylizer.backend.name == "eager"  # an ONNX graph holds its own weights: it would keep painting alpha
    _, gamma = load_style("gamma")
    with torch.no_grad():
        torch.testing.assert_close(stylizer.model(PHOTO), gamma(PHOTO), atol=1e-5, rtol=0)


# -- training ------------------------------------------------------------------------------------
def _paintings(folder: Path, names=("starry_night", "wave", "udnie")) -> Path:
    """Known paintings' names (their credits are known), random pictures."""
    import cv2
    from test_train import _photo

    folder.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(names):
        cv2.imwrite(str(folder / f"{name}.jpg"), _photo(seed + 3, 64, 48))
    return folder


def _train_args(tmp: Path, *extra: str):
    import argparse

    from test_train import RANDOM, make_photo_folder

    from stylecam_train import cli

    data = make_photo_folder(tmp / "photos")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args([
        "--data", str(data), "--out", str(tmp / "weights"), "--workdir", str(tmp / "run"), "--vgg-weights", RANDOM,
        "--crop-size", "32", "--style-size", "48", "--batch-size", "3", "--log-every", "1", "--preview-every", "0",
        "--accelerator", "cpu", *extra,
    ])  # fmt: skip


def test_a_painter_run_trains_one_network_and_exports_a_code_per_painting(tmp_path, monkeypatch):
    from stylecam_train import cli

    paintings = str(_paintings(tmp_path / "paintings"))
    args = _train_args(tmp_path, "--style-image", paintings, "--width", "4", "--max-steps", "4", "--default-scale", "0.9")
    assert cli.run(args) == 0
    out = tmp_path / "weights"
    network = out / NETWORKS_DIR / "painter.safetensors"
    # The network records its styles' scale, which a code fitted on it later takes.
    assert painter_network_info(network).metadata["training"]["default_scale"] == 0.9
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(out))
    pictures = {}
    for name in ("starry_night", "udnie", "wave"):
        style, model = load_style(name)
        assert style.default_scale == 0.9
        assert style.code is not None and style.metadata.style_image.artist  # the known painting's credit
        assert style.metadata.training["style_image"] == f"{name}.jpg" and style.metadata.training["steps"] == 4
        with torch.no_grad():
            pictures[name] = model(PHOTO)
    assert (pictures["wave"] - pictures["udnie"]).abs().mean() > 1e-4  # each style learned from its own painting
    load_style("starry_night:0.5,wave:0.5")


def test_every_style_gets_an_equal_share_of_the_batches(tmp_path):
    from test_train import RANDOM

    from stylecam_train.module import StyleTransferModule, TrainConfig

    paintings = sorted(str(path) for path in _paintings(tmp_path).iterdir())
    module = StyleTransferModule(TrainConfig(style_image=paintings, width=4, vgg_weights=RANDOM, style_size=48))
    assert module.transformer.styles == 3
    seen = torch.cat([module.batch_styles(4, step) for step in range(3)])
    assert torch.bincount(seen, minlength=3).tolist() == [4, 4, 4]


def test_a_one_style_file_starts_every_code_of_a_painter_run(tmp_path):
    from test_train import RANDOM

    from stylecam_train.module import StyleTransferModule, TrainConfig

    start = make_style(tmp_path / "start.safetensors", name="start", width=4, seed=4)
    paintings = sorted(str(path) for path in _paintings(tmp_path / "p").iterdir())
    config = TrainConfig(style_image=paintings, width=4, vgg_weights=RANDOM, style_size=48, init_from=str(start))
    module = StyleTransferModule(config)
    module.load_initial_weights()
    _, single = load_style(start)
    with torch.no_grad():
        for index in range(3):
            torch.testing.assert_close(module.transformer.with_code(module.transformer.style_code(index))(PHOTO), single(PHOTO))


def test_a_painter_network_file_continues_a_run_with_each_style_s_own_code(tmp_path):
    from test_train import RANDOM

    from stylecam_train.module import StyleTransferModule, TrainConfig

    names = ("starry_night", "wave", "udnie")
    painter = random_painter(styles=3, seed=2)
    install_painter(tmp_path / "styles", painter.to(torch.float32), names=names)
    wider = _paintings(tmp_path / "p", names=("udnie", "wave", "woman_with_a_hat"))  # one more, one fewer, another order
    config = TrainConfig(
        style_image=sorted(str(path) for path in wider.iterdir()),
        width=TEST_WIDTH,
        vgg_weights=RANDOM,
        style_size=48,
        init_from=str(tmp_path / "styles" / NETWORKS_DIR / "painter.safetensors"),
    )
    module = StyleTransferModule(config)
    module.load_initial_weights()
    codes = module.transformer
    assert module.painting_names() == ["udnie", "wave", "woman_with_a_hat"]
    for row, name in enumerate(("udnie", "wave")):
        for key, value in painter.style_code(names.index(name)).items():
            torch.testing.assert_close(codes.style_code(row)[key], value)
    for key, value in painter.style_code(0).items():  # a new painting starts from the network's first code
        torch.testing.assert_close(codes.style_code(2)[key], value)


def test_a_new_style_is_a_code_fitted_on_the_installed_network_with_its_convolutions_frozen(tmp_path, monkeypatch):
    from stylecam_train import cli

    network_dir = tmp_path / "installed"
    # A flag wins over the record (crop size); the rest of the record is the fit's recipe, and its scale the fitted style's.
    painter = install_painter(network_dir, training={"style_weight": 2.5, "crop_size": 999, "default_scale": 0.9})
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(network_dir))
    painting = _paintings(tmp_path / "p", names=("my_painting",)) / "my_painting.jpg"
    credit = ("--title", "Mine", "--artist", "Me", "--licence", "CC0")
    defaults = _train_args(tmp_path, "--style-image", str(painting), "--name", "mine", *credit)
    cli.config_from_args(defaults)
    assert defaults.max_steps == cli.CODE_FIT_STEPS and defaults.steps_per_epoch == cli.CODE_FIT_STEPS  # one bar for the whole run
    args = _train_args(tmp_path, "--style-image", str(painting), "--name", "mine", *credit, "--max-steps", "4")
    assert cli.run(args) == 0
    out = tmp_path / "weights" / "mine.safetensors"
    assert out.stat().st_size < 20_000
    monkeypatch.setenv("STYLECAM_WEIGHTS", f"{network_dir}{__import__('os').pathsep}{out.parent}")
    style, model = load_style("mine")
    assert style.metadata.network["file"] == "painter.safetensors" and "code fitted" in style.metadata.training["note"]
    assert style.metadata.training["lr"] == cli.CODE_FIT_LR
    assert style.metadata.training["style_weight"] == 2.5 and style.metadata.training["crop_size"] == 32  # the network's recipe
    assert style.default_scale == 0.9
    shared = painter.shared_state()
    for key, value in model.shared_state().items():  # frozen: the network's own convolutions
        torch.testing.assert_close(value, shared[key])
    mean = mix_codes([painter.style_code(index) for index in range(3)], [1, 1, 1])
    assert any((style.code[key] - mean[key]).abs().max() > 1e-4 for key in mean)  # the code itself learned
    load_style("mine:0.5,alpha:0.5")  # a fitted style blends with the network's own styles


def test_init_from_a_style_code_fits_that_code_further_on_its_own_network(tmp_path, monkeypatch):
    """A style fitted in minutes, trained more: the fit starts from its code, not from the mean or a whole network."""
    from stylecam_train import cli

    network_dir = tmp_path / "installed"
    painter = install_painter(network_dir, training={"crop_size": 32})
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(network_dir))
    painting = _paintings(tmp_path / "p", names=("beta",)) / "beta.jpg"
    args = _train_args(tmp_path, "--style-image", str(painting), "--init-from", "beta", "--max-steps", "2", "--lr", "1e-8", "--overwrite")
    config = cli.config_from_args(args)
    assert Path(config.network) == network_dir / NETWORKS_DIR / "painter.safetensors" and args.max_steps == 2
    assert cli.run(args) == 0
    style, model = load_style(tmp_path / "weights" / "beta.safetensors")
    assert style.metadata.network["file"] == "painter.safetensors" and style.metadata.training["init_from"] == "beta.safetensors"
    assert style.metadata.style_image.title == "beta" and style.metadata.style_image.licence == "CC0"  # the credit goes on too
    start = painter.style_code(STYLES.index("beta"))
    for key, value in start.items():  # at a learning rate of 1e-8 the code is where it started: beta's own
        torch.testing.assert_close(style.code[key], value, atol=1e-6, rtol=0)
    for key, value in model.shared_state().items():
        torch.testing.assert_close(value, painter.shared_state()[key])
    # A code of another network than --network's is refused in one line, before any work.
    install_painter(tmp_path / "other", network="other")
    other = _train_args(
        tmp_path,
        "--style-image",
        str(painting),
        "--init-from",
        "beta",
        "--network",
        str(tmp_path / "other" / NETWORKS_DIR / "other.safetensors"),
    )
    from stylecam_train.errors import TrainingInputError

    with pytest.raises(TrainingInputError, match="is a code of .*painter.safetensors, not of --network"):
        cli.config_from_args(other)


def test_full_trains_a_whole_network_even_with_a_painter_network_installed(tmp_path, monkeypatch):
    from stylecam_train import cli

    install_painter(tmp_path / "installed")
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path / "installed"))
    painting = _paintings(tmp_path / "p", names=("wave",)) / "wave.jpg"
    args = _train_args(tmp_path, "--style-image", str(painting), "--full", "--width", "4", "--max-steps", "2")
    assert cli.run(args) == 0
    style, _ = load_style(tmp_path / "weights" / "wave.safetensors")
    assert style.code is None and style.metadata.network is None and style.metadata.width == 4


def test_a_network_file_that_declares_a_huge_shape_is_refused_before_anything_is_allocated(painter_dir):
    import json as json_module

    from safetensors.torch import save_file

    folder, _ = painter_dir
    network = folder / NETWORKS_DIR / f"{TEST_NETWORK}.safetensors"
    header = {"kind": "painter_network", "architecture": "johnson2016", "width": 10**6, "blocks": 5, "edge_kernel": 9, "styles": ["a"]}
    header["preprocessing"] = {"color": "rgb", "range": [0.0, 1.0], "layout": "NCHW"}
    save_file({"x": torch.zeros(1)}, str(network), metadata={"stylecam": json_module.dumps(header)})
    with pytest.raises(StyleError, match=r"invalid width 1000000 \(4 to 256\)"):
        from stylecam.weights import load_painter_network

        load_painter_network(network)


# -- a fast painter network (stylecam distill NETWORK) -------------------------------------------------
def test_distilling_a_painter_network_gives_one_fast_network_whose_codes_each_follow_their_teacher(
    painter_dir, tmp_path, capsys, monkeypatch
):
    from test_train import make_photo_folder

    from stylecam_train import distill

    monkeypatch.setattr(distill, "TEACHER_SIDES", (48,))
    monkeypatch.setattr(distill, "PREVIEW_ROWS", 48)
    folder, painter = painter_dir
    (folder / "beta.safetensors").unlink()  # a row of the table without a code file: nobody can pick it, so no student learns it
    out = tmp_path / "fast"
    argv = ["distill", TEST_NETWORK, "--data", str(make_photo_folder(tmp_path / "photos")), "--out", str(out)]
    argv += ["--width", "4", "--blocks", "1", "--edge-kernel", "5", "--scale", "0.5", "--steps", "60", "--crop-size", "32"]
    argv += ["--batch-size", "2", "--quiet", "--lr", "5e-3", "--detail", "0.8"]
    assert main(argv) == 0
    stderr = capsys.readouterr().err
    network = out / NETWORKS_DIR / f"{TEST_NETWORK}_fast.safetensors"
    assert f"wrote {network}" in stderr and "2 styles: alpha, gamma" in stderr
    monkeypatch.setenv("STYLECAM_WEIGHTS", f"{out}:{folder}")
    students = {}
    for name in ("alpha", "gamma"):
        style, model = load_style(f"{name}_fast")
        record = style.metadata.training
        assert style.metadata.network == {"file": network.name, "sha256": file_sha256(network)}
        assert record["distilled_from"]["style"] == name
        assert record["distilled_from"]["sha256"] == file_sha256(folder / f"{name}.safetensors")
        assert record["loss_after"] < record["loss_before"]
        assert (style.metadata.width, style.metadata.blocks, style.default_scale, style.default_detail) == (4, 1, 0.5, 0.8)
        assert style.metadata.style_image.title == name  # the teacher code's credit
        assert (out / f"{name}_fast.png").is_file() and f"| {name}_fast |" in (out / "README.md").read_text()
        students[name] = model
    assert not (out / "beta_fast.safetensors").exists()
    # Each code learned its own teacher: alpha's student is nearer alpha's teacher than gamma's student is.
    photo = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        teachers = {name: painter.with_code(painter.style_code(row))(photo) for name, row in (("alpha", 0), ("gamma", 2))}
        small = torch.nn.functional.interpolate(photo, scale_factor=0.5, mode="bilinear", antialias=True)
        shown = {name: torch.nn.functional.interpolate(model(small), size=(48, 64), mode="bilinear") for name, model in students.items()}
    assert (shown["alpha"] - teachers["alpha"]).abs().mean() < (shown["gamma"] - teachers["alpha"]).abs().mean()
    assert (shown["gamma"] - teachers["gamma"]).abs().mean() < (shown["alpha"] - teachers["gamma"]).abs().mean()
    # The fast codes blend with each other, as codes of one network.
    blend, _ = load_style("alpha_fast:0.5,gamma_fast:0.5")
    assert blend.network_sha256 == file_sha256(network)


def test_a_one_style_init_starts_every_code_of_a_fast_painter_network(painter_dir, tmp_path, monkeypatch):
    from test_train import make_photo_folder

    from stylecam_train import distill

    monkeypatch.setattr(distill, "TEACHER_SIDES", (40,))
    monkeypatch.setattr(distill, "PREVIEW_ROWS", 40)
    start = make_style(tmp_path / "start.safetensors", name="start", width=4, blocks=1, seed=3)
    out = tmp_path / "fast"
    argv = ["distill", TEST_NETWORK, "--data", str(make_photo_folder(tmp_path / "photos")), "--out", str(out), "--init", str(start)]
    argv += ["--width", "4", "--blocks", "1", "--steps", "1", "--crop-size", "32", "--batch-size", "1", "--quiet", "--lr", "1e-9"]
    assert main(argv) == 0
    started = load_style(start)[1].state_dict()
    for name in STYLES:
        monkeypatch.setenv("STYLECAM_WEIGHTS", str(out))
        style, model = load_style(f"{name}_fast")
        assert style.metadata.training["initialized_from"]["style"] == "start"
        assert all(torch.allclose(model.state_dict()[key], started[key], atol=1e-5) for key in started)


def test_a_fast_code_as_init_follows_its_teacher_with_only_its_code_learning(painter_dir, tmp_path, monkeypatch):
    """A teacher whose code was fitted further gets its fast variant back as a code of the same fast network."""
    from test_train import make_photo_folder

    from stylecam.weights import file_sha256
    from stylecam_train import distill

    monkeypatch.setattr(distill, "TEACHER_SIDES", (40,))
    monkeypatch.setattr(distill, "PREVIEW_ROWS", 40)
    fast_dir = tmp_path / "fast"
    fast = install_painter(fast_dir, names=[f"{n}_fast" for n in STYLES], network="fastnet")
    monkeypatch.setenv("STYLECAM_WEIGHTS", f"{painter_dir[0]}{__import__('os').pathsep}{fast_dir}")
    out = tmp_path / "out"
    argv = [
        "distill",
        "beta",
        "--data",
        str(make_photo_folder(tmp_path / "photos")),
        "--out",
        str(out),
        "--init",
        str(fast_dir / "beta_fast.safetensors"),
    ]
    argv += [
        "--width",
        str(fast.width),
        "--blocks",
        str(fast.blocks),
        "--steps",
        "3",
        "--crop-size",
        "32",
        "--batch-size",
        "1",
        "--quiet",
        "--lr",
        "0.05",
    ]
    assert main(argv) == 0
    style, model = load_style(out / "beta_fast.safetensors")  # found beside, in fast_dir's networks/
    assert style.metadata.network["file"] == "fastnet.safetensors"
    assert style.metadata.network["sha256"] == file_sha256(fast_dir / NETWORKS_DIR / "fastnet.safetensors")
    assert style.metadata.training["distilled_from"]["sha256"] == file_sha256(painter_dir[0] / "beta.safetensors")
    for key, value in model.shared_state().items():  # the fast network's convolutions, untouched
        torch.testing.assert_close(value, fast.shared_state()[key])
    start = fast.style_code(STYLES.index("beta"))
    assert any((style.code[key] - start[key]).abs().max() > 1e-4 for key in start)  # the code learned


def test_a_fast_painter_network_as_init_gives_each_style_its_own_code_back(painter_dir, tmp_path, monkeypatch, capsys):
    # When the teacher trains on, its fast network is distilled again from where it was: each
    # STYLE_fast must go on from its own code, found by name, whatever row it sits in.
    from test_train import make_photo_folder

    from stylecam.weights import load_painter_network, save_painter_network
    from stylecam_train import distill

    monkeypatch.setattr(distill, "TEACHER_SIDES", (40,))
    monkeypatch.setattr(distill, "PREVIEW_ROWS", 40)
    earlier = TransformerNet(4, 1, 9, styles=3)
    with torch.no_grad():
        for parameter in earlier.parameters():
            parameter.normal_(0, 0.3)
    rows = ["gamma_fast", "alpha_fast", "beta_fast"]  # not the teacher's order
    start = tmp_path / "earlier" / "painter_fast.safetensors"
    start.parent.mkdir()
    save_painter_network(earlier, start, rows, {"method": "distillation"})
    photos = str(make_photo_folder(tmp_path / "photos"))
    out = tmp_path / "fast"
    argv = ["distill", TEST_NETWORK, "--data", photos, "--out", str(out), "--init", str(start)]
    argv += ["--width", "4", "--blocks", "1", "--steps", "1", "--crop-size", "32", "--batch-size", "1", "--quiet", "--lr", "1e-9"]
    assert main(argv) == 0
    network, names = load_painter_network(out / NETWORKS_DIR / f"{TEST_NETWORK}_fast.safetensors")
    assert names == [f"{name}_fast" for name in STYLES]
    for index, name in enumerate(names):
        wanted = earlier.style_code(rows.index(name))
        assert all(torch.allclose(network.style_code(index)[key], wanted[key], atol=1e-5) for key in wanted)
    for key, value in earlier.shared_state().items():
        torch.testing.assert_close(network.shared_state()[key], value, atol=1e-5, rtol=0)
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(out))
    style, _ = load_style("alpha_fast")
    assert style.metadata.training["initialized_from"] == {"network": "painter_fast", "sha256": file_sha256(start)}

    # A fast network without a code for one of the styles is refused in one line, before any work.
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(painter_dir[0]))
    save_painter_network(TransformerNet(4, 1, 9, styles=2), start, ["alpha_fast", "beta_fast"], {"method": "distillation"})
    capsys.readouterr()
    other = tmp_path / "other"
    code = main([*argv, "--out", str(other)])  # the last --out wins
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "has no code for gamma_fast" in err[0]
    assert not list(other.glob("**/*.safetensors"))


def test_distilling_a_painter_network_refuses_existing_files_before_any_work(painter_dir, tmp_path, capsys):
    out = tmp_path / "fast"
    out.mkdir()
    (out / "gamma_fast.safetensors").write_bytes(b"mine")
    code = main(["distill", TEST_NETWORK, "--data", str(tmp_path / "no-photos"), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "gamma_fast.safetensors exists" in err[0]
    assert (out / "gamma_fast.safetensors").read_bytes() == b"mine"


def test_a_network_continued_from_a_painter_network_counts_that_network_s_steps(tmp_path):
    from stylecam_train.export import init_record

    install_painter(tmp_path, training={"steps": 700, "init_from_steps": 2500})
    assert init_record(str(tmp_path / NETWORKS_DIR / "painter.safetensors")) == {"init_from_steps": 3200}
