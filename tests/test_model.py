import copy

import numpy as np
import pytest
import torch

from stylecam.devices import Precision
from stylecam.frames import Stylizer, processing_size
from stylecam.model import TransformerNet


def test_classic_network_has_the_published_parameter_count():
    # Johnson et al.'s network as in pytorch/examples: 1,679,235 parameters at width 32.
    assert sum(p.numel() for p in TransformerNet().parameters()) == 1_679_235


@pytest.mark.parametrize("height, width", [(479, 641), (17, 23), (64, 64), (101, 30)])
def test_output_has_exactly_the_input_size(height, width):
    model = TransformerNet(width=8).eval()
    with torch.inference_mode():
        out = model(torch.rand(1, 3, height, width))
    assert out.shape == (1, 3, height, width)
    assert torch.isfinite(out).all()


def test_too_small_frames_are_refused_with_a_message():
    with pytest.raises(ValueError, match="at least 16x16"):
        TransformerNet(width=8)(torch.rand(1, 3, 8, 40))


def _stylizer(scale=1.0):
    torch.manual_seed(0)
    return Stylizer(TransformerNet(width=8), torch.device("cpu"), Precision(torch.float32), scale=scale)


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.33])
def test_stylizer_returns_bgr_uint8_frames_of_the_input_size(scale):
    frame = np.random.default_rng(0).integers(0, 256, (119, 161, 3), dtype=np.uint8)
    out = _stylizer(scale).stylize(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8


def test_stylizer_treats_frames_as_bgr():
    # The network sees RGB: swapping the input's channels must change the output
    # in the same way as swapping them in the tensor the network receives.
    stylizer = _stylizer()
    frame = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    out = stylizer.stylize(frame)
    with torch.inference_mode():
        rgb = torch.from_numpy(frame[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255
        expected = stylizer.model(rgb).clamp(0, 1).mul(255).round().byte()[0].permute(1, 2, 0).numpy()[..., ::-1]
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1


def test_processing_size_never_goes_below_the_network_minimum():
    assert processing_size(480, 640, 0.5) == (240, 320)
    assert min(processing_size(40, 400, 0.1)) >= 16


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fp16_matches_cpu_fp32():
    torch.manual_seed(0)
    model = TransformerNet(width=32).eval()
    frame = np.random.default_rng(2).integers(0, 256, (479, 641, 3), dtype=np.uint8)
    cpu = Stylizer(model, torch.device("cpu"), Precision(torch.float32)).stylize(frame)
    gpu = Stylizer(copy.deepcopy(model), torch.device("cuda"), Precision(torch.float16)).stylize(frame)
    assert gpu.shape == frame.shape
    assert np.abs(cpu.astype(int) - gpu.astype(int)).mean() < 3


def test_a_frame_too_large_for_the_device_is_refused_before_any_allocation(monkeypatch):
    from stylecam import frames
    from stylecam.devices import Precision
    from stylecam.frames import FrameTooLargeError, Stylizer

    monkeypatch.setattr(frames, "free_memory", lambda device: 100 * frames.BYTES_PER_PIXEL_FP32 * 1_000_000 // 80)  # room for 1.25 Mpx
    stylizer = Stylizer(TransformerNet(width=8), torch.device("cpu"), Precision(torch.float32))
    small = np.zeros((480, 640, 3), np.uint8)
    assert stylizer.stylize(small).shape == small.shape
    # Not even allocated: a 16000x16000 frame would need 256 GB at scale 1.
    huge = np.lib.stride_tricks.as_strided(np.zeros(3, np.uint8), shape=(16000, 16000, 3), strides=(0, 0, 1))
    with pytest.raises(
        FrameTooLargeError, match=r"16000x16000 frame at processing scale 1 is 256 megapixels.*room for about 1 .*--scale 0.06"
    ):
        stylizer.stylize(huge)
    stylizer.scale = 0.06
    assert stylizer._check_fits(1, 16000, 16000) is None  # the suggested scale fits
