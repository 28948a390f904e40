#!/usr/bin/env bash
# Installs everything a fresh Debian 12 machine needs, idempotently:
#   1. Debian packages (renderers, browser, sandbox), only those missing;
#   2. a virtualenv in .venv with the three distributions in editable mode;
#   3. the pinned JavaScript assets (mermaid, chart libraries) for offline rendering.
# Re-running it when everything is present takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  texlive-latex-base texlive-latex-recommended texlive-pictures texlive-latex-extra
  poppler-utils lilypond asymptote chromium chromium-headless-shell bubblewrap xvfb xauth
  fonts-dejavu-core python3-venv
)
# Node: any installed node/npm will do (Debian's npm package conflicts with NodeSource's nodejs).
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install] apt: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $($PY --version)"
  $PY -m venv .venv
fi
VPY=.venv/bin/python
# The stamp covers the versions too (they live in the sources, not in pyproject.toml): an editable
# install keeps the version it was installed at, so a bump must reinstall or pins on it fail.
stamp=.venv/.installed-$( (cat visplotbench/pyproject.toml viscode_multi/pyproject.toml viscoder2_train/pyproject.toml pyproject.toml; grep -h '^__version__' visplotbench/src/visplotbench/_version.py viscode_multi/src/viscode_multi/__init__.py viscoder2_train/src/viscoder2_train/__init__.py) | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "[install] pip: the three distributions (editable) and dev tools"
  $VPY -m pip install -q --upgrade pip
  # torch first, pinned: an unpinned torch pulls a multi-GB CUDA build on CPU machines.
  if ! $VPY -c "import torch" 2>/dev/null; then
    $VPY -m pip install -q "torch==${TORCH_VERSION:-2.13.0}"
  fi
  $VPY -m pip install -q -e "./visplotbench[all]" -e ./viscode_multi -e ./viscoder2_train -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

echo "[install] JavaScript assets"
.venv/bin/visplotbench assets install
echo "[install] done"
