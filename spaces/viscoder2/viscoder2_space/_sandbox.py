"""The start-up check that the engine's sandbox can run on this host.

Every render in the Space goes through ``visplotbench``'s sandbox (bubblewrap: new user, mount, PID
and network namespaces, a cleared environment, resource limits). Some hosts forbid unprivileged user
namespaces; there bubblewrap cannot start and no render can be made safely. The engine has no
weaker, unsandboxed mode, on purpose, so the Space does not offer one either: it says plainly what
failed and disables rendering (the README explains the choice and how to run on a host that allows
the sandbox).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SandboxCheck:
    """Whether the sandbox works here.

    Attributes:
        ok: a sandboxed process started, ran and exited cleanly.
        message: what failed and how to fix it ("" when ok).
    """

    ok: bool
    message: str = ""


def check_sandbox() -> SandboxCheck:
    """Start one tiny process inside the engine's sandbox and report whether it ran."""
    from visplotbench.engine import EnvironmentProblem, Limits
    from visplotbench.engine._sandbox import run_sandboxed

    with tempfile.TemporaryDirectory(prefix="viscoder2-sandbox-check-") as tmp:
        try:
            proc = run_sandboxed(["/bin/sh", "-c", "echo sandbox-ok"], Path(tmp), Limits(wall_s=30))
        except EnvironmentProblem as exc:
            return SandboxCheck(False, str(exc))
        except OSError as exc:
            return SandboxCheck(False, f"the sandbox could not be started: {exc}")
    if proc.returncode == 0 and proc.stdout.strip() == "sandbox-ok":
        return SandboxCheck(True)
    detail = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}")[-600:]
    return SandboxCheck(
        False,
        "the render sandbox (bubblewrap) cannot start on this host, so no code is rendered here. "
        f"bubblewrap said: {detail}. Fix: run the Space where unprivileged user namespaces are allowed "
        "(see the Space README, 'Safety').",
    )
