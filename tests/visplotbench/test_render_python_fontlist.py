"""The prebuilt matplotlib font list: workers start from it instead of rebuilding it, draw text exactly
as a worker that built its own list does, and fall back to building their own when it is damaged or
stale. Real sandbox, real workers."""

from __future__ import annotations

import json

import pytest
from conftest import require
from visplotbench.engine import RenderJob, RenderStatus
from visplotbench.engine.renderers import _mplfonts
from visplotbench.engine.renderers.python import PythonRenderer
from visplotbench.engine.workers import mpl_fonts

# Prints where the worker's font list came from and whether its MPLCONFIGDIR copy is the mounted one,
# then draws text in the default font (DejaVu Sans) and in a family found only through the list.
PROGRAM = """
import glob, hashlib, json, os, sys
import matplotlib.pyplot as plt
print("SOURCE", sys.modules["visplotbench.engine.workers.python_job"].FONT_LIST)
mounted = glob.glob("/vpb/mpl-fontlist/fontlist-*.json")
copy = glob.glob("/tmp/.vpb-mpl/fontlist-v*.json")
same = bool(mounted and copy) and json.load(open(mounted[0]))["fontlist"] == open(copy[0]).read()
print("COPY", same)
try:
    open("/vpb/mpl-fontlist/planted.json", "w").write("{}")
    print("WRITE ok")
except OSError:
    print("WRITE refused")
fig, ax = plt.subplots(figsize=(4, 2))
ax.set_title("Font list: Hamburgefonstiv 123")
ax.text(0.1, 0.4, "Serif text", family="DejaVu Serif", size=16)
ax.text(0.1, 0.1, "Mono text", family="monospace", size=16)
"""


class _OneWorker(PythonRenderer):
    max_concurrency = 1  # one worker per renderer is enough here (each start costs seconds of CPU)


def _render(renderer: PythonRenderer) -> tuple[str, bytes]:
    result = renderer.render(RenderJob("python", PROGRAM))
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1
    return result.stdout, result.images[0]


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory, pool):
    require(pool, "python")
    folder = tmp_path_factory.mktemp("fontlist")
    renderer = _OneWorker(folder)
    assert renderer.prepare_font_list() == "built"
    yield renderer, folder, _render(renderer)
    renderer.close()


def test_a_worker_starts_from_the_prebuilt_list(prebuilt):
    renderer, folder, (stdout, _) = prebuilt
    assert "SOURCE prebuilt" in stdout
    assert "COPY True" in stdout  # matplotlib loaded it as it was: it did not rebuild (and rewrite) it
    assert "WRITE refused" in stdout  # jobs cannot change what later workers read
    assert renderer.prepare_font_list() == "current"  # a second renderer start builds nothing
    (entry,) = folder.glob("fontlist-*.json")
    assert entry.stat().st_mode & 0o777 == 0o644


def test_text_is_drawn_as_with_a_list_built_in_the_worker(prebuilt, tmp_path):
    _, _, (_, image) = prebuilt
    renderer = _OneWorker(tmp_path)  # an empty folder: the worker builds its own list
    try:
        stdout, own = _render(renderer)
    finally:
        renderer.close()
    assert "SOURCE built here: no prebuilt list" in stdout
    assert own == image  # byte for byte: the same fonts were found and used


def test_a_damaged_list_makes_the_worker_build_its_own(prebuilt, tmp_path):
    _, folder, (_, image) = prebuilt
    (entry,) = folder.glob("fontlist-*.json")
    data = json.loads(entry.read_text())
    data["fontlist"] = data["fontlist"][: len(data["fontlist"]) // 2]  # truncated, as by a full disk
    (tmp_path / entry.name).write_text(json.dumps(data))
    renderer = _OneWorker(tmp_path)
    try:
        stdout, own = _render(renderer)
    finally:
        renderer.close()
    assert "SOURCE built here: prebuilt list damaged" in stdout
    assert own == image


def test_a_stale_list_is_refused_and_rebuilt(prebuilt, tmp_path):
    renderer, folder, _ = prebuilt
    (entry,) = folder.glob("fontlist-*.json")
    data = json.loads(entry.read_text())
    fonts = [s for s in data["stamps"] if s[1] == "f"]
    fonts[0][3] += 1  # as if a font file had been replaced since the list was built
    assert mpl_fonts.check(data) == "fonts changed since it was built"
    assert mpl_fonts.check(data | {"matplotlib": "0.1"}, "3.0") == "built for matplotlib 0.1"
    (tmp_path / entry.name).write_text(json.dumps(data))
    assert _mplfonts.prepare(tmp_path, renderer._env) == "built"
    assert mpl_fonts.check(json.loads((tmp_path / entry.name).read_text())) == ""


def test_garbage_is_never_installed(tmp_path):
    folder, config = tmp_path / "lists", tmp_path / "config"
    folder.mkdir()
    config.mkdir()
    import matplotlib

    name = mpl_fonts.entry_name(str(matplotlib.__path__[0]))
    assert mpl_fonts.install(str(config), str(folder)) == "built here: no prebuilt list"
    for garbage in (b"\x00not json", b"[]", json.dumps({"format": 1, "name": "../x.json"}).encode()):
        (folder / name).write_bytes(garbage)
        assert mpl_fonts.install(str(config), str(folder)).startswith("built here")
    assert not list(config.iterdir()) and not (tmp_path / "x.json").exists()
