"""Image checks and normalisation shared by all renderers (numpy, no per-pixel Python loops)."""

from __future__ import annotations

import io
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
    """Flatten transparency onto white so that a transparent background reads as white."""
    from PIL import Image

    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")


def normalize_png(data: bytes) -> bytes:
    """Re-encode any image as an RGB PNG on white, capped at MAX_SIDE px, with no metadata.

    Re-encoding with fixed settings makes the bytes depend only on the pixels, which is what
    makes repeated renders byte-identical.
    """
    return normalize_and_measure(data)[0]


def normalize_and_measure(data: bytes) -> tuple[bytes, float]:
    """``normalize_png`` and ``dominant_share`` from one decode (the hot path of every render)."""
    from PIL import Image

    img = to_rgb_on_white(_open(data))
    if max(img.size) > MAX_SIDE:
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    share = _dominant_share_of(img)
    out = io.BytesIO()
    # Level 1: several times faster than the default and only slightly larger; fixed, so deterministic.
    img.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue(), share


BLANK_CHECK_SIDE = 96


def dominant_share(data: bytes) -> float:
    """Share of the pixels covered by the most common colour (0..1).

    Measured on an area-averaged thumbnail (longest side ``BLANK_CHECK_SIDE``): a hair-line drawing
    on a large white page covers few full-resolution pixels but is clearly not blank, while a truly
    empty image stays one colour at any size.
    """
    return _dominant_share_of(to_rgb_on_white(_open(data)))


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


def is_blank(data: bytes) -> bool:
    """True when one colour covers at least 98 % of the image (the original's HTML rule, for all)."""
    return dominant_share(data) >= BLANK_SHARE


def crop_to_content(data: bytes, margin: int = 10) -> bytes:
    """Crop a white-background image to its content plus a fixed margin (deterministic)."""
    import numpy as np

    img = to_rgb_on_white(_open(data))
    arr = np.asarray(img)
    mask = (arr < 250).any(axis=2)
    if not np.any(mask):
        return normalize_png(data)
    rows, cols = np.where(np.any(mask, axis=1))[0], np.where(np.any(mask, axis=0))[0]
    top, bottom = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, arr.shape[0])
    left, right = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, arr.shape[1])
    out = io.BytesIO()
    img.crop((left, top, right, bottom)).save(out, format="PNG", compress_level=1)
    return normalize_png(out.getvalue())


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


def checked_png(path: Path) -> bytes:
    """A PNG the job wrote, decoded once to prove it is sane; ValueError (the program's fault) otherwise."""
    data = read_job_file(path)
    if data is None:
        raise ValueError(f"{path.name} is not a regular file of at most {MAX_FILE_BYTES // 2**20} MiB.")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValueError(f"{path.name} is too large to use ({img.width}x{img.height} px).")
            img.load()
    except ValueError:
        raise
    except Exception as exc:  # PIL raises many types for a damaged file
        raise ValueError(f"{path.name} is not a valid PNG image ({exc}).") from exc
    return data
