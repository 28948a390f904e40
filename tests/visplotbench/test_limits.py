"""Which limit stopped a job: every limit x every language that can hit it, with real renderers.

The status says timeout (wall or CPU time) or error (memory, output, file size), ``RenderResult.limit``
names the limit, and the message names it with its figure. Before, a Vega-Lite chart too large to
allocate ended as "did not finish within 15 s" after 3 s, and a CPU-time kill looked like any other
SIGKILL ("lilypond failed (exit status 137)").
"""

from __future__ import annotations

import pytest
from visplotbench.engine import Limits, RenderJob, RenderStatus

WALL = Limits(wall_s=3, cpu_s=60)
CPU = Limits(wall_s=30, cpu_s=2)
OUT = Limits(output_bytes=10_000)
FILE = Limits(file_size_mb=5)
MEM = Limits(memory_mb=256, wall_s=30)
MERMAID_BIG = "flowchart LR\n" + "\n".join(f"  n{i}[node {i}] --> n{(i * 7 + 3) % 450}" for i in range(450))
MUSIC = "\n{ c' }"
TEX = "\\documentclass{article}\n\\begin{document}\n%s\n\\end{document}\n"
FLOOD_TEX = (
    "\\loop\\message{xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}\\iftrue\\repeat"
)

# (limit, language) -> (source, limits, figure the message must give)
CASES = {
    ("wall_time", "python"): ("import time\nwhile True:\n    time.sleep(0.1)\n", WALL, "3 s"),
    ("wall_time", "lilypond"): ("#(let loop () (sleep 1) (loop))" + MUSIC, WALL, "3 s"),
    ("wall_time", "asymptote"): ("while(true) {}", WALL, "3 s"),
    ("wall_time", "latex"): (TEX % "\\def\\a{\\a}\\a", Limits(wall_s=3, cpu_s=60), "3 s"),
    ("wall_time", "html"): ("<html><body><script>while (true) {}</script></body></html>", WALL, "3 s"),
    ("wall_time", "mermaid"): (MERMAID_BIG, Limits(wall_s=0.1), "0.1 s"),
    ("cpu_time", "python"): ("while True:\n    pass\n", CPU, "2 s"),
    ("cpu_time", "lilypond"): ("#(let loop () (loop))" + MUSIC, CPU, "2 s"),
    ("cpu_time", "asymptote"): ("while(true) {}", CPU, "2 s"),
    ("cpu_time", "latex"): (TEX % "\\def\\a{\\a}\\a", CPU, "2 s"),
    ("memory", "python"): ("x = bytearray(3 * 1024**3)\n", MEM, "256 MiB"),
    ("memory", "asymptote"): ("real[] a; for (int i = 0; i < 400000000; ++i) a.push(i);", MEM, "256 MiB"),
    ("memory", "vegalite"): (
        '{"width": 200000, "height": 200000, "mark": "bar", "data": {"values": [{"a": 1}]},'
        ' "encoding": {"x": {"field": "a"}}}',
        None,
        "1024 MiB",
    ),
    ("memory", "html"): (
        "<html><body><script>let a = []; while (true) { a.push(new Array(1e6).fill(1)); }</script></body></html>",
        Limits(wall_s=30),
        "MiB",
    ),
    ("output", "python"): ("while True:\n    print('x' * 1000)\n", OUT, "640,000 bytes"),
    ("output", "lilypond"): (
        '#(let loop () (display "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") (loop))' + MUSIC,
        OUT,
        "640,000 bytes",
    ),
    ("output", "asymptote"): (
        'while(true) write("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");',
        OUT,
        "640,000 bytes",
    ),
    ("output", "latex"): (TEX % FLOOD_TEX, Limits(output_bytes=10_000, wall_s=30), "640,000 bytes"),
    ("file_size", "python"): ("open('big.bin', 'wb').write(b'x' * (20 * 1024 * 1024))\n", FILE, "5 MiB"),
    ("file_size", "asymptote"): (
        'file f = output("big.txt"); for (int i = 0; i < 10000000; ++i) write(f, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");',
        FILE,
        "5 MiB",
    ),
}


@pytest.mark.parametrize(("limit", "language"), list(CASES), ids=[f"{lim}-{lang}" for lim, lang in CASES])
def test_the_limit_that_stopped_a_job_is_named_with_its_figure(pool, need, limit, language):
    need(language)
    source, limits, figure = CASES[(limit, language)]
    result = pool.render(RenderJob(language, source, limits=limits))
    timeout = limit in ("wall_time", "cpu_time")
    assert result.status is (RenderStatus.TIMEOUT if timeout else RenderStatus.ERROR), result.error
    assert result.limit == limit, result.error
    assert figure in result.error, result.error
    words = {
        "wall_time": "wall-time limit",
        "cpu_time": "CPU-time limit",
        "memory": "memory",
        "output": "OutputLimitExceeded",
        "file_size": "file size limit",
    }
    assert words[limit].lower() in result.error.lower(), result.error


def test_a_clean_error_names_no_limit(pool, need):
    need("python")
    result = pool.render(RenderJob("python", "raise ValueError('plain')\n"))
    assert result.status is RenderStatus.ERROR and result.limit == ""
