"""An inline SVG line chart of the pass rate by round, one line per language plus the overall rate.

Drawn by hand (no JS library) so the HTML report stays one offline file.
"""

from __future__ import annotations

import math
from html import escape

from visplotbench.report._data import RunData, language_name
from visplotbench.report._tables import pct, round_label

COLORS = {
    "python": "#1f77b4",
    "vegalite": "#ff7f0e",
    "lilypond": "#2ca02c",
    "mermaid": "#d62728",
    "svg": "#9467bd",
    "latex": "#8c564b",
    "asymptote": "#e377c2",
    "html": "#17becf",
}
OVERALL_COLOR = "#222222"
WIDTH, HEIGHT = 720, 340
LEFT, RIGHT, TOP, BOTTOM, PAD = 52, 150, 16, 40, 24


def _color(language: str, index: int) -> str:
    spare = ("#bcbd22", "#7f7f7f", "#aec7e8", "#ffbb78")
    return COLORS.get(language, spare[index % len(spare)])


def pass_rate_chart(run: RunData) -> str:
    """``<svg>`` markup: x = round (first try, round 1..K), y = pass rate in %, with a legend."""
    rounds = run.rounds
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(k: int) -> float:
        inner = plot_w - 2 * PAD
        return LEFT + PAD + (inner * k / rounds if rounds else inner / 2)

    def y(rate: float) -> float:
        return TOP + plot_h * (1 - rate)

    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="Pass rate by self-debug round">'
    ]
    for tick in range(0, 101, 20):
        ty = y(tick / 100)
        parts.append(f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick}%</text>')
    for k in range(rounds + 1):
        parts.append(
            f'<text x="{x(k):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{round_label(k)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" class="axis"/>'
    )

    series = [
        (
            lang,
            language_name(lang),
            _color(lang, i),
            [run.summary.languages[lang].rate(k) for k in range(rounds + 1)],
        )
        for i, lang in enumerate(run.languages)
    ]
    series.append(
        ("overall", "Overall", OVERALL_COLOR, [run.summary.overall_rate(k) for k in range(rounds + 1)])
    )
    for i, (key, name, color, rates) in enumerate(series):
        points = [(x(k), y(r), k, r) for k, r in enumerate(rates) if not math.isnan(r)]
        dash = ' stroke-dasharray="6 3"' if key == "overall" else ""
        width = 3 if key == "overall" else 2
        parts.append(f'<g class="series" data-language="{escape(key)}">')
        if len(points) > 1:
            coords = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="{width}"{dash}/>'
            )
        for px, py, k, r in points:
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{color}">'
                f"<title>{escape(name)}, {round_label(k)}: {pct(r)}%</title></circle>"
            )
        ly = TOP + 10 + 20 * i
        lx = LEFT + plot_w + 16
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{color}" '
            f'stroke-width="{width}"{dash}/>'
        )
        last = pct(rates[-1]) if rates else "–"
        parts.append(f'<text x="{lx + 28}" y="{ly + 4}">{escape(name)} {last}%</text></g>')
    parts.append("</svg>")
    return "\n".join(parts)
