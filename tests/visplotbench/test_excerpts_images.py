"""Error excerpts and image checks shared by all renderers."""

import io

import pytest
from PIL import Image
from visplotbench.engine._errors import MAX_EXCERPT_CHARS, clean_excerpt
from visplotbench.engine._images import crop_to_content, is_blank, normalize_png


def png(color=(255, 255, 255), size=(100, 100), draw=None) -> bytes:
    img = Image.new("RGBA" if len(color) == 4 else "RGB", size, color)
    if draw:
        for xy in draw:
            img.putpixel(xy, (0, 0, 0) if len(color) == 3 else (0, 0, 0, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_excerpt_strips_ansi_paths_and_folds_repeats():
    raw = (
        "\x1b[31mError\x1b[0m in /job/main.py line 3\n"
        + "warning: same\n" * 50
        + "/tmp/vpb-job-x1/data.csv missing\n"
    )
    out = clean_excerpt(raw)
    assert "\x1b" not in out and "/job/" not in out and "/tmp/vpb-job" not in out
    assert "main.py line 3" in out and "repeated 48 more times" in out


def test_excerpt_is_bounded_and_keeps_head_and_tail():
    raw = "FIRST LINE\n" + "\n".join(f"line {i}" for i in range(5000)) + "\nLAST LINE"
    out = clean_excerpt(raw)
    assert len(out) <= MAX_EXCERPT_CHARS + 60
    assert out.startswith("FIRST LINE") and out.endswith("LAST LINE") and "characters cut" in out


def test_blank_detection():
    assert is_blank(png())
    assert is_blank(png((0, 0, 0, 0)))  # fully transparent reads as white
    assert not is_blank(png(size=(10, 10), draw=[(x, y) for x in range(5) for y in range(5)]))


def test_normalize_is_deterministic_and_flattens_alpha():
    a = normalize_png(png((10, 20, 30, 128)))
    assert a == normalize_png(png((10, 20, 30, 128)))
    assert Image.open(io.BytesIO(a)).mode == "RGB"


def test_flattened_image_outlives_the_file_it_came_from():
    """Callers flatten inside ``with Image.open(...)`` and use the result after the file is closed."""
    from visplotbench.engine._images import to_rgb_on_white

    for colour in ((1, 2, 3), (1, 2, 3, 255), (1, 2, 3, 100)):
        with Image.open(io.BytesIO(png(colour))) as opened:
            flat = to_rgb_on_white(opened)
        assert flat.mode == "RGB" and flat.getpixel((0, 0)) == flat.getpixel((99, 99))


def test_crop_to_content_keeps_a_fixed_margin():
    cropped = crop_to_content(png(size=(200, 200), draw=[(100, 100)]), margin=10)
    assert cropped.size == (21, 21)


def test_encoded_png_decodes_to_the_same_pixels():
    import numpy as np

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    data = normalize_png(Image.fromarray(pixels, "RGB"))
    back = Image.open(io.BytesIO(data))
    assert back.mode == "RGB" and back.size == (53, 37)
    assert np.array_equal(np.asarray(back), pixels)


def test_raw_images_are_composited_on_white(tmp_path):
    """Premultiplied cairo pixels and straight RGBA pixels both flatten onto white exactly."""
    import numpy as np
    from visplotbench.engine._images import read_raw, write_raw

    # One pixel each: opaque red, half-transparent black, fully transparent.
    premultiplied_bgra = bytes([0, 0, 255, 255, 0, 0, 0, 128, 0, 0, 0, 0])
    write_raw(str(tmp_path / "0.raw"), 3, 1, 12, b"BGRa", premultiplied_bgra)
    straight_rgba = bytes([255, 0, 0, 255, 0, 0, 0, 128, 9, 9, 9, 0])
    write_raw(str(tmp_path / "1.raw"), 3, 1, 12, b"RGBA", straight_rgba)
    expected = [[255, 0, 0], [127, 127, 127], [255, 255, 255]]
    assert np.asarray(read_raw(tmp_path / "0.raw")).tolist() == [expected]
    assert np.asarray(read_raw(tmp_path / "1.raw")).tolist() == [expected]


def test_malformed_raw_images_are_the_programs_error(tmp_path):
    import pytest
    from visplotbench.engine._images import read_raw, write_raw

    write_raw(str(tmp_path / "short.raw"), 100, 100, 400, b"BGRa", b"\0" * 10)  # too few pixels
    write_raw(str(tmp_path / "huge.raw"), 100000, 100000, 400000, b"BGRa", b"")  # over MAX_PIXELS
    write_raw(str(tmp_path / "layout.raw"), 1, 1, 4, b"CMYK", b"\0" * 4)
    (tmp_path / "junk.raw").write_bytes(b"not an image")
    for name in ("short", "huge", "layout", "junk"):
        with pytest.raises(ValueError):
            read_raw(tmp_path / f"{name}.raw")


def test_hairline_drawing_on_a_large_page_is_not_blank():
    """A 1-px triangle outline covers < 2 % of a 1000x1000 page, but it is a drawing, not a blank image."""
    from PIL import ImageDraw

    img = Image.new("RGB", (1000, 1000), "white")
    ImageDraw.Draw(img).polygon([(100, 900), (500, 100), (900, 900)], outline="black")
    out = io.BytesIO()
    img.save(out, format="PNG")
    assert not is_blank(out.getvalue())
    dot = Image.new("RGB", (1000, 1000), "white")
    dot.putpixel((500, 500), (0, 0, 0))
    out = io.BytesIO()
    dot.save(out, format="PNG")
    assert is_blank(out.getvalue())


def test_job_outputs_never_follow_planted_links(tmp_path, secret):
    import os

    import pytest
    from visplotbench.engine._images import checked_png, job_files, read_job_file

    out = tmp_path / "out"
    out.mkdir()
    os.symlink(secret, out / "0.png")
    os.mkfifo(out / "1.png")
    assert read_job_file(out / "0.png") is None and read_job_file(out / "1.png") is None
    assert job_files(out) == []
    with pytest.raises(ValueError):
        checked_png(out / "0.png")
    os.symlink(tmp_path, tmp_path / "linked-out")
    assert job_files(tmp_path / "linked-out") == []


def test_png_encoder_uses_isal_where_it_is_installed():
    """ISA-L's deflate is a dependency on x86-64 and ARM64 (10-20x faster than zlib's level 1);
    losing it silently would slow every render, so its use is checked, not assumed."""
    import platform

    from visplotbench.engine._images import deflate

    if platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64"):
        pytest.skip("isal is not a dependency on this architecture")
    from isal import isal_zlib

    assert deflate() is isal_zlib.compress
