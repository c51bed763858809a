"""Flicker: the warping error (stylecam.flicker), the steadying filter (stylecam.steady) and their commands."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from conftest import write_video
from stylecam import cli
from stylecam.choices import DEFAULT_STEADY_STRENGTH, STEADY_FLOWS
from stylecam.flicker import WarpingError
from stylecam.steady import FLOWS, SteadyFilter, moving_texture
from test_cli import assert_one_line_error, run_cli

WIDTH, HEIGHT = 160, 120


def measure(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> WarpingError:
    meter = WarpingError()
    for original, stylized in zip(inputs, outputs, strict=True):
        meter.add(original, stylized)
    return meter


def noisy(frames: list[np.ndarray], sigma: float = 12.0, seed: int = 0) -> list[np.ndarray]:
    """A stand-in for a flickering stylization: the frame with fresh noise every time."""
    rng = np.random.default_rng(seed)
    return [np.clip(frame + rng.normal(0, sigma, frame.shape), 0, 255).astype(np.uint8) for frame in frames]


# -- the measure ---------------------------------------------------------------------------------
def test_static_clip_scores_about_zero():
    clip = moving_texture(WIDTH, HEIGHT, 1) * 6
    meter = measure(clip, clip)
    assert meter.pairs == 5
    assert meter.input_error < 1e-6 and meter.output_error < 1e-6


def test_translated_texture_is_explained_by_the_flow():
    clip = moving_texture(WIDTH, HEIGHT, 10, step=2)
    meter = measure(clip, clip)
    unwarped = np.mean([((a / 255.0 - b / 255.0) ** 2).mean() for a, b in zip(clip, clip[1:], strict=False)])
    assert meter.pairs == 9
    assert meter.input_error < 2e-4
    assert meter.input_error < unwarped / 20  # the flow found the 2 px per frame


def test_shuffled_frames_score_high():
    clip = moving_texture(WIDTH, HEIGHT, 12, step=2)
    order = [0, 7, 3, 10, 5, 1, 11, 8, 2, 6, 9, 4]  # no two neighbours stay neighbours
    meter = measure(clip, [clip[index] for index in order])
    assert meter.output_error > 0.005
    assert meter.ratio > 30


def test_output_of_another_size_is_compared_at_the_inputs_size():
    clip = moving_texture(WIDTH, HEIGHT, 6, step=2)
    larger = [cv2.resize(frame, (WIDTH * 2, HEIGHT * 2), interpolation=cv2.INTER_LINEAR) for frame in clip]
    meter = measure(clip, larger)
    assert meter.output_error == pytest.approx(meter.input_error, abs=5e-4)


# -- the filter ----------------------------------------------------------------------------------
@pytest.mark.parametrize("flow", STEADY_FLOWS)
def test_steady_lowers_the_warping_error_of_a_flickering_video(flow):
    clip = moving_texture(WIDTH, HEIGHT, 15, step=2)
    stylized = noisy(clip)
    steady = SteadyFilter(flow=flow)
    steadied = [steady.apply(original, frame) for original, frame in zip(clip, stylized, strict=True)]
    without, with_steady = measure(clip, stylized).output_error, measure(clip, steadied).output_error
    assert with_steady < 0.6 * without

    # and the picture stays the picture: closer to the clean frames than the noisy ones are
    def distance(frames):
        return np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(clip[5:], frames[5:], strict=True)])

    assert distance(steadied) < distance(stylized)


def test_first_frame_and_a_reset_pass_the_stylized_frame_through():
    clip = moving_texture(WIDTH, HEIGHT, 4, step=2)
    stylized = noisy(clip)
    steady = SteadyFilter()
    assert steady.apply(clip[0], stylized[0]) is stylized[0]
    assert not np.array_equal(steady.apply(clip[1], stylized[1]), stylized[1])  # blended
    steady.reset()
    assert steady.apply(clip[2], stylized[2]) is stylized[2]


def test_a_scene_cut_resets_the_filter():
    first_scene = moving_texture(WIDTH, HEIGHT, 5, step=2, seed=0)
    second_scene = [255 - frame for frame in moving_texture(WIDTH, HEIGHT, 5, step=2, seed=1)]
    clip = first_scene + second_scene
    stylized = noisy(clip)
    steady = SteadyFilter()
    out = [steady.apply(original, frame) for original, frame in zip(clip, stylized, strict=True)]
    assert not np.array_equal(out[4], stylized[4])  # blending was on before the cut
    assert np.array_equal(out[5], stylized[5])  # the first frame after the cut is the stylized frame as it is
    assert not np.array_equal(out[6], stylized[6])  # and blending resumes within the new scene
    assert steady.cuts == 1


def test_fast_motion_is_not_blended():
    """Where the warped previous input does not match the current input, the stylized frame is kept: no ghost."""
    background = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    clip = []
    for index in range(4):  # a bright square jumping 40 px per frame: too fast for the flow
        frame = background.copy()
        frame[40:80, 10 + 40 * index : 50 + 40 * index] = 230
        clip.append(frame)
    stylized = noisy(clip)
    steady = SteadyFilter(strength=0.9)
    out = [steady.apply(original, frame) for original, frame in zip(clip, stylized, strict=True)]
    where_it_was = (slice(45, 75), slice(55, 85))  # inside the square at frame 1, background at frame 2
    ghost = np.abs(out[2][where_it_was].astype(int) - stylized[2][where_it_was]).mean()
    assert ghost < 3


def test_strength_out_of_range_is_refused():
    with pytest.raises(ValueError, match="strength"):
        SteadyFilter(strength=1.0)
    with pytest.raises(ValueError, match="fine, fast"):
        SteadyFilter(flow="slow")


def test_the_command_line_offers_every_flow_of_the_filter():
    assert tuple(FLOWS) == STEADY_FLOWS


def test_tracking_every_input_ahead_gives_the_frames_that_apply_gives():
    """What lets the video loop find the flow in a thread while the network paints: track needs no output."""
    first_scene = moving_texture(WIDTH, HEIGHT, 5, step=2, seed=0)
    clip = first_scene + [255 - frame for frame in moving_texture(WIDTH, HEIGHT, 5, step=2, seed=1)]  # and a cut
    stylized = noisy(clip)
    together = SteadyFilter(flow="fine")
    expected = [together.apply(original, frame) for original, frame in zip(clip, stylized, strict=True)]
    apart = SteadyFilter(flow="fine")
    steps = [apart.track(original) for original in clip]  # every flow first
    out = [apart.blend(step, frame) for step, frame in zip(steps, stylized, strict=True)]
    assert all(np.array_equal(a, b) for a, b in zip(out, expected, strict=True))
    assert apart.cuts == together.cuts == 1
    with pytest.raises(ValueError, match="differ in size"):
        apart.blend(apart.track(clip[0]), cv2.resize(stylized[0], (WIDTH // 2, HEIGHT // 2)))


def cartoon(frames: int, width: int = 320, height: int = 240) -> list[np.ndarray]:
    """Flat shapes with dark outlines moving different ways over a flat background, as in an animated film."""
    clip = []
    for t in range(frames):
        frame = np.full((height, width, 3), (60, 40, 30), np.uint8)
        for color, thickness in (((200, 170, 140), -1), ((10, 10, 10), 2)):
            cv2.circle(frame, (60 + 4 * t, 120), 40, color, thickness)
        for color, thickness in (((40, 160, 220), -1), ((0, 0, 0), 2)):
            cv2.rectangle(frame, (200 - 3 * t, 40 + 2 * t), (260 - 3 * t, 110 + 2 * t), color, thickness)
        cv2.line(frame, (0, 200), (width, 200 + t), (230, 230, 230), 3)
        clip.append(frame)
    return clip


def test_the_fine_flow_leaves_less_flicker_on_a_cartoon_than_the_fast_one():
    """Outlines are where the fast flow's errors fall (and where the filter then takes the stylized frame as it is)."""
    clip = cartoon(10)
    stylized = noisy(clip)
    errors = {}
    for flow in FLOWS:
        steady = SteadyFilter(flow=flow)
        errors[flow] = measure(clip, [steady.apply(original, frame) for original, frame in zip(clip, stylized, strict=True)]).output_error
    assert errors["fine"] < 0.7 * errors["fast"]  # 0.43 on the 2-core CPU


# -- the commands --------------------------------------------------------------------------------
def test_flicker_command_json(workdir, capsys):
    original = write_video(workdir / "in.mp4", frames=10, width=96, height=64, audio=None)
    other_size = write_video(workdir / "out.mp4", frames=10, width=128, height=96, audio=None)
    code, out, _ = run_cli("flicker", original, other_size, "--json", "--quiet", capsys=capsys)
    assert code == 0
    report = json.loads(out)
    assert {"warping_error", "warping_error_input", "ratio", "frames", "pairs", "analysis_size"} <= report.keys()
    assert report["frames"] == 10 and report["analysis_size"] == [96, 64]
    assert report["warping_error"] >= 0 and report["warping_error_input"] >= 0
    code, out, _ = run_cli("flicker", original, original, "--quiet", capsys=capsys)
    assert code == 0 and "warping error of" in out and "the floor" in out and "1.00x" in out


def test_flicker_command_missing_file(workdir, capsys):
    original = write_video(workdir / "in.mp4", frames=4, width=96, height=64, audio=None)
    assert_one_line_error(*run_cli("flicker", original, "nope.mp4", capsys=capsys)[::2], "nope.mp4", "does not exist")


def test_flicker_command_different_frame_counts(workdir, capsys):
    original = write_video(workdir / "in.mp4", frames=12, width=96, height=64, audio=None)
    shorter = write_video(workdir / "out.mp4", frames=8, width=96, height=64, audio=None)
    code, _, err = run_cli("flicker", original, shorter, "--quiet", capsys=capsys)
    assert_one_line_error(code, err, "12 frames", "has 8")


def test_video_steady_and_flicker_summary(workdir, style_file, capsys):
    original = write_video(workdir / "in.mp4", frames=8, width=96, height=64, audio=None)
    code, out, _ = run_cli(
        "video", original, "-o", "out.mp4", "--style", style_file, "--steady", "--flicker", "--json", "--quiet", capsys=capsys
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["steady"] == pytest.approx(0.8) and summary["steady_flow"] == "fine"
    assert summary["warping_error"] > 0 and summary["warping_error_input"] >= 0 and summary["flicker_pairs"] >= 1


@pytest.mark.parametrize(("extra", "strength"), [(["--steady-flow", "fast"], 0.6), (["--steady-strength", "0.3"], 0.3)])
def test_video_steady_strength_follows_the_flow_unless_given(workdir, style_file, capsys, extra, strength):
    original = write_video(workdir / "in.mp4", frames=4, width=96, height=64, audio=None)
    code, out, _ = run_cli(
        "video", original, "-o", "out.mp4", "--style", style_file, "--steady", *extra, "--json", "--quiet", capsys=capsys
    )
    assert code == 0
    assert json.loads(out)["steady"] == pytest.approx(strength)


def test_the_filter_takes_its_flows_default_strength():
    assert set(DEFAULT_STEADY_STRENGTH) == set(STEADY_FLOWS) == set(FLOWS)
    assert SteadyFilter(flow="fine").strength == 0.8
    assert SteadyFilter(flow="fast").strength == SteadyFilter().strength == 0.6
    assert SteadyFilter(0.25, flow="fine").strength == 0.25


@pytest.mark.parametrize("flow", STEADY_FLOWS)
def test_video_steady_in_threads_writes_what_the_filter_gives_in_order(workdir, style_file, capsys, flow):
    """The flow found ahead and the measure behind the writer change nothing: the figures are those of
    SteadyFilter.apply and WarpingError.add over the frames, one after the other."""
    from stylecam import Stylizer
    from stylecam.capture import VideoFileSource

    clip = moving_texture(96, 64, 10, step=2)
    original = workdir / "in.mp4"
    import av

    with av.open(str(original), "w") as container:
        stream = container.add_stream("libx264", rate=10, options={"crf": "10"})
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for frame in clip:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    code, out, err = run_cli(
        "video", original, "-o", "out.mp4", "--style", style_file, "--steady", "--steady-flow", flow, "--flicker",
        "--batch", "3", "--backend", "eager", "--json", "--quiet", capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    # eager on both sides: auto may pick OpenVINO, whose bf16 (on CPUs made for it) differs
    # between a batch of 3 and single frames by more than this test's tolerance
    stylizer = Stylizer.from_style(str(style_file), device="cpu", backend="eager")
    steady, meter = SteadyFilter(flow=flow), WarpingError()
    with VideoFileSource(original) as source:
        for frame, _ in source:
            meter.add(frame, steady.apply(frame, stylizer.stylize(frame)))
    assert summary["steady_flow"] == flow and summary["flicker_pairs"] == meter.pairs == 9
    assert summary["warping_error"] == pytest.approx(meter.output_error, rel=1e-3)
    assert summary["warping_error_input"] == pytest.approx(meter.input_error, rel=1e-6)


def test_video_steady_strength_out_of_range(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["video", "in.mp4", "-o", "out.mp4", "--steady-strength", "2"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and "--steady-strength" in lines[0] and "0.95" in lines[0]


def test_flicker_on_a_file_that_ends_early_says_so_and_its_bar_ends_at_100_percent(workdir, style_file, capsys):
    whole = write_video(workdir / "whole.avi", frames=40, width=64, height=48, audio=None).read_bytes()
    (workdir / "cut.avi").write_bytes(whole[: len(whole) // 2])  # the header still announces 40 frames
    code, _, err = run_cli("video", "cut.avi", "-o", "out.mp4", "--style", style_file, "--quiet", capsys=capsys)
    assert code == 0, err
    code, out, err = run_cli("flicker", "cut.avi", "out.mp4", "--json", capsys=capsys)
    assert code == 0, err
    frames = json.loads(out)["frames"]
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == [f"stylecam: warning: cut.avi ended after {frames} of the 40 frames its header announces "
                        "(a truncated or damaged file?); the figures are of the frames found"]  # fmt: skip
    assert "100%" in err and f"| {frames}/{frames} [" in err  # the bar's last state: all of what was there


@pytest.mark.parametrize("command", ["video", "flicker"])
def test_flow_on_a_10x10_video_works(workdir, style_file, capsys, command):
    write_video(workdir / "tiny.mp4", frames=6, width=10, height=10)
    code, _, err = run_cli("video", "tiny.mp4", "-o", "out.mp4", "--style", style_file, "--steady", "--flicker", "--quiet", capsys=capsys)
    assert code == 0, err  # OpenCV's DIS flow refuses frames under 12 px a side: the flow is found on an enlarged copy
    if command == "flicker":
        code, out, err = run_cli("flicker", "tiny.mp4", "out.mp4", "--json", capsys=capsys)
        assert code == 0, err
        assert json.loads(out)["pairs"] == 5
