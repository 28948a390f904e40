"""The dependency direction of visplotbench's packages, checked two ways: every import statement in the
source (function-level ones included, so no cycle can hide inside a function), and what a fresh
interpreter has loaded after importing each package."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import visplotbench

SRC = Path(visplotbench.__file__).parent

# package -> the visplotbench packages it must never import (directly, or inside a function).
FORBIDDEN = {
    "engine": ["runfolder", "harness", "judges", "report", "cli", "backends", "_benchmark"],
    "tasks": ["runfolder", "harness", "judges", "report", "cli"],
    "runfolder": ["harness", "judges", "report", "cli", "_benchmark", "backends"],
    "harness": ["judges", "report", "cli", "_benchmark"],
    "judges": ["harness", "report", "cli", "_benchmark"],
    "report": ["harness", "cli", "_benchmark"],
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("visplotbench.")}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_statement_points_the_wrong_way(package):
    wrong = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[1]
            if top in FORBIDDEN[package]:
                wrong.append(f"{path.relative_to(SRC)} imports {name}")
    assert not wrong, "\n".join(wrong)


def _loaded_after(module: str) -> set[str]:
    code = (
        f"import json, sys; import {module}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('visplotbench') or "
        "m.split('.')[0] in ('numpy', 'PIL', 'pandas', 'torch', 'transformers', 'datasets'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_fresh_interpreter_loads_only_what_a_package_depends_on(package):
    loaded = _loaded_after(f"visplotbench.{package}")
    wrong = sorted(m for m in loaded if m.split(".")[1:2] and m.split(".")[1] in FORBIDDEN[package])
    assert not wrong, f"importing visplotbench.{package} loaded {wrong}"


def test_import_visplotbench_is_light_and_exports_the_public_surface():
    loaded = _loaded_after("visplotbench")
    assert loaded == {"visplotbench", "visplotbench._version"}, loaded  # everything else on first use
    code = "import visplotbench as v; print([n for n in v.__all__ if getattr(v, n, None) is None])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    for name in (
        "render",
        "RenderPool",
        "RenderJob",
        "load_tasks",
        "extract_code",
        "ssim",
        "edge_f1",
        "run_benchmark",
        "validate",
        "score_run",
        "write_reports",
        "RunConfig",
        "RunFolder",
    ):
        assert name in visplotbench.__all__
