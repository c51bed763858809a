"""`stylecam image`: a file or a folder out, photos upright with their EXIF and colour profile, stdin and stdout, inputs never replaced."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageCms

from conftest import listing
from test_cli import assert_one_line_error, run_cli

# Eager on the CPU (no ONNX export to wait for); --strength 0 gives the input back, so a test can
# see where each pixel went.
FAST = ("--backend", "eager", "--device", "cpu")
IDENTITY = (*FAST, "--strength", "0")
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
GREY = (128, 128, 128)
RED = (255, 0, 0)


def photo(path, size=(48, 32), colour=(90, 140, 200), **save):
    Image.new("RGB", size, colour).save(path, **save)
    return path


def rotated_phone_photo(path, image_format="JPEG"):
    """Stored 96 wide, 64 high, red in the stored top-left corner; EXIF orientation 6: shown rotated 90 degrees clockwise."""
    pixels = np.full((64, 96, 3), GREY, np.uint8)
    pixels[:16, :24] = RED
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F], exif[0x0110] = "PhoneMaker", "Phone 12"
    Image.fromarray(pixels).save(path, format=image_format, exif=exif.tobytes(), icc_profile=SRGB)
    return path


def near(pixel, colour, tolerance=24):
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_an_output_with_an_image_suffix_is_that_file_not_a_folder(workdir, style_file, capsys):
    photo(workdir / "x.jpg")
    code, out, err = run_cli("image", "x.jpg", "-o", "y.png", "--style", style_file, *FAST, capsys=capsys)
    assert code == 0, err
    assert (workdir / "y.png").is_file()
    with Image.open(workdir / "y.png") as result:
        assert result.format == "PNG" and result.size == (48, 32)
    assert listing(workdir) == ["x.jpg", "y.png"]
    assert out == "" and "wrote 1 image(s) to y.png" in err


def test_an_output_without_an_image_suffix_or_an_existing_folder_is_a_folder(workdir, style_file, capsys):
    photo(workdir / "x.jpg")
    (workdir / "made.png").mkdir()  # an existing folder stays a folder, whatever its name
    for option, folder in (("-o", "out"), ("--output-dir", "old"), ("--output", "made.png")):
        code, _, err = run_cli("image", "x.jpg", option, folder, "--style", style_file, *FAST, capsys=capsys)
        assert code == 0, err
        assert listing(workdir / folder) == ["x-random.jpg"]


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_a_rotated_phone_photo_comes_out_upright_with_its_exif_and_colour_profile(workdir, style_file, capsys, suffix):
    rotated_phone_photo(workdir / "phone.jpg")
    code, _, err = run_cli("image", "phone.jpg", "-o", f"upright{suffix}", "--style", style_file, *IDENTITY, capsys=capsys)
    assert code == 0, err
    with Image.open(workdir / f"upright{suffix}") as result:
        assert result.size == (64, 96)  # width and height swapped: the stored 96 x 64, turned
        pixels = np.asarray(result.convert("RGB"))
        exif = result.getexif()
        icc = result.info.get("icc_profile")
    # The stored top-left corner, turned a quarter clockwise, is the top-right one.
    assert near(pixels[4, 64 - 5], RED) and near(pixels[4, 4], GREY) and near(pixels[96 - 5, 4], GREY)
    assert exif.get(0x010F) == "PhoneMaker" and exif.get(0x0110) == "Phone 12"
    assert exif.get(0x0112) == 1  # the pixels are upright now: a viewer must not turn them again
    assert icc == SRGB


def test_a_rotated_tiff_comes_out_upright_too(workdir, style_file, capsys):
    rotated_phone_photo(workdir / "scan.tif", "TIFF")  # Pillow turns a TIFF upright as it loads it: not turned twice
    code, _, err = run_cli("image", "scan.tif", "-o", "upright.jpg", "--style", style_file, *IDENTITY, capsys=capsys)
    assert code == 0, err
    with Image.open(workdir / "upright.jpg") as result:
        assert result.size == (64, 96) and near(np.asarray(result)[4, 59], RED)
        exif = result.getexif()
        assert exif.get(0x0112) == 1 and exif.get(0x0110) == "Phone 12"
        assert 0x0111 not in exif and 0x0100 not in exif  # the TIFF's own layout (strips, width) stays behind


def test_a_folder_output_keeps_exif_and_profile_too(workdir, style_file, capsys):
    (workdir / "album").mkdir()
    rotated_phone_photo(workdir / "album" / "phone.jpg")
    code, _, err = run_cli("image", "album", "-o", "out", "--style", style_file, *FAST, capsys=capsys)
    assert code == 0, err
    with Image.open(workdir / "out" / "phone-random.jpg") as result:
        assert result.size == (64, 96)
        assert result.getexif().get(0x0110) == "Phone 12" and result.info.get("icc_profile") == SRGB


def test_stdin_to_stdout_round_trips_one_png(workdir, style_file):
    data = io.BytesIO()
    rotated_phone_photo(data)
    argv = [sys.executable, "-m", "stylecam", "image", "-", "-o", "-", "--style", str(style_file), *FAST, "--strength", "0"]
    result = subprocess.run(argv, input=data.getvalue(), capture_output=True, cwd=workdir, timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stdout.startswith(b"\x89PNG\r\n\x1a\n")  # nothing but the image on stdout
    with Image.open(io.BytesIO(result.stdout)) as output:
        output.load()
        assert output.format == "PNG" and output.size == (64, 96)
        assert near(np.asarray(output.convert("RGB"))[4, 59], RED)
        assert output.getexif().get(0x0110) == "Phone 12"
    assert b"wrote 1 image(s) to stdout" in result.stderr
    assert listing(workdir) == []  # no file, no folder named -


def test_stdin_to_a_file_and_a_folder(workdir, style_file, capsys, monkeypatch):
    data = io.BytesIO()
    photo(data, format="PNG")
    for output, written in (("one.jpg", "one.jpg"), ("folder", "folder/stdin-random.png")):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.getvalue())))
        code, _, err = run_cli("image", "-", "-o", output, "--style", style_file, *FAST, capsys=capsys)
        assert code == 0, err
        with Image.open(workdir / written) as result:
            assert result.size == (48, 32)


def test_stdin_that_is_no_image_is_one_line(workdir, style_file, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hello")))
    code, _, err = run_cli("image", "-", "-o", "out.png", "--style", style_file, *FAST, capsys=capsys)
    assert code == 2 and err.splitlines() == ["stylecam: error: 1 file(s) could not be read as images: stdin"]  # no "wrote 0"
    assert listing(workdir) == []


def test_a_folder_of_unreadable_images_is_one_line(workdir, style_file, capsys):
    (workdir / "bad").mkdir()
    (workdir / "bad" / "x.png").write_text("not a picture")
    code, _, err = run_cli("image", "bad", "-o", "out", "--style", style_file, *FAST, capsys=capsys)
    assert code == 2 and err.splitlines() == ["stylecam: error: 1 file(s) could not be read as images: bad/x.png"]
    assert not (workdir / "out").exists()  # the folder this run would have filled is not left empty


def test_json_with_stdout_output_is_refused(workdir, style_file, capsys):
    photo(workdir / "x.png")
    code, out, err = run_cli("image", "x.png", "-o", "-", "--json", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "--json", "-o -")
    assert out == ""


def test_stdin_among_other_inputs_is_refused(workdir, style_file, capsys):
    photo(workdir / "x.png")
    code, _, err = run_cli("image", "x.png", "-", "-o", "out", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "only input")


def test_several_inputs_or_a_folder_with_a_file_output_are_refused(workdir, style_file, capsys):
    photo(workdir / "a.jpg")
    photo(workdir / "b.jpg")
    (workdir / "album").mkdir()
    photo(workdir / "album" / "c.jpg")
    code, _, err = run_cli("image", "a.jpg", "b.jpg", "-o", "out.png", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "out.png", "2 inputs", "folder")
    code, _, err = run_cli("image", "album", "-o", "out.png", "--style", style_file, capsys=capsys)
    assert_one_line_error(code, err, "out.png", "album")
    assert listing(workdir) == ["a.jpg", "album", "b.jpg"]


def test_an_existing_output_file_is_kept_without_overwrite(workdir, style_file, capsys):
    photo(workdir / "x.jpg")
    (workdir / "y.png").write_bytes(b"precious")
    code, _, err = run_cli("image", "x.jpg", "-o", "y.png", "--style", style_file, *FAST, capsys=capsys)
    assert_one_line_error(code, err, "y.png", "--overwrite")
    assert (workdir / "y.png").read_bytes() == b"precious"
    code, _, _ = run_cli("image", "x.jpg", "-o", "y.png", "--overwrite", "--style", style_file, *FAST, capsys=capsys)
    assert code == 0 and (workdir / "y.png").read_bytes().startswith(b"\x89PNG")


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(workdir, style_file, capsys):
    before = photo(workdir / "x.png").read_bytes()
    for output in ("x.png", "./x.png", str(workdir / "x.png")):
        code, _, err = run_cli("image", "x.png", "-o", output, "--overwrite", "--style", style_file, *FAST, capsys=capsys)
        assert_one_line_error(code, err, "x.png", "input")
    assert (workdir / "x.png").read_bytes() == before
    assert listing(workdir) == ["x.png"]


def test_a_folder_written_into_itself_never_replaces_an_input(workdir, style_file, capsys):
    """A second run into the input folder: the first run's output is an input now, and the new output for p.png."""
    album = workdir / "album"
    album.mkdir()
    photo(album / "p.png")
    assert run_cli("image", "album", "-o", "album", "--style", style_file, *FAST, capsys=capsys)[0] == 0
    assert listing(album) == ["p-random.png", "p.png"]
    before = {name: (album / name).read_bytes() for name in listing(album)}
    code, _, err = run_cli("image", "album", "-o", "album", "--overwrite", "--style", style_file, *FAST, capsys=capsys)
    assert_one_line_error(code, err, "p-random.png", "input")
    assert {name: (album / name).read_bytes() for name in listing(album)} == before


def test_photos_of_one_name_in_two_folders_get_two_outputs(workdir, style_file, capsys):
    for folder, colour in (("a", RED), ("b", (0, 0, 255))):
        (workdir / "card" / folder).mkdir(parents=True)
        photo(workdir / "card" / folder / "IMG_0001.jpg", colour=colour)
    photo(workdir / "card" / "other.jpg")
    code, out, err = run_cli("image", "card", "-o", "out", "--json", "--style", style_file, *IDENTITY, capsys=capsys)
    assert code == 0, err
    assert listing(workdir / "out") == ["a_IMG_0001-random.jpg", "b_IMG_0001-random.jpg", "other-random.jpg"]
    assert len(json.loads(out)["written"]) == 3
    with Image.open(workdir / "out" / "a_IMG_0001-random.jpg") as a, Image.open(workdir / "out" / "b_IMG_0001-random.jpg") as b:
        assert near(a.getpixel((5, 5)), RED) and near(b.getpixel((5, 5)), (0, 0, 255))


def test_same_names_that_differ_in_case_get_two_outputs(workdir, style_file, capsys):
    (workdir / "x").mkdir()
    (workdir / "y").mkdir()
    photo(workdir / "x" / "Beach.png")
    photo(workdir / "y" / "beach.PNG")
    code, _, err = run_cli("image", "x/Beach.png", "y/beach.PNG", "-o", "out", "--style", style_file, *FAST, capsys=capsys)
    assert code == 0, err
    assert listing(workdir / "out") == ["x_Beach-random.png", "y_beach-random.png"]


def test_sixteen_bit_grey_palette_and_alpha_become_8_bit_rgb(workdir, style_file, capsys):
    Image.fromarray(np.full((20, 30), 0x8000, np.uint16)).save(workdir / "grey16.png")
    Image.new("RGB", (30, 20), (10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE).save(workdir / "palette.png")
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :15] = (200, 30, 30, 255)  # left half opaque red, right half transparent black
    Image.fromarray(rgba).save(workdir / "clear.png")
    code, _, err = run_cli("image", "grey16.png", "palette.png", "clear.png", "-o", "out", "--style", style_file, *IDENTITY, capsys=capsys)
    assert code == 0, err
    with Image.open(workdir / "out" / "grey16-random.png") as grey:
        assert grey.mode == "RGB" and near(grey.getpixel((3, 3)), (128, 128, 128), 2)  # scaled down, not clipped to 255
    with Image.open(workdir / "out" / "palette-random.png") as palette:
        assert palette.mode == "RGB" and near(palette.getpixel((3, 3)), (10, 200, 30), 8)
    with Image.open(workdir / "out" / "clear-random.png") as clear:
        assert clear.mode == "RGBA" and clear.getpixel((25, 3))[3] == 0 and clear.getpixel((3, 3)) == (200, 30, 30, 255)
    # A JPEG holds no alpha: the transparent half is laid on white, as a viewer showed it.
    code, _, err = run_cli("image", "clear.png", "-o", "flat.jpg", "--style", style_file, *IDENTITY, capsys=capsys)
    assert code == 0, err
    with Image.open(workdir / "flat.jpg") as flat:
        assert flat.mode == "RGB" and near(flat.getpixel((25, 3)), (255, 255, 255)) and near(flat.getpixel((3, 3)), (200, 30, 30))


def test_names_that_differ_only_in_case_in_one_folder_are_numbered(workdir, style_file, capsys):
    photo(workdir / "p.JPG")
    photo(workdir / "p.jpg")
    if len(listing(workdir)) < 2:
        pytest.skip("a case-insensitive file system holds one of them only")
    code, _, err = run_cli("image", "p.JPG", "p.jpg", "-o", "out", "--style", style_file, *FAST, capsys=capsys)
    assert code == 0, err
    assert listing(workdir / "out") == ["p-random-2.jpg", "p-random.jpg"]
