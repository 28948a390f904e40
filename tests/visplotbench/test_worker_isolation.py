"""A job in a warm fork-mode worker cannot forge the reply of the job after it.

The worker answers the host with one JSON line per job. A job runs as the worker's user, so
without care it could write extra lines there (an inherited descriptor, or the worker's pipe
reopened through /proc/<worker>/fd) or ptrace the worker, and the host would take a forged line
for the next job's result.
"""

from __future__ import annotations

from visplotbench.engine import RenderJob, RenderStatus

FORGED = (
    '{"returncode": 0, "stdout": "", "stderr": "", "timed_out": false, "output_flood": false, "wall_s": 0.1}'
)

ATTACK = f"""
import os
line = ({FORGED!r} + "\\n").encode() * 4
reached = []
for fd in range(3, 256):
    try:
        os.write(fd, line)
        reached.append(f"fd {{fd}}")
    except OSError:
        pass
parent = os.getppid()
for name in ("0", "1", "2", "3", "4", "5", "6"):
    try:
        with open(f"/proc/{{parent}}/fd/{{name}}", "wb", buffering=0) as pipe:
            pipe.write(line)
        reached.append(f"/proc/{{parent}}/fd/{{name}}")
    except OSError:
        pass
print("reached:", reached)
"""


def test_a_job_cannot_forge_the_next_jobs_reply(pool, need):
    need("python")
    first = pool.render(RenderJob("python", ATTACK))
    assert "reached:" in first.stdout
    # The next job fails; a forged reply would have made it look clean (exit 0, no error).
    after = pool.render(RenderJob("python", "raise ValueError('my own error')\n"))
    assert after.status is RenderStatus.ERROR
    assert "my own error" in after.error
    assert "/proc/" not in first.stdout.split("reached:")[1]  # the worker's pipes are closed to it
