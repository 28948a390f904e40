"""`visplotbench doctor`: render a canary per language, print versions and how to fix what is missing."""

from __future__ import annotations

import platform
import shutil
import sys
from dataclasses import dataclass, field

from visplotbench.engine._cgroup import cgroups_available
from visplotbench.engine._types import EnvironmentProblem, RenderStatus
from visplotbench.engine.examples import example_job
from visplotbench.engine.pool import RenderPool
from visplotbench.engine.registry import LANGUAGES


@dataclass
class LanguageHealth:
    """Doctor's finding for one language."""

    language: str
    status: str  # "ok" or the render status / "unavailable"
    seconds: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    problem: str = ""


def diagnose(languages: list[str] | None = None) -> tuple[list[LanguageHealth], list[str]]:
    """Render each language's canary; return the findings and machine-wide warnings."""
    warnings: list[str] = []
    if shutil.which("bwrap") is None:
        warnings.append(
            "bubblewrap is missing: no render can run. Fix: apt-get install bubblewrap (or `make install`)."
        )
    if not cgroups_available():
        warnings.append(
            "cgroup v1 pids/memory controllers are not writable: process and memory caps fall back to "
            "RLIMIT_NPROC/RLIMIT_AS (weaker; see visplotbench.engine._sandbox). Run as root or delegate cgroups."
        )
    try:
        from visplotbench.engine.assets import missing_assets

        missing = missing_assets()
        if missing:
            warnings.append(
                f"JavaScript assets missing ({', '.join(missing)}). Fix: visplotbench assets install"
            )
    except ImportError:
        pass
    found: list[LanguageHealth] = []
    with RenderPool() as pool:
        jobs = {lang: example_job(lang) for lang in (languages or list(LANGUAGES))}
        futures = {lang: pool.submit(job) for lang, job in jobs.items()}
        for lang, future in futures.items():
            result = future.result()
            health = LanguageHealth(
                lang, result.status.value, result.timings.get("total", 0.0), result.tool_versions
            )
            if result.status is RenderStatus.ENV_FAILURE:
                health.status = "unavailable"
            if result.status is not RenderStatus.OK:
                health.problem = (
                    result.error.strip().splitlines()[0] if result.error.strip() else result.status.value
                )
                if result.status is RenderStatus.ENV_FAILURE:
                    health.problem = result.error.strip()
            if not health.versions:
                try:
                    health.versions = pool.renderer(lang).versions()
                except (EnvironmentProblem, ImportError):
                    pass
            found.append(health)
    return found, warnings


def main(languages: list[str] | None = None) -> int:
    """Print the report; exit status 1 when any language cannot render its canary."""
    print(f"visplotbench doctor  (python {sys.version.split()[0]}, {platform.platform()})")
    found, warnings = diagnose(languages)
    width = max(len(h.language) for h in found)
    for h in found:
        mark = "ok " if h.status == "ok" else "FAIL"
        versions = ", ".join(f"{k} {v}" for k, v in h.versions.items())
        print(f"  [{mark}] {h.language:<{width}}  {h.seconds:5.2f}s  {versions}")
        if h.problem:
            for line in h.problem.splitlines()[:6]:
                print(f"         {line}")
    for w in warnings:
        print(f"  warning: {w}")
    bad = [h.language for h in found if h.status != "ok"]
    print("all languages render." if not bad else f"{len(bad)} language(s) cannot render: {', '.join(bad)}")
    return 1 if bad else 0
