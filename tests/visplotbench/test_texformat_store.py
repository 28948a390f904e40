"""Preloaded LaTeX formats are kept per user and per TeX installation, and reused by later runs."""

from __future__ import annotations

import shutil

import pytest
from visplotbench.engine.renderers._texformat import FormatCache, installation_stamp
from visplotbench.engine.renderers.latex import _ENV


@pytest.fixture(autouse=True)
def _needs_tex():
    if shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None:
        pytest.skip("no TeX here")


def test_a_later_run_reuses_the_stored_format_without_building_it(tmp_path):
    first = FormatCache(_ENV, tmp_path)
    built = first.path("tikz")
    first.close()
    assert built is not None and built.parent.parent == tmp_path  # in the store, not a private folder
    fmt = built.with_suffix(".fmt")
    before = fmt.stat()
    assert oct(before.st_mode & 0o777) == "0o644"  # jobs read it as another user
    second = FormatCache(_ENV, tmp_path)
    assert second.path("tikz") == built
    after = fmt.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rebuilt
    assert second.dir is None  # and no private folder was needed
    assert [p.name for p in built.parent.iterdir()] == [fmt.name]  # no build leftovers


def test_another_installation_or_recipe_gets_its_own_format():
    stamp = installation_stamp("tikz", _ENV)
    assert stamp is not None
    assert installation_stamp("pgfplots", _ENV) != stamp  # per package
    assert installation_stamp("tikz", {**_ENV, "max_print_line": "79"}) != stamp  # per build environment
    assert installation_stamp("no-such-package-vpb", _ENV) is None  # TeX cannot find it: no stamp


def test_a_store_that_cannot_be_written_falls_back_to_a_private_folder(tmp_path):
    blocked = tmp_path / "store"
    blocked.write_text("a file where the folder should be")
    cache = FormatCache(_ENV, blocked)
    try:
        path = cache.path("tikz")
        assert path is not None and cache.dir is not None and path.parent == cache.dir
    finally:
        cache.close()
    assert not path.parent.exists()  # the private folder goes with the renderer
