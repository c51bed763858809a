"""Nothing lost: SIGTERM and SIGKILL leave no debris, two runs never share an output, the demo never replaces a file."""

import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from conftest import listing, probe, write_video
from stylecam.files import claim_output, partial_path, sweep_stale_partials
from test_cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")


def _start_conversion(workdir, style_file, source, output="out.mp4"):
    argv = [sys.executable, "-m", "stylecam", "video", str(source), "-o", output, "--style", str(style_file), "--quiet"]
    return subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_partial(workdir, process, timeout=180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(".partial" in name for name in os.listdir(workdir)):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    pytest.fail("the conversion never started writing")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    # Long enough that a signal lands in the middle of the conversion.
    return write_video(tmp_path_factory.mktemp("long") / "long.mp4", frames=400, width=320, height=240)


@pytest.mark.slow
def test_sigterm_in_the_middle_cleans_up_and_exits_143(workdir, style_file, long_clip):
    process = _start_conversion(workdir, style_file, long_clip)
    _wait_for_partial(workdir, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.strip().splitlines() == ["stylecam: terminated; nothing half-written was left behind"]
    assert listing(workdir) == []


@pytest.mark.slow
def test_after_a_sigkill_the_next_run_sweeps_the_debris_and_succeeds(workdir, style_file, long_clip, video_with_sound, capsys):
    process = _start_conversion(workdir, style_file, long_clip)
    _wait_for_partial(workdir, process)
    process.kill()
    process.wait(timeout=30)
    debris = listing(workdir)
    assert any(".partial" in name for name in debris) and "out.mp4" in debris  # what a SIGKILL leaves
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, "--quiet", capsys=capsys)
    assert code == 0, err
    assert listing(workdir) == ["out.mp4"] and probe(workdir / "out.mp4")["frames"] == 12


@pytest.mark.slow
def test_a_second_run_writing_the_same_new_output_is_refused(workdir, style_file, long_clip, video_with_sound, capsys):
    first = _start_conversion(workdir, style_file, long_clip)
    _wait_for_partial(workdir, first)
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "out.mp4", "is being written by another stylecam run")
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert probe(workdir / "out.mp4")["frames"] == 400  # the first run's result, whole


def test_the_sweep_removes_only_what_dead_processes_left(tmp_path):
    output = tmp_path / "out.mp4"
    mine = partial_path(output)
    mine.write_bytes(b"in progress")
    dead_pid = _a_dead_pid()
    stale = tmp_path / f".out.mp4.stylecam-{dead_pid}-0123abcd.partial"
    stale.write_bytes(b"debris")
    unrelated = tmp_path / ".out.mp4.0123abcd.partial"  # not our naming: never touched
    unrelated.write_bytes(b"someone else's")
    assert sweep_stale_partials(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, unrelated.name])
    claim_output(output)
    with pytest.raises(Exception, match="is being written by another stylecam run"):
        claim_output(output)  # a claim is exclusive


def _a_dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_demo_never_replaces_a_file(workdir, style_file, capsys):
    photo = np.full((10, 10, 3), 7, np.uint8)
    assert cv2.imwrite("holiday.png", photo)
    before = (workdir / "holiday.png").read_bytes()
    code, _, err = run_cli("demo", "-o", "holiday.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "holiday.png", "--overwrite")
    assert (workdir / "holiday.png").read_bytes() == before and not (workdir / "holiday.mp4").exists()
    (workdir / "stylecam-demo.png").write_bytes(b"mine")  # the default name moves on when its PNG is taken
    code, _, _ = run_cli("demo", "--style", style_file, capsys=capsys)
    assert code == 0 and (workdir / "stylecam-demo.png").read_bytes() == b"mine" and (workdir / "stylecam-demo-2.mp4").exists()
    code, _, _ = run_cli("demo", "-o", "holiday.mp4", "--overwrite", "--style", style_file, capsys=capsys)
    assert code == 0 and (workdir / "holiday.png").read_bytes() != before


def test_a_claim_left_by_a_run_killed_before_its_first_frame_is_removed(workdir, style_file, video_with_sound, capsys):
    dead_pid = _a_dead_pid()
    (workdir / "out.mp4").write_bytes(b"stylecam: being written by process " + str(dead_pid).encode() + b"\n")
    (workdir / "mine.mp4").write_bytes(b"stylecam: being written by process " + str(os.getpid()).encode() + b"\n")
    code, _, err = run_cli("video", video_with_sound, "-o", "out.mp4", "--style", style_file, "--quiet", capsys=capsys)
    assert code == 0, err
    assert probe(workdir / "out.mp4")["frames"] == 12
    code, _, err = run_cli("video", video_with_sound, "-o", "mine.mp4", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "mine.mp4", "exists")  # a live run's claim is respected


@pytest.mark.parametrize("where", ["starting the encoder", "finishing the file"])
def test_an_interrupt_while_the_writer_starts_or_finishes_leaves_nothing(workdir, monkeypatch, where):
    # The windows outside `with`'s clean-up: SIGTERM arriving while the writer's thread starts
    # (a loaded CPU makes that slow) once left the claim and the temporary file behind.
    import threading

    from stylecam.sinks import VideoWriter

    frame = np.zeros((32, 48, 3), np.uint8)
    if where == "starting the encoder":
        monkeypatch.setattr(threading.Thread, "start", lambda self: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            VideoWriter(workdir / "out.mp4", fps=10)
    else:
        writer = VideoWriter(workdir / "out.mp4", fps=10)
        writer.write(frame)
        real_join = threading.Thread.join
        calls = []

        def interrupted_join(self, timeout=None):
            calls.append(timeout)
            if len(calls) == 1:
                raise KeyboardInterrupt
            return real_join(self, timeout)

        monkeypatch.setattr(threading.Thread, "join", interrupted_join)
        with pytest.raises(KeyboardInterrupt):
            writer.close()
        real_join(writer._thread, 30)  # the encoder thread ends on its own; then nothing may remain
    assert listing(workdir) == []
