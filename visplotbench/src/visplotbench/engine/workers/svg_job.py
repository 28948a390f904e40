"""SVG job handler: CairoSVG inside a warm sandboxed worker (in-process: an SVG is data).

``unsafe=False`` makes CairoSVG fetch only ``data:`` URLs (anything else draws nothing) and
refuse XML entities, so an SVG cannot read local files or reach the network. The drawing is
handed over as raw pixels (``_images.write_raw``), not as a PNG: cairo's PNG encoder took half of
the render time, and the host re-encodes every image anyway.
"""

from __future__ import annotations

import os
import sys

# The worker caps its address space for the length of each job (a huge canvas fails to allocate
# instead of growing the worker); see ``_worker._run_inproc``.
LIMIT_ADDRESS_SPACE = True


def warm() -> None:
    import cairosvg  # noqa: F401  (import once in the worker)


def run(job_dir: str, options: dict) -> None:
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    from visplotbench.engine._images import write_raw

    with open(os.path.join(job_dir, "main.svg"), "rb") as f:
        data = f.read()
    tree = Tree(bytestring=data, unsafe=False)
    # PNGSurface draws on a cairo ARGB32 image surface; without an output it writes no PNG.
    surface = PNGSurface(tree, None, 96, scale=float(options.get("scale", 1.0))).cairo
    surface.flush()
    os.makedirs(os.path.join(job_dir, "out"), exist_ok=True)
    write_raw(
        os.path.join(job_dir, "out", "0.raw"),
        surface.get_width(),
        surface.get_height(),
        surface.get_stride(),
        b"BGRa" if sys.byteorder == "little" else b"aRGB",  # cairo's ARGB32 is native-endian
        bytes(surface.get_data()),
    )
    surface.finish()
