"""SVG job handler: CairoSVG in a forked child of a warm sandboxed worker.

``unsafe=False`` makes CairoSVG fetch only ``data:`` URLs (anything else draws nothing) and
refuse XML entities, so an SVG cannot read local files or reach the network.
"""

from __future__ import annotations

import os


def warm() -> None:
    import cairosvg  # noqa: F401  (import once in the worker; children inherit it)


def run(job_dir: str, options: dict) -> None:
    import cairosvg

    os.makedirs("out", exist_ok=True)
    with open("main.svg", "rb") as f:
        data = f.read()
    cairosvg.svg2png(
        bytestring=data, write_to="out/0.png", unsafe=False, scale=float(options.get("scale", 1.0))
    )
