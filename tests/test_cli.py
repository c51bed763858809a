"""The commands as a user runs them: exit codes, messages, files left behind."""

import dataclasses
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import listing, make_style, probe, write_video
from stylecam import capture, cli
from stylecam.devices import pick_device
from stylecam.frames import Stylizer


def run_cli(*argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("stylecam: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- video: what must be kept -------------------------------------------------------------------
def test_video_keeps_frames_rate_size_and_sound(workdir, style_file, video_with_sound, capsys):
    code, out, _ = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, "--json", capsys=capsys)
    assert code == 0
    summary = json.loads(out)
    source, result = probe(video_with_sound), probe(workdir / "out.mp4")
    assert result["frames"] == source["frames"] == summary["frames"] == 12
    assert result["fps"] == pytest.approx(source["fps"]) == pytest.approx(10.0)
    assert result["size"] == source["size"] == (161, 119)
    assert result["audio"] == ["aac"]
    assert {"frames", "seconds", "fps", "device", "style"} <= summary.keys()
    assert summary["device"] == str(pick_device("auto"))  # the best device here: cuda on a GPU machine
    assert listing(workdir) == ["out.mp4"]  # no temporary file left behind


def test_video_output_is_stylized_not_copied(workdir, style_file, video_with_sound, capsys):
    run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, capsys=capsys)
    a, b = cv2.VideoCapture(str(video_with_sound)), cv2.VideoCapture("out.mp4")
    (_, first_in), (_, first_out) = a.read(), b.read()
    assert np.abs(first_in.astype(int) - first_out.astype(int)).mean() > 10


def test_pcm_sound_in_avi_is_reencoded_and_kept(workdir, style_file, capsys):
    source = write_video(workdir / "camera.avi", frames=8, width=96, height=64, audio="pcm_s16le")
    code, _, _ = run_cli("video", source, "-o", "out.mp4", "--style", style_file, "--quiet", capsys=capsys)
    assert code == 0
    result = probe(workdir / "out.mp4")
    assert result["frames"] == 8 and result["size"] == (96, 64)
    assert result["audio"] == ["aac"]


def test_ntsc_frame_rate_is_kept(workdir, style_file, capsys):
    source = write_video(workdir / "ntsc.mp4", frames=6, width=64, height=48, fps=Fraction(30000, 1001), audio=None)
    assert run_cli("video", source, "-o", "out.mkv", "--style", style_file, capsys=capsys)[0] == 0
    assert probe(workdir / "out.mkv")["fps"] == pytest.approx(29.97, abs=0.01)


@pytest.mark.parametrize("header_count", [3, 1000])
def test_a_lying_frame_count_in_the_header_loses_no_frame(workdir, style_file, video_with_sound, capsys, monkeypatch, header_count):
    real = capture._stream_info
    monkeypatch.setattr(capture, "_stream_info", lambda stream: dataclasses.replace(real(stream), frame_count=header_count))
    code, out, _ = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["frames"] == 12
    assert probe(workdir / "out.mp4")["frames"] == 12


def test_the_progress_bar_ends_at_100_percent_whatever_the_header_said(workdir, style_file, video_with_sound, capsys, monkeypatch):
    real = capture._stream_info
    monkeypatch.setattr(capture, "_stream_info", lambda stream: dataclasses.replace(real(stream), frame_count=1000))
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert code == 0
    last_render = err.replace("\r", "\n").strip().splitlines()
    bar = [line for line in last_render if "frame" in line and "|" in line][-1]
    assert "100%" in bar and "12/12" in bar, bar


def test_a_truncated_avi_converts_what_it_has_and_says_so_in_one_warning(workdir, style_file, capsys):
    whole = write_video(workdir / "whole.avi", frames=40, width=64, height=48, audio=None).read_bytes()
    (workdir / "cut.avi").write_bytes(whole[: len(whole) // 2])  # the header still announces 40 frames
    code, out, err = run_cli("video", "cut.avi", "-o", "out.mp4", "--style", style_file, "--quiet", "--json", capsys=capsys)
    assert code == 0
    summary = json.loads(out)
    assert 0 < summary["frames"] < 40 and summary["frames_announced"] == 40
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == [f"stylecam: warning: cut.avi ended after {summary['frames']} of the 40 frames its header announces "
                        "(a truncated or damaged file?); every frame found was converted"]  # fmt: skip
    assert probe(workdir / "out.mp4")["frames"] == summary["frames"]


def test_a_still_image_renamed_to_mp4_is_not_a_video(workdir, style_file, capsys):
    ok, encoded = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))
    (workdir / "photo.mp4").write_bytes(encoded.tobytes())
    code, _, err = run_cli("video", "photo.mp4", "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "photo.mp4", "still image", "stylecam image")
    assert not (workdir / "out.mp4").exists()


# -- video: never lose anything -----------------------------------------------------------------
def test_existing_output_is_not_overwritten_without_flag(workdir, style_file, video_with_sound, capsys):
    (workdir / "out.mp4").write_bytes(b"precious")
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "out.mp4", "--overwrite")
    assert (workdir / "out.mp4").read_bytes() == b"precious"
    code, _, _ = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, "--overwrite", capsys=capsys)
    assert code == 0 and probe(workdir / "out.mp4")["frames"] == 12


def test_input_is_never_written_over(workdir, style_file, capsys):
    source = write_video(workdir / "in.mp4", frames=4, width=64, height=48, audio=None)
    before = source.read_bytes()
    code, _, err = run_cli("video", source, "-o", source, "--style", style_file, "--overwrite", capsys=capsys)
    assert_one_line_error(code, err, "is the input")
    assert source.read_bytes() == before


@pytest.mark.parametrize("existing", [False, True])
def test_interrupted_conversion_leaves_no_output(workdir, style_file, video_with_sound, capsys, monkeypatch, existing):
    if existing:
        (workdir / "out.mp4").write_bytes(b"previous result")
    real = Stylizer.stylize_batch
    calls = []

    def interrupt_after_three(self, frames):
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return real(self, frames)

    monkeypatch.setattr(Stylizer, "stylize_batch", interrupt_after_three)
    argv = ["video", video_with_sound, "-o", "out.mp4", "--style", style_file] + (["--overwrite"] if existing else [])
    code, _, err = run_cli(*argv, capsys=capsys)
    assert code == 130 and "interrupted" in err
    if existing:
        assert (workdir / "out.mp4").read_bytes() == b"previous result"
        assert listing(workdir) == ["out.mp4"]
    else:
        assert listing(workdir) == []


# -- bad input: one line, exit 2 ----------------------------------------------------------------
def test_missing_input(workdir, style_file, capsys):
    assert_one_line_error(
        *run_cli("video", "nope.mp4", "-o", "out.mp4", "--style", style_file, capsys=capsys)[::2], "nope.mp4", "does not exist"
    )


def test_file_that_is_not_a_video(workdir, style_file, capsys):
    (workdir / "notes.mp4").write_text("these are my notes, not a video\n" * 50)
    code, _, err = run_cli("video", "notes.mp4", "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "notes.mp4", "not a readable video")
    assert not (workdir / "out.mp4").exists()


def test_truncated_video(workdir, style_file, capsys):
    whole = write_video(workdir / "whole.mp4", frames=12, width=64, height=48, audio=None).read_bytes()
    (workdir / "cut.mp4").write_bytes(whole[: len(whole) // 2])  # the index (moov) at the end is gone
    code, _, err = run_cli("video", "cut.mp4", "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "cut.mp4", "truncated")
    assert not (workdir / "out.mp4").exists()


def test_video_without_frames(workdir, style_file, capsys):
    writer = cv2.VideoWriter(str(workdir / "empty.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    writer.release()
    code, _, err = run_cli("video", "empty.avi", "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "empty.avi")
    assert not (workdir / "out.mp4").exists()


def test_sound_only_file_has_no_video_frames(workdir, style_file, capsys):
    import av

    with av.open(str(workdir / "song.m4a"), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.int16), format="s16", layout="mono")
        frame.sample_rate = 16000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    code, _, err = run_cli("video", "song.m4a", "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "song.m4a")


def test_unknown_style(workdir, video_with_sound, capsys):
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", "no_such_style", capsys=capsys)
    assert_one_line_error(code, err, "unknown style 'no_such_style'")


def test_unreadable_style_file(workdir, video_with_sound, capsys):
    (workdir / "broken.safetensors").write_bytes(b"\x00" * 100)
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", "broken.safetensors", capsys=capsys)
    assert_one_line_error(code, err, "broken.safetensors")


def test_output_folder_that_does_not_exist(workdir, style_file, video_with_sound, capsys):
    code, _, err = run_cli("video", video_with_sound, "-o", "missing/dir/out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "missing/dir", "does not exist")


def test_output_folder_that_is_a_file(workdir, style_file, capsys):
    (workdir / "taken").write_text("a file, not a folder")
    (workdir / "photo.png").write_bytes(cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))[1].tobytes())
    code, _, err = run_cli("image", "photo.png", "-o", "taken", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "taken")


def test_unwritable_output_folder(workdir, style_file, video_with_sound, capsys, monkeypatch):
    # Tests may run as root, for whom permission bits do not bind: ask os.access instead.
    import stylecam.sinks as sinks

    monkeypatch.setattr(sinks.os, "access", lambda path, mode: False)
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "not writable")


def test_wrong_output_extension(workdir, style_file, video_with_sound, capsys):
    code, _, err = run_cli("video", video_with_sound, "-o", "out.txt", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, ".mp4")


def test_usage_errors_are_one_line_too(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["video"])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stylecam: error:")


def test_unavailable_device(workdir, style_file, video_with_sound, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, "--device", "cuda", capsys=capsys)
    assert_one_line_error(code, err, "no CUDA GPU")


def test_options_before_the_command_are_used_not_ignored(workdir, style_file, video_with_sound, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, _, err = run_cli("--style", "nosuch", "video", video_with_sound, "-o", "out.mp4", capsys=capsys)
    assert_one_line_error(code, err, "unknown style 'nosuch'")
    code, _, err = run_cli("--device", "cuda", "video", video_with_sound, "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "no CUDA GPU")
    code, out, _ = run_cli(
        "--style", style_file, "--scale", "0.5", "video", video_with_sound, "-o", "out.mp4", "--json", "--quiet", capsys=capsys
    )
    assert code == 0 and json.loads(out)["scale"] == 0.5 and json.loads(out)["style"] == "random"
    # Given in both places, the one after the command wins, as a reader of the line expects.
    args = cli.build_parser("video").parse_args(["--style", "first", "video", "in.mp4", "-o", "x.mp4", "--style", "second"])
    assert args.style == "second"


@pytest.mark.parametrize("scale", ["nan", "inf", "-1", "0", "100"])
def test_impossible_scales_are_refused_with_the_limit(capsys, scale):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["video", "in.mp4", "-o", "out.mp4", "--scale", scale])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and "above 0 and at most 4" in lines[0]


# -- images ---------------------------------------------------------------------------------------
def test_images_from_files_and_folders_keep_size_or_fit_max_size(workdir, style_file, capsys):
    album = workdir / "album" / "2024"
    album.mkdir(parents=True)
    cv2.imwrite(str(album / "beach.jpg"), np.full((91, 137, 3), 120, np.uint8))
    cv2.imwrite(str(workdir / "portrait.png"), np.full((300, 200, 3), 60, np.uint8))
    code, _, _ = run_cli("image", "album", "portrait.png", "-o", "out", "--max-size", "150", "--style", style_file, capsys=capsys)
    assert code == 0
    assert cv2.imread(str(workdir / "out" / "beach-random.jpg")).shape == (91, 137, 3)  # under the cap: as is
    assert cv2.imread(str(workdir / "out" / "portrait-random.png")).shape == (150, 100, 3)


def test_unreadable_image_is_reported_and_the_others_are_written(workdir, style_file, capsys):
    cv2.imwrite(str(workdir / "good.png"), np.full((40, 40, 3), 90, np.uint8))
    (workdir / "bad.jpg").write_text("not an image")
    code, _, err = run_cli("image", "good.png", "bad.jpg", "-o", "out", "--style", style_file, capsys=capsys)
    assert code == 2 and "bad.jpg" in err.splitlines()[-1]
    assert (workdir / "out" / "good-random.png").exists()


def test_missing_image(workdir, style_file, capsys):
    code, _, err = run_cli("image", "ghost.png", "-o", "out", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "ghost.png", "does not exist")
    assert not (workdir / "out").exists()


# -- styles, demo, import boundary ----------------------------------------------------------------
def test_styles_lists_installed_styles(tmp_path, monkeypatch, capsys):
    make_style(tmp_path / "alpha.safetensors", name="alpha")
    (tmp_path / "broken.safetensors").write_bytes(b"junk")
    monkeypatch.setenv("STYLECAM_WEIGHTS", str(tmp_path))
    code, out, _ = run_cli("styles", "--json", capsys=capsys)
    rows = {row["name"]: row for row in json.loads(out)}
    assert code == 0 and rows["alpha"]["artist"] == "nobody" and "error" in rows["broken"]


def test_demo_makes_a_stylized_clip_and_says_where(workdir, style_file, capsys):
    code, out, err = run_cli("demo", "--style", style_file, "--json", capsys=capsys)
    assert code == 0
    # The notes on stderr, the result alone on stdout (one JSON object with --json).
    assert str(workdir / "stylecam-demo.mp4") in err and "random" in err
    summary = json.loads(out)
    assert summary["output"] == str(workdir / "stylecam-demo.mp4") and summary["frames"] == 36 and summary["style"] == "random"
    assert probe(workdir / "stylecam-demo.mp4")["frames"] == 36
    preview = cv2.imread(str(workdir / "stylecam-demo.png"))
    assert preview.shape == (240, 640, 3)  # original and stylized side by side
    assert run_cli("demo", "--style", style_file, capsys=capsys)[0] == 0
    assert (workdir / "stylecam-demo-2.mp4").exists()  # a second run never replaces the first


def test_bare_command_falls_back_to_the_demo_without_camera_or_display(workdir, style_file, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, out, err = run_cli("--style", style_file, capsys=capsys)
    assert code == 0 and "demo" in err and (workdir / "stylecam-demo.mp4").exists()


def test_bare_command_opens_the_webcam_with_its_own_defaults_where_a_camera_and_a_display_are(workdir, style_file, capsys, monkeypatch):
    from test_webcam import FakeCamera

    from stylecam import capture, webcam

    monkeypatch.setattr(webcam, "display_problem", lambda: None)
    monkeypatch.setattr(webcam, "camera_present", lambda index=0: True)
    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCamera())
    opened = []

    def window(app, poll_ms=15):  # the window itself needs a screen: record what it was given instead
        opened.append({"style": app.stylizer.style_name, "save_dir": app.save_dir, "frame": app.source.read().shape})
        return app.state

    monkeypatch.setattr(webcam.WebcamApp, "run", window)
    code, _, err = run_cli("--style", str(style_file), "--device", "cpu", capsys=capsys)
    assert code == 0, err
    assert opened == [{"style": "random", "save_dir": Path("."), "frame": (48, 64, 3)}]
    assert "demo" not in err


def test_cli_does_not_import_training_or_lightning():
    # Only the chosen command's module is imported: nothing of the recipe, and no Lightning.
    code = (
        "import sys, stylecam.cli as c; c.main(['styles']);"
        "bad = [m for m in sys.modules if m.startswith('stylecam_train') or m.split('.')[0] in ('pytorch_lightning', 'lightning')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_dash_m_stylecam_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "stylecam", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "webcam" in result.stdout


def test_a_real_process_prints_exactly_one_line_for_a_bad_video(workdir, style_file):
    # OpenCV and FFmpeg write to the C-level stderr, which capsys does not see: run a process.
    (workdir / "notes.mp4").write_text("not a video\n" * 100)
    argv = [sys.executable, "-m", "stylecam", "video", "notes.mp4", "-o", "out.mp4", "--style", str(style_file)]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=workdir)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["stylecam: error: input notes.mp4 is not a readable video (unknown format, or truncated)"]


def test_train_is_reached_through_the_stylecam_command(workdir, capsys):
    (workdir / "photos").mkdir()
    cv2.imwrite(str(workdir / "painting.png"), np.full((64, 64, 3), 200, np.uint8))
    credit = ("--title", "T", "--artist", "A", "--licence", "CC0")
    code, _, err = run_cli("train", "--style-image", "painting.png", "--data", "photos", "--vgg-weights", "random", *credit, capsys=capsys)
    assert_one_line_error(code, err, "photos", "no images")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0 and "--style-weight" in capsys.readouterr().out


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"stylecam {version('stylecam')}"
