"""Content-addressed PNG store of the work folder, and the image checks of the verification stage."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImageInfo:
    """Facts about one rendered PNG.

    Attributes:
        sha256: hex digest of the PNG bytes (the file name in the store).
        nbytes: size of the PNG file.
        width: pixels.
        height: pixels.
        colors: distinct colours (counted up to 4096 on a reduced copy).
        dhash: 64-bit difference hash as 16 hex digits (same picture -> same hash across re-encodes).
    """

    sha256: str
    nbytes: int
    width: int
    height: int
    colors: int
    dhash: str


def inspect_png(png: bytes) -> ImageInfo:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
        width, height = rgb.size
        small = rgb.copy()
        small.thumbnail((256, 256))
        colors = small.getcolors(maxcolors=4096)
        grey = rgb.convert("L").resize((9, 8))
        pixels = list(grey.tobytes())
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return ImageInfo(
        sha256=hashlib.sha256(png).hexdigest(),
        nbytes=len(png),
        width=width,
        height=height,
        colors=len(colors) if colors is not None else 4097,
        dhash=f"{bits:016x}",
    )


def store_png(folder: Path, png: bytes, sha256: str) -> Path:
    """Write ``png`` as ``<folder>/<sha[:2]>/<sha>.png`` once (atomic: concurrent workers are safe)."""
    path = folder / sha256[:2] / f"{sha256}.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(png)
        os.replace(tmp, path)
    return path


def load_png(folder: Path, sha256: str) -> bytes:
    return (folder / sha256[:2] / f"{sha256}.png").read_bytes()
