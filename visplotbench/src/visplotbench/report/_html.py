"""``report.html``: inline CSS, JS and SVG charts; the images are the run folder's own PNG files,
linked relatively and loaded lazily (``inline_images=True`` embeds them as data URLs instead: one
self-contained file, but at benchmark scale a 100+ MB one). No network either way.

Made to be looked at at benchmark scale (888 tasks x 4 rounds): charts first (pass rate per language
and round, score distributions), compact tables (rounds as rows, languages as columns), then one
row per task with the reference and each round's image and error side by side, rendered by the
browser only when scrolled to (``content-visibility``).

Every string that a model wrote or influenced (code, replies, errors, failure kinds, even task ids)
goes through ``html.escape``; image links are URL-quoted names of files inside the run folder; no
run data is ever placed inside the ``<script>``, which only reads ``data-*`` attributes. A
Content-Security-Policy allows that one script (by its hash), inline styles and images from the
report's own folder or ``data:``, and nothing else, so a report cannot fetch anything from the
network or run injected code.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape
from pathlib import Path
from urllib.parse import quote

from visplotbench.report._chart import pass_rate_chart
from visplotbench.report._charts_scale import pass_rate_bars, score_distributions
from visplotbench.report._data import RunData, TaskView, language_name
from visplotbench.report._tables import Table, all_tables, header_items, round_label
from visplotbench.runfolder import AttemptRecord, ScoreRecord

OUTCOMES = {
    "first_try": "passed first try",
    "self_debug": "fixed by self-debug",
    "failed": "failed",
    "env_failure": "environment failure",
}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1400px;padding:16px 24px;color:#222}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:24px 0 8px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}dl.meta dt{font-weight:600}dl.meta dd{margin:0;word-break:break-all}
table{border-collapse:collapse;margin:4px 0 6px}th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:4px 0}
p.note{color:#666;margin:0 0 12px;font-size:12px}
svg.chart text{font-size:12px;fill:#333}svg.chart .grid{stroke:#e5e5e5}svg.chart .axis{stroke:#999}
#filters{position:sticky;top:0;background:#fafafa;border:1px solid #ddd;padding:8px 12px;z-index:2;display:flex;flex-wrap:wrap;gap:6px 22px;align-items:center}
#filters fieldset{border:0;margin:0;padding:0}#filters legend{font-weight:600;float:left;margin-right:6px}
#filters label{margin-right:8px;white-space:nowrap}#count{font-weight:600}
article.task{border:1px solid #ddd;border-radius:6px;margin:14px 0;padding:8px 12px;content-visibility:auto;contain-intrinsic-size:auto 520px}
.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.hists h4{margin:8px 0 2px;font-size:13px}
svg.hist{margin:0 10px 4px 0}svg.hist text{font-size:10px;fill:#333}
article.task h3{margin:2px 0 6px;font-size:15px}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;color:#fff;background:#777;vertical-align:middle}
.s-ok,.o-first_try{background:#2e7d32}.o-self_debug{background:#558b2f}.s-error,.o-failed{background:#c62828}
.s-timeout{background:#ef6c00}.s-blank,.s-no_output,.s-no_code{background:#6d4c41}.s-env_failure,.o-env_failure{background:#5e35b1}
.s-generation_failed{background:#37474f}
.row{display:flex;gap:12px;overflow-x:auto;align-items:flex-start}
.col{flex:1 0 280px;max-width:480px;min-width:0;border:1px solid #eee;border-radius:4px;padding:6px}
.col img{max-width:100%;border:1px solid #eee;background:#fff;display:block;margin:4px 0}
.col h4{margin:0 0 4px;font-size:13px}.kind{color:#555;font-size:12px;margin-left:4px}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;border:1px solid #eee;padding:6px;margin:4px 0;max-height:420px;overflow:auto;font-size:12px}
pre.error{background:#fff4f4;border-color:#f3caca}
details>summary{cursor:pointer;color:#1a4f8b}.missing{color:#888;font-style:italic}
.hidden{display:none!important}
p.scores{margin:4px 0;font-size:12px}.score b{font-variant-numeric:tabular-nums}
.score-unparsed b,.score-failed b{color:#c62828}
"""

_JS = """
(function () {
  var form = document.getElementById('filters');
  var tasks = Array.prototype.slice.call(document.querySelectorAll('article.task'));
  function checked(name) {
    var out = {};
    form.querySelectorAll('input[name="' + name + '"]').forEach(function (box) { out[box.value] = box.checked; });
    return out;
  }
  function apply() {
    var langs = checked('language'), statuses = checked('status'), outcomes = checked('outcome');
    var round = form.querySelector('select[name="round"]').value;
    var query = form.querySelector('input[name="search"]').value.trim().toLowerCase();
    var shown = 0;
    tasks.forEach(function (task) {
      var status = task.dataset.status, visible = true;
      var attempts = task.querySelectorAll('.attempt');
      if (round !== 'all') {
        var at = task.querySelector('.attempt[data-round="' + round + '"]');
        if (at) { status = at.dataset.status; } else { visible = false; }
      }
      attempts.forEach(function (a) { a.classList.toggle('hidden', round !== 'all' && a.dataset.round !== round); });
      visible = visible && langs[task.dataset.language] !== false && statuses[status] !== false &&
        outcomes[task.dataset.outcome] !== false &&
        (!query || task.dataset.id.toLowerCase().indexOf(query) !== -1);
      task.classList.toggle('hidden', !visible);
      if (visible) { shown += 1; }
    });
    document.getElementById('count').textContent = 'Showing ' + shown + ' of ' + tasks.length + ' tasks';
  }
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  apply();
})();
"""


def _image_url(folder: Path, name: str, inline: bool) -> str | None:
    """The PNG ``folder/name``: a relative URL (or, ``inline``, a data URL); None when it is missing
    or outside the run folder."""
    root = folder.resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    if inline:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return quote(path.relative_to(root).as_posix())


def _img(url: str | None, alt: str) -> str:
    if url is None:
        return f'<p class="missing">{escape(alt)}: image missing</p>'
    image = f'<img loading="lazy" decoding="async" alt="{escape(alt)}" src="{escape(url)}">'
    # the full-size image one click away (a data URL is already all there is)
    return image if url.startswith("data:") else f'<a href="{escape(url)}" target="_blank">{image}</a>'


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    rows = []
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{escape(c)}</td>' if i and _is_number(c) else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        rows.append(f"<tr>{cells}</tr>")
    body = (
        (
            f"<table><caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        if table.rows
        else f"<h2>{escape(table.title)}</h2>"
    )
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return body + note


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).isdigit() or text == "–"


def _attempt(run: RunData, rec: AttemptRecord, inline: bool) -> str:
    status = rec.status
    parts = [
        f'<div class="col attempt" data-round="{rec.round}" data-status="{escape(status)}">',
        f'<h4>{escape(round_label(rec.round))} <span class="badge s-{escape(status)}">{escape(status)}</span>',
    ]
    if rec.failure_kind and not rec.passed and rec.failure_kind.lower() != status.replace("_", ""):
        parts.append(f'<span class="kind">{escape(rec.failure_kind)}</span>')
    parts.append("</h4>")
    for i, name in enumerate(rec.images):
        parts.append(
            _img(
                _image_url(run.folder, name, inline), f"{rec.task_id} {round_label(rec.round)} image {i + 1}"
            )
        )
    parts.append(_scores(run, rec))
    if rec.error:
        parts.append(f'<pre class="error">{escape(rec.error)}</pre>')
    open_code = " open" if not rec.images else ""
    parts.append(
        f"<details{open_code}><summary>Code ({len(rec.code.splitlines())} lines, "
        f"{escape(rec.extraction_rule or 'n/a')})</summary><pre><code>{escape(rec.code)}</code></pre></details>"
    )
    if _reply_says_more(rec.reply, rec.code):
        parts.append(f"<details><summary>Model reply</summary><pre>{escape(rec.reply)}</pre></details>")
    if rec.generation_error:
        parts.append(f'<pre class="error">{escape(rec.generation_error)}</pre>')
    parts.append("</div>")
    return "".join(parts)


def _reply_says_more(reply: str, code: str) -> bool:
    """True when the reply holds more than the code in a fence (at 888 tasks, repeating every
    fenced program a second time was a quarter of the report)."""
    rest = reply.replace(code.strip(), "", 1) if code.strip() else reply
    return bool(_FENCE.sub("", rest).strip())


_FENCE = re.compile(r"```[\w+-]*")


SCORE_LABELS = {"vis": "visual", "task": "task", "ssim": "SSIM", "edge_f1": "edge F1"}


def _score_text(line: ScoreRecord) -> str:
    if line.status == "scored" and line.score is not None:
        value = f"{line.score:.0f}" if line.kind in ("vis", "task") else f"{line.score:.3f}"
        return value + (" (clamped)" if line.clamped else "")
    return {"no_image": "0 (no image)", "no_reference": "no reference"}.get(line.status, f"0 ({line.status})")


def _scores(run: RunData, rec: AttemptRecord) -> str:
    """This attempt's scores, and the judge's replies (folded)."""
    lines = run.score_lines.get((rec.task_id, rec.round), {})
    if not lines:
        return ""
    shown = [lines[kind] for kind in SCORE_LABELS if kind in lines]
    badges = " · ".join(
        f'<span class="score score-{escape(line.status)}">{escape(SCORE_LABELS[line.kind])} '
        f"<b>{escape(_score_text(line))}</b></span>"
        for line in shown
    )
    parts = [f'<p class="scores">{badges}</p>']
    for line in shown:
        if line.replies or line.error:
            text = "\n\n--- retry ---\n\n".join(line.replies)
            if line.error:
                text += ("\n\n" if text else "") + f"request error: {line.error}"
            parts.append(
                f"<details><summary>Judge reply ({escape(SCORE_LABELS[line.kind])}, "
                f"{escape(line.model or line.scorer)})</summary><pre>{escape(text)}</pre></details>"
            )
    return "".join(parts)


def _task(run: RunData, task: TaskView, inline: bool) -> str:
    rounds = " ".join(str(a.round) for a in task.attempts)
    ref = _image_url(run.folder, f"images/{task.task_id}_ref.png", inline)
    parts = [
        f'<article class="task" id="task-{escape(task.task_id)}" data-id="{escape(task.task_id)}" '
        f'data-language="{escape(task.language)}" data-status="{escape(task.status)}" '
        f'data-outcome="{escape(task.outcome)}" data-rounds="{rounds}">',
        f"<h3>{escape(task.task_id)} <small>{escape(language_name(task.language))}</small> "
        f'<span class="badge o-{escape(task.outcome)}">{escape(OUTCOMES.get(task.outcome, task.outcome))}</span></h3>',
    ]
    if task.instruction:
        parts.append(
            f"<details><summary>Instruction</summary><pre>{escape(task.instruction)}</pre></details>"
        )
    else:
        parts.append('<p class="missing">Instruction not recorded.</p>')
    parts.append('<div class="row"><div class="col ref"><h4>Reference</h4>')
    parts.append(
        _img(ref, f"{task.task_id} reference") if ref else '<p class="missing">No reference image.</p>'
    )
    parts.append("</div>")
    parts += [_attempt(run, rec, inline) for rec in task.attempts]
    parts.append("</div></article>")
    return "\n".join(parts)


def _filters(run: RunData) -> str:
    def boxes(name: str, values: list[tuple[str, str]]) -> str:
        inner = "".join(
            f'<label><input type="checkbox" name="{name}" value="{escape(v)}" checked> {escape(label)}'
            f"</label>"
            for v, label in values
        )
        return f"<fieldset><legend>{name.capitalize()}</legend>{inner}</fieldset>"

    statuses = sorted({t.status for t in run.tasks} | {a.status for t in run.tasks for a in t.attempts})
    outcomes = [o for o in OUTCOMES if any(t.outcome == o for t in run.tasks)]
    rounds = "".join(f'<option value="{k}">{round_label(k)}</option>' for k in range(run.rounds + 1))
    return (
        '<form id="filters">'
        + boxes("language", [(lang, language_name(lang)) for lang in run.languages])
        + boxes("status", [(s, s) for s in statuses])
        + boxes("outcome", [(o, OUTCOMES[o]) for o in outcomes])
        + f'<label>Round <select name="round"><option value="all">All rounds</option>{rounds}</select></label>'
        + '<label>Task id <input type="search" name="search" placeholder="e.g. svg_3"></label>'
        + '<span id="count"></span></form>'
    )


def render_html(run: RunData, *, inline_images: bool = False) -> str:
    """The HTML report of ``run`` (see ``visplotbench.report.load_run``) as one string.

    Args:
        run: the run folder's data; the report is meant to be written into that folder.
        inline_images: embed every image as a data URL (one self-contained file) instead of
            linking the run folder's image files.
    """
    script_hash = base64.b64encode(hashlib.sha256(_JS.encode("utf-8")).digest()).decode("ascii")
    # 'self' covers the folder when served over http; file: when opened from disk (a file page's
    # origin is opaque, so 'self' matches nothing there). No network scheme is allowed.
    images = "data:" if inline_images else "'self' file: data:"
    csp = (
        f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; "
        "form-action 'none'; base-uri 'none'"
    )
    meta = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in header_items(run))
    not_run = sum(run.not_run.values())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>VisPlotBench report: {escape(run.model_name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>VisPlotBench report: {escape(run.model_name)}</h1>",
        f'<dl class="meta">{meta}</dl>',
        "<h2>Pass rate by language and round</h2>",
        f'<div class="charts">{pass_rate_bars(run)}{pass_rate_chart(run)}</div>',
        *([f"<h2>Score distributions</h2>{dist}"] if (dist := score_distributions(run)) else []),
        *(_table(t) for t in all_tables(run)),
        f"<h2>Tasks ({len(run.tasks)}{f', {not_run} not run' if not_run else ''})</h2>",
        '<p class="note">Per task: the reference, then each round\'s image and error side by side; '
        "click an image for the full size.</p>",
        _filters(run),
        *(_task(run, t, inline_images) for t in run.tasks),
        f"<script>{_JS}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
