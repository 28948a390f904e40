"""``report.md``: the run's header and its tables, in the paper's layout, ready to paste."""

from __future__ import annotations

from visplotbench.report._data import RunData
from visplotbench.report._tables import Table, all_tables, header_items


def cell(text: str) -> str:
    """One table cell: no line breaks, pipes escaped, and no raw HTML (failure kinds come from model errors)."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\|`*":
        text = text.replace(char, "\\" + char)
    return text


def table_markdown(table: Table) -> str:
    lines = [f"## {table.title}", ""]
    if table.rows:
        lines.append("| " + " | ".join(cell(h) for h in table.header) + " |")
        lines.append(
            "|" + "|".join("---:" if _numeric(table, i) else "---" for i in range(len(table.header))) + "|"
        )
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table.rows]
        lines.append("")
    if table.note:
        lines += [table.note, ""]
    return "\n".join(lines)


def _numeric(table: Table, column: int) -> bool:
    return all(row[column].replace(".", "", 1).isdigit() or row[column] == "–" for row in table.rows)


def render_markdown(run: RunData) -> str:
    """The Markdown report of ``run`` (see ``visplotbench.report.load_run``)."""
    lines = [f"# VisPlotBench report: {cell(run.model_name)}", ""]
    lines += [f"- **{label}:** {cell(value)}" for label, value in header_items(run)]
    lines.append("")
    for table in all_tables(run):
        lines.append(table_markdown(table))
    lines.append(
        "Environment failures (the renderer could not run) are reported apart and never counted "
        "as a model's failure; rerun with `--resume` once the environment is fixed."
    )
    return "\n".join(lines).rstrip() + "\n"
