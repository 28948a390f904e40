"""Image checks and normalisation shared by all renderers (numpy, no per-pixel Python loops)."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

BLANK_SHARE = 0.98
MAX_SIDE = 4096


def _open(data: bytes) -> Image.Image:
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def to_rgb_on_white(img: Image.Image) -> Image.Image:
    """Flatten transparency onto white so that a transparent background reads as white.

    Always a new image, so the caller may close ``img`` (e.g. leave ``with Image.open(...)``).
    """
    return _flatten(img, reuse=False)


def _flatten(img: Image.Image, *, reuse: bool) -> Image.Image:
    """``to_rgb_on_white``; with ``reuse`` an image that is RGB already is returned as it is."""
    from PIL import Image

    if img.mode == "RGB":
        return img if reuse else img.copy()
    if img.mode in ("RGBA", "LA") and img.getchannel("A").getextrema() == (255, 255):
        return img.convert("RGB")  # opaque (most renderers paint a background): 10x cheaper, same pixels
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")


def rgb_on_white(png: bytes) -> Image.Image:
    """Encoded image bytes decoded and flattened on white (``to_rgb_on_white`` without its copy:
    an image decoded from memory holds no file, so an RGB one is returned as it is)."""
    return _rgb(png)


def _rgb(image: bytes | Image.Image) -> Image.Image:
    return _flatten(_open(image) if isinstance(image, bytes) else image, reuse=True)


def normalize_png(image: bytes | Image.Image) -> bytes:
    """Re-encode any image as an RGB PNG on white, capped at MAX_SIDE px, with no metadata.

    Re-encoding with fixed settings makes the bytes depend only on the pixels, which is what
    makes repeated renders byte-identical.
    """
    return normalize_and_measure(image)[0]


def normalize_and_measure(image: bytes | Image.Image) -> tuple[bytes, float]:
    """``normalize_png`` and ``dominant_share`` from one decode (the hot path of every render)."""
    from PIL import Image

    img = _rgb(image)
    if max(img.size) > MAX_SIDE:
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return encode_png(img), _dominant_share_of(img)


@functools.cache
def deflate() -> Callable[[bytes | memoryview, int], bytes]:
    """The fastest zlib-format ``compress(data, level)`` installed: ISA-L's (the ``isal`` package,
    a dependency on x86-64 and ARM64), else the standard library's.

    Both write standard zlib streams that any PNG reader decodes; ISA-L's level 1 is 10-20 times
    faster than zlib's, and its output is as small. The bytes differ between the two, so images
    are byte-identical between renders with the same library, not across the two.
    """
    try:
        from isal.isal_zlib import compress
    except ImportError:
        from zlib import compress
    return compress


def encode_png(img: Image.Image) -> bytes:
    """An RGB image as a PNG: no row filter, deflate level 1 (``deflate``), no metadata.

    The host encodes every image of every job, so this is the hot spot. With ISA-L it costs 0.3 ms
    for a 1000x600 chart where zlib's level 1 takes 3-7 ms (and Pillow's fastest level, which tries
    every row filter, twice that). The output depends only on the pixels and the deflate library,
    so renders stay byte-identical on a machine.
    """
    import struct
    import zlib

    import numpy as np

    rgb = img if img.mode == "RGB" else img.convert("RGB")
    width, height = rgb.size
    # tobytes + frombuffer: np.asarray(img) goes through a slower array-interface path.
    pixels = np.frombuffer(rgb.tobytes(), dtype=np.uint8).reshape(height, width * 3)
    rows = np.empty((height, width * 3 + 1), dtype=np.uint8)
    rows[:, 0] = 0  # each row starts with its filter type: 0, none
    rows[:, 1:] = pixels

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", deflate()(rows.data, 1))
        + chunk(b"IEND", b"")
    )


BLANK_CHECK_SIDE = 96


def dominant_share(image: bytes | Image.Image) -> float:
    """Share of the pixels covered by the most common colour (0..1).

    Measured on an area-averaged thumbnail (longest side ``BLANK_CHECK_SIDE``): a hair-line drawing
    on a large white page covers few full-resolution pixels but is clearly not blank, while a truly
    empty image stays one colour at any size.
    """
    return _dominant_share_of(_rgb(image))


def _dominant_share_of(img: Image.Image) -> float:
    import numpy as np
    from PIL import Image

    if max(img.size) > BLANK_CHECK_SIDE:
        img = img.copy()
        img.thumbnail((BLANK_CHECK_SIDE, BLANK_CHECK_SIDE), Image.Resampling.BOX)
    arr = np.asarray(img, dtype=np.uint32)
    if arr.size == 0:
        return 1.0
    packed = (arr[..., 0] << 16) | (arr[..., 1] << 8) | arr[..., 2]
    _, counts = np.unique(packed.ravel(), return_counts=True)
    return float(counts.max()) / float(packed.size)


def is_blank(image: bytes | Image.Image) -> bool:
    """True when one colour covers at least 98 % of the image (the original's HTML rule, for all)."""
    return dominant_share(image) >= BLANK_SHARE


def crop_to_content(image: bytes | Image.Image, margin: int = 10) -> Image.Image:
    """Crop a white-background image to its content plus a fixed margin (deterministic)."""
    import numpy as np

    img = _rgb(image)
    arr = np.asarray(img)
    mask = (arr < 250).any(axis=2)
    if not np.any(mask):
        return img
    rows, cols = np.where(np.any(mask, axis=1))[0], np.where(np.any(mask, axis=0))[0]
    top, bottom = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, arr.shape[0])
    left, right = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, arr.shape[1])
    return img.crop((left, top, right, bottom))


MAX_PIXELS = 60_000_000  # an A0 page at 150 dpi is 35 M; a bigger PNG would only load the host
MAX_FILE_BYTES = 64 * 1024 * 1024


def read_job_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes | None:
    """Bytes of a regular file a job wrote, or None; never follows a link the job planted, never blocks.

    The job's processes are dead when this runs, so the checks cannot race with them.
    """
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        return f.read(max_bytes + 1)[:max_bytes]


def job_files(folder: Path) -> list[Path]:
    """Regular files in a job's folder (an ``out`` that is a planted link to a host folder gives nothing)."""
    import stat

    try:
        if not stat.S_ISDIR(folder.lstat().st_mode):
            return []
    except OSError:
        return []
    return [p for p in folder.iterdir() if stat.S_ISREG(p.lstat().st_mode)]


def checked_png(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Image.Image:
    """An image file the job wrote, decoded once (flattened on white); ValueError (the program's fault) if bad."""
    data = read_job_file(path, max_bytes)
    if data is None:
        raise ValueError(f"{path.name} is not a regular file of at most {max_bytes // 2**20} MiB.")
    return load_png(data, path.name)


def load_png(data: bytes, name: str = "the image") -> Image.Image:
    """Encoded image bytes from an untrusted source, size-checked, decoded and flattened on white."""
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))  # in memory: nothing to close, so no copy is needed
        if img.width * img.height > MAX_PIXELS:
            raise ValueError(f"{name} is too large to use ({img.width}x{img.height} px).")
        img.load()
        return _flatten(img, reuse=True)
    except ValueError:
        raise
    except Exception as exc:  # PIL raises many types for a damaged file
        raise ValueError(f"{name} is not a valid image ({exc}).") from exc


# Raw pixels: what warm workers hand over instead of a PNG when they hold the pixels anyway, saving
# a PNG encode in the worker and a decode on the host. Layout: magic, then width, height and row
# stride (bytes) as little-endian uint32, then a 4-byte pixel layout, then ``height * stride`` bytes.
RAW_MAGIC = b"VPBRAW1\n"
RAW_LAYOUTS = {
    b"BGRa": "cairo ARGB32 on a little-endian machine: B, G, R, A bytes, colour premultiplied by alpha",
    b"aRGB": "cairo ARGB32 on a big-endian machine: A, R, G, B bytes, colour premultiplied by alpha",
    b"RGBA": "R, G, B, A bytes, straight (not premultiplied) alpha",
}


def write_raw(path: str, width: int, height: int, stride: int, layout: bytes, pixels: bytes) -> None:
    """Write a raw image file (inside a worker; see ``RAW_MAGIC``)."""
    import struct

    with open(path, "wb") as f:
        f.write(RAW_MAGIC + struct.pack("<III", width, height, stride) + layout)
        f.write(pixels)


def read_raw(path: Path) -> Image.Image:
    """A raw image file a job wrote, checked and flattened on white; ValueError if it is malformed."""
    import struct

    import numpy as np
    from PIL import Image

    data = read_job_file(path, max_bytes=MAX_PIXELS * 4 + 64)
    head = len(RAW_MAGIC) + 16
    if data is None or len(data) < head or not data.startswith(RAW_MAGIC):
        raise ValueError(f"{path.name} is not a raw image file.")
    width, height, stride = struct.unpack("<III", data[len(RAW_MAGIC) : head - 4])
    layout = data[head - 4 : head]
    if (
        layout not in RAW_LAYOUTS
        or not 0 < width * height <= MAX_PIXELS
        or stride < width * 4
        or len(data) != head + height * stride
    ):
        raise ValueError(f"{path.name} is a malformed raw image ({width}x{height}, {layout!r}).")
    pixels = np.frombuffer(data, dtype=np.uint8, offset=head).reshape(height, stride)[:, : width * 4]
    pixels = pixels.reshape(height, width, 4)
    a = 0 if layout == b"aRGB" else 3  # where alpha is
    alpha = pixels[..., a : a + 1].astype(np.uint16)
    if layout == b"BGRa":  # premultiplied: composite on white is colour + (255 - alpha), exactly
        rgb = pixels[..., 2::-1].astype(np.uint16) + (255 - alpha)
    elif layout == b"aRGB":
        rgb = pixels[..., 1:].astype(np.uint16) + (255 - alpha)
    else:  # straight alpha, rounded as Pillow's alpha_composite rounds
        rgb = (pixels[..., :3].astype(np.uint32) * alpha + 255 * (255 - alpha) + 127) // 255
    return Image.fromarray(np.minimum(rgb, 255).astype(np.uint8), "RGB")


def read_job_image(path: Path) -> Image.Image:
    """An image file a job wrote (``.raw`` or an encoded image), decoded once; ValueError if bad."""
    return read_raw(path) if path.suffix == ".raw" else checked_png(path)
