"""Pinned JavaScript libraries for offline rendering (Mermaid, and the chart libraries of HTML pages).

HTML pages written by models load Chart.js, D3, ECharts, Plotly.js, Vega/Vega-Lite/Vega-Embed or
Mermaid from a CDN. Renders run offline, so the browser answers those requests from the copies
installed here (see ``visplotbench.engine._cdn``), choosing the copy whose MAJOR version matches
the one the URL pins. Every package is installed from npm at an exact version, under an npm alias
``<name>-v<major>`` so that several majors of one library sit side by side:

  ``<assets_dir>/current/node_modules/chart.js-v4/...``   the majors models use today
  ``<assets_dir>/legacy/node_modules/chart.js-v2/...``    older majors, a separate npm tree

Older majors live in their own tree, installed with ``--legacy-peer-deps``, so that their stale
peer ranges never disturb the current tree and a failure there leaves the current tree usable.
``--ignore-scripts`` is always passed (only prebuilt ``dist`` files are needed, no install script
should run) and ``PUPPETEER_SKIP_DOWNLOAD=1`` is set, so nothing tries to download a browser.

Changing a pin changes rendered images: it is part of ``ASSETS_VERSION``, recorded with results.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from visplotbench.engine._types import EnvironmentProblem
from visplotbench.engine._usercache import user_cache_dir


@dataclass(frozen=True)
class Asset:
    """One pinned npm package.

    Attributes:
        name: the npm package name (``chart.js``).
        version: the exact version installed.
        tree: ``current`` or ``legacy`` (the npm tree it is installed into).
        needed: paths inside the package that must exist for the install to count as complete.
    """

    name: str
    version: str
    tree: str
    needed: tuple[str, ...] = ()

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def alias(self) -> str:
        return f"{self.name}-v{self.major}"

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


_PLOTLY = ("plotly.min.js",)
ASSETS: tuple[Asset, ...] = (
    Asset("mermaid", "12.3.0", "current", ("dist/mermaid.min.js",)),
    Asset("chart.js", "4.6.1", "current", ("dist/chart.umd.js",)),
    Asset("d3", "7.9.2", "current", ("dist/d3.min.js",)),
    Asset("echarts", "5.6.0", "current", ("dist/echarts.min.js",)),
    Asset("echarts", "6.1.0", "current", ("dist/echarts.min.js",)),
    Asset("plotly.js-dist-min", "2.35.3", "current", _PLOTLY),
    Asset("plotly.js-dist-min", "3.7.0", "current", _PLOTLY),
    Asset("plotly.js-dist-min", "4.1.2", "current", _PLOTLY),
    Asset("vega", "5.33.1", "current", ("build/vega.min.js",)),
    Asset("vega-lite", "5.23.0", "current", ("build/vega-lite.min.js",)),
    Asset("vega-embed", "6.29.0", "current", ("build/vega-embed.min.js",)),
    Asset("vega", "6.4.0", "current"),
    Asset("vega-lite", "6.5.0", "current"),
    Asset("vega-embed", "7.3.0", "current"),
    # Plugins and data that chart pages commonly fetch from the same CDNs.
    Asset("chartjs-plugin-datalabels", "2.2.0", "current"),
    Asset("chartjs-adapter-date-fns", "3.0.0", "current"),
    Asset("chartjs-plugin-annotation", "3.1.0", "current"),
    Asset("d3-sankey", "0.12.3", "current"),
    Asset("topojson-client", "3.1.0", "current"),
    Asset("world-atlas", "2.0.2", "current"),
    Asset("us-atlas", "3.0.1", "current"),
    Asset("vega-datasets", "2.11.0", "current"),
    Asset("mermaid", "11.17.2", "legacy", ("dist/mermaid.min.js",)),
    Asset("mermaid", "10.9.8", "legacy", ("dist/mermaid.min.js",)),
    Asset("chart.js", "2.9.4", "legacy", ("dist/Chart.min.js",)),
    Asset("chart.js", "3.9.1", "legacy", ("dist/chart.min.js",)),
    Asset("d3", "3.5.17", "legacy", ("d3.min.js",)),
    Asset("d3", "4.13.0", "legacy", ("build/d3.min.js",)),
    Asset("d3", "5.16.0", "legacy", ("dist/d3.min.js",)),
    Asset("d3", "6.7.0", "legacy", ("dist/d3.min.js",)),
    Asset("echarts", "4.9.0", "legacy", ("dist/echarts.min.js",)),
    Asset("plotly.js-dist-min", "1.58.5", "legacy", _PLOTLY),
    Asset("chartjs-plugin-datalabels", "0.7.0", "legacy"),
)
TREES = ("current", "legacy")
# The Mermaid major the mermaid renderer uses by default: the current release on npm (a URL in an
# HTML page may pick another major). ``VISPLOTBENCH_MERMAID_MAJOR`` pins an installed older one.
MERMAID_MAJOR = 12
ASSETS_VERSION = hashlib.sha256(" ".join(a.label for a in ASSETS).encode()).hexdigest()[:12]
_STAMP = ".visplotbench-stamp"


def assets_dir() -> Path:
    """Where the libraries live: ``$VISPLOTBENCH_ASSETS``, else ``${XDG_CACHE_HOME:-~/.cache}/visplotbench/assets``."""
    return user_cache_dir("VISPLOTBENCH_ASSETS", "assets")


def _folder(asset: Asset) -> str:
    return f"{asset.tree}/node_modules/{asset.alias}"


def package_dir(asset: Asset, root: Path | None = None) -> Path:
    """The directory of one installed package (it may not exist yet)."""
    return (root or assets_dir()) / _folder(asset)


def package_table() -> list[tuple[str, int, str]]:
    """(npm name, major, folder relative to the assets root) of every pinned package, installed or not."""
    return [(a.name, a.major, _folder(a)) for a in ASSETS]


def installed(name: str, root: Path | None = None) -> dict[int, Path]:
    """Major version -> package directory, for every installed major of npm package ``name``."""
    from visplotbench.engine._cdn import installed_majors

    return installed_majors(package_table(), name, root or assets_dir())


def mermaid_major() -> int:
    """The Mermaid major the renderer uses: ``$VISPLOTBENCH_MERMAID_MAJOR`` (to reproduce a run made
    with an older release: 10 or 11) or ``MERMAID_MAJOR``, the current release."""
    majors = sorted(a.major for a in ASSETS if a.name == "mermaid")
    chosen = os.environ.get("VISPLOTBENCH_MERMAID_MAJOR", "").strip()
    if not chosen:
        return MERMAID_MAJOR
    if not chosen.isdigit() or int(chosen) not in majors:
        raise EnvironmentProblem(
            f"VISPLOTBENCH_MERMAID_MAJOR={chosen!r} is not a pinned Mermaid major; choose one of "
            f"{', '.join(map(str, majors))} (or unset it for {MERMAID_MAJOR}, the current release)."
        )
    return int(chosen)


def js_versions() -> dict[str, str]:
    """What the JavaScript side of a run used: the Mermaid release of the renderer, and every pinned
    library (``name-vN`` -> exact version) with their hash ``ASSETS_VERSION``. A run's config records it."""
    found = {"mermaid": next(a.version for a in ASSETS if a.name == "mermaid" and a.major == mermaid_major())}
    found["js-assets"] = ASSETS_VERSION
    found.update({a.alias: a.version for a in ASSETS})
    return found


def mermaid_js(major: int | None = None) -> Path:
    """The ``mermaid.min.js`` the Mermaid renderer loads; EnvironmentProblem with the fix if missing."""
    major = mermaid_major() if major is None else major
    path = installed("mermaid").get(major)
    if path is None or not (path / "dist" / "mermaid.min.js").is_file():
        raise EnvironmentProblem(
            f"mermaid {major} is not installed in {assets_dir()}. Fix: visplotbench assets install "
            "(or `make install`); set VISPLOTBENCH_ASSETS to use another folder."
        )
    return path / "dist" / "mermaid.min.js"


def _tree_spec(tree: str) -> dict[str, object]:
    deps = {a.alias: f"npm:{a.name}@{a.version}" for a in ASSETS if a.tree == tree}
    return {"name": f"visplotbench-assets-{tree}", "private": True, "dependencies": deps}


def _tree_complete(root: Path, tree: str) -> bool:
    spec = json.dumps(_tree_spec(tree), sort_keys=True)
    stamp = root / tree / _STAMP
    try:
        if stamp.read_text(encoding="utf-8") != spec:
            return False
    except OSError:
        return False
    return all(
        (package_dir(a, root) / "package.json").is_file()
        and all((package_dir(a, root) / p).is_file() for p in a.needed)
        for a in ASSETS
        if a.tree == tree
    )


def missing_assets(root: Path | None = None) -> list[str]:
    """``name@version`` of every pinned package that is not (completely) installed; empty when all are."""
    root = root or assets_dir()
    missing = []
    for a in ASSETS:
        d = package_dir(a, root)
        if not (d / "package.json").is_file() or not all((d / p).is_file() for p in a.needed):
            missing.append(a.label)
    return missing


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Serialise installs (parallel test sessions, `make install` in two shells)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def install_assets(force: bool = False, *, quiet: bool = False) -> Path:
    """Install every pinned package with npm (idempotent: a complete install returns at once).

    Args:
        force: reinstall even when the stamp says the trees are complete.
        quiet: do not print progress.

    Returns:
        The assets directory.

    Raises:
        EnvironmentProblem: npm is missing or an install failed (the message has npm's error).
    """
    root = assets_dir()
    if not force and all(_tree_complete(root, t) for t in TREES):
        return root
    npm = shutil.which("npm")
    if npm is None:
        raise EnvironmentProblem("npm is not installed. Fix: apt-get install npm (or run `make install`).")
    failures: list[str] = []
    with _locked(root):
        for tree in TREES:
            if not force and _tree_complete(root, tree):
                continue
            failure = _install_tree(npm, root, tree, quiet)
            if failure:
                failures.append(failure)
    if failures:
        raise EnvironmentProblem("\n".join(failures))
    return root


def _install_tree(npm: str, root: Path, tree: str, quiet: bool) -> str:
    """Install one npm tree; return an error message or ''."""
    folder = root / tree
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _STAMP).unlink(missing_ok=True)
    spec = _tree_spec(tree)
    (folder / "package.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    if not quiet:
        count = sum(a.tree == tree for a in ASSETS)
        print(f"installing {count} pinned JavaScript packages into {folder} ...", flush=True)
    env = dict(
        os.environ,
        PUPPETEER_SKIP_DOWNLOAD="1",
        PUPPETEER_SKIP_CHROMIUM_DOWNLOAD="1",
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
    )
    argv = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--no-save",
        "--legacy-peer-deps",
        "--loglevel=error",
    ]
    proc = subprocess.run(
        argv,
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        return f"npm install failed in {folder} (exit {proc.returncode}):\n{tail}"
    bad = [a.label for a in ASSETS if a.tree == tree and a.label in missing_assets(root)]
    if bad:
        return f"npm install in {folder} finished but these files are missing: {', '.join(bad)}"
    (folder / _STAMP).write_text(json.dumps(spec, sort_keys=True), encoding="utf-8")
    return ""
