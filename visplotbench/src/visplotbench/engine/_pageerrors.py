"""How a page's failures read in a job's error: thrown exceptions, console arguments, blocked requests."""

from __future__ import annotations

import json

from visplotbench.engine._assetserver import (
    DOC_HOST,
)

_SERVER_DOWN = "the browser's asset server did not answer"


# Request failures that mean the asset server is gone (not the page's doing).
_SERVER_FAILURES = (
    "ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET", "ERR_CONNECTION_CLOSED", "ERR_CONNECTION_FAILED",
    "ERR_EMPTY_RESPONSE", "ERR_SSL_", "ERR_CERT_",
)  # fmt: skip


def _arg_text(arg: dict) -> str:
    """One console.* argument as text, as the browser's console shows it in one line."""
    if "unserializableValue" in arg:
        return str(arg["unserializableValue"])
    kind = arg.get("type")
    if kind == "string":
        return str(arg.get("value", ""))
    if kind == "undefined":
        return "undefined"
    if arg.get("subtype") == "null":
        return "null"
    if kind in ("number", "boolean"):
        return json.dumps(arg.get("value"))
    return str(arg.get("description") or arg.get("className") or kind)


def blocked_message(url: str) -> str:
    """The error a page gets for a request that offline rendering cannot answer."""
    if DOC_HOST.match(url):
        rel = DOC_HOST.sub("", url)
        return (
            f"Blocked request to '{rel}': a relative URL, but the page has no files next to it "
            "(inline the data instead)."
        )
    if url.startswith("file:"):
        return f"Blocked request to a local file: {url} (pages cannot read local files)"
    if "gstatic.com/charts" in url:
        return (
            f"Blocked request to {url}: Google Charts cannot be loaded offline; use Chart.js, D3, "
            "ECharts, Plotly.js or Vega-Lite."
        )
    short = url if len(url) <= 200 else url[:200] + "..."
    return (
        f"Blocked request to {short}: pages render offline; only the usual CDN URLs of Chart.js, D3, "
        "ECharts, Plotly.js, Vega/Vega-Lite/Vega-Embed and Mermaid are served (from pinned local copies)."
    )


def format_exception(details: dict, doc_url: str) -> str:
    """An uncaught exception as the model should see it: message, the user's line, the user's frames."""
    text = details.get("text") or "Uncaught"
    desc = (details.get("exception") or {}).get("description") or ""
    if desc and not text.endswith(desc.split("\n")[0]):
        lines = desc.split("\n")
        head = f"{text} {lines[0]}" if text.startswith("Uncaught") else lines[0]
        frames = [ln for ln in lines[1:] if doc_url and doc_url in ln]
    else:
        head, frames = text, []
    if details.get("url") == doc_url and "lineNumber" in details:
        head += f" (line {details['lineNumber'] + 1})"
    return "\n".join([head, *frames])


def _short(exc: BaseException) -> str:
    text = str(exc).strip().split("\n")[0]
    return text[:300] or type(exc).__name__
