"""Inline SVG charts for reports of any size: pass rate per language and round as grouped bars, and
score distributions as small histograms (one per score kind and language).

Drawn by hand (no JS library) so the report needs nothing from the network; their size does not
grow with the number of tasks.
"""

from __future__ import annotations

import math
from html import escape

from visplotbench.report._chart import OVERALL_COLOR, _color
from visplotbench.report._data import RunData, language_name
from visplotbench.report._tables import METRIC_NAMES, pct, round_label

# Shades of one hue per round: the first try darkest, the last round lightest.
_ROUND_SHADES = ("#1b4f72", "#2e86c1", "#5dade2", "#aed6f1", "#d6eaf8")
BINS = 10
_SCORE_KINDS = {"vis": ("Visual score", 100.0), "task": ("Task score", 100.0)} | {
    kind: (name, 1.0) for kind, name in METRIC_NAMES.items()
}


def _shade(k: int) -> str:
    return _ROUND_SHADES[min(k, len(_ROUND_SHADES) - 1)]


def pass_rate_bars(run: RunData) -> str:
    """``<svg>``: for Overall and each language, one bar per round (cumulative pass rate, %)."""
    groups = [("Overall", [run.summary.overall_rate(k) for k in range(run.rounds + 1)])]
    groups += [
        (language_name(lang), [run.summary.languages[lang].rate(k) for k in range(run.rounds + 1)])
        for lang in run.languages
    ]
    bar, gap, left, top, plot_h = 14, 18, 44, 28, 200
    group_w = bar * (run.rounds + 1) + gap
    width = left + group_w * len(groups) + 10
    height = top + plot_h + 44
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Pass rate per language and round">'
    ]
    for tick in range(0, 101, 25):
        ty = top + plot_h * (1 - tick / 100)
        parts.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{width - 10}" y2="{ty:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick}%</text>')
    for k in range(run.rounds + 1):  # legend
        lx = left + 120 * k
        parts.append(f'<rect x="{lx}" y="4" width="12" height="12" fill="{_shade(k)}"/>')
        parts.append(f'<text x="{lx + 16}" y="14">{round_label(k)}</text>')
    for g, (name, rates) in enumerate(groups):
        gx = left + gap / 2 + g * group_w
        parts.append(f'<g class="bars" data-group="{escape(name)}">')
        for k, rate in enumerate(rates):
            if math.isnan(rate):
                continue
            h = plot_h * rate
            parts.append(
                f'<rect x="{gx + k * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 2}" height="{h:.1f}" '
                f'fill="{_shade(k)}"><title>{escape(name)}, {round_label(k)}: {pct(rate)}%</title></rect>'
            )
        label_x = gx + (bar * (run.rounds + 1)) / 2
        color = OVERALL_COLOR if g == 0 else _color(run.languages[g - 1], g - 1)
        parts.append(
            f'<text x="{label_x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="{color}">'
            f"{escape(name)}</text></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _latest_scores(run: RunData, kind: str) -> dict[str, list[float]]:
    """language -> the score of ``kind`` of each task's latest scored attempt."""
    found: dict[str, list[float]] = {}
    for task in run.tasks:
        for attempt in reversed(task.attempts):
            line = run.score_lines.get((task.task_id, attempt.round), {}).get(kind)
            if line is not None and line.score is not None:
                found.setdefault(task.language, []).append(float(line.score))
                break
    return found


def _histogram(values: list[float], top: float, title: str, color: str) -> str:
    counts = [0] * BINS
    for v in values:
        counts[min(BINS - 1, max(0, int(v / top * BINS)))] += 1
    w, h, pad = 150, 70, 14
    most = max(counts) or 1
    bw = w / BINS
    mean = sum(values) / len(values) if values else math.nan
    parts = [
        f'<svg class="hist" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 2 * pad}" '
        f'viewBox="0 0 {w} {h + 2 * pad}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="10">{escape(title)}</text>',
    ]
    for i, n in enumerate(counts):
        bh = h * n / most
        low, high = top * i / BINS, top * (i + 1) / BINS
        parts.append(
            f'<rect x="{i * bw:.1f}" y="{pad + h - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" fill="{color}">'
            f"<title>{low:g}-{high:g}: {n} tasks</title></rect>"
        )
    fmt = "{:.0f}" if top > 1 else "{:.2f}"
    parts.append(
        f'<text x="0" y="{h + 2 * pad - 2}">0</text>'
        f'<text x="{w}" y="{h + 2 * pad - 2}" text-anchor="end">{fmt.format(top)}</text>'
        f'<text x="{w / 2}" y="{h + 2 * pad - 2}" text-anchor="middle">'
        f"mean {fmt.format(mean) if values else '–'}, n={len(values)}</text></svg>"
    )
    return "".join(parts)


def score_distributions(run: RunData) -> str:
    """Small histograms of each score kind, per language, over each task's latest attempt ("" when
    the run has no scores)."""
    if not run.score_lines:
        return ""
    rows = []
    for kind, (name, top) in _SCORE_KINDS.items():
        per_language = _latest_scores(run, kind)
        if not per_language:
            continue
        cells = [
            _histogram(per_language.get(lang, []), top, language_name(lang), _color(lang, i))
            for i, lang in enumerate(run.languages)
        ]
        rows.append(f'<div class="hists"><h4>{escape(name)}</h4>{"".join(cells)}</div>')
    return "\n".join(rows)
