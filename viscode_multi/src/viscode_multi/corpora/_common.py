"""Helpers the corpus walkers share: provenance, docstrings, data files a program names."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from viscode_multi.record import Provenance

if TYPE_CHECKING:
    from viscode_multi.corpora._registry import Corpus
    from viscode_multi.fetch import Fetched

MAX_DATA_FILE = 200_000  # bytes; bigger data files are not carried along (the program will fail)


def provenance(corpus: Corpus, fetched: Fetched, path: str) -> Provenance:
    return Provenance(
        source=fetched.package.registry,
        package=fetched.package.name,
        version=fetched.version,
        path=path,
        license=corpus.license,
        corpus=corpus.name,
    )


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def file_texts(fetched: Fetched, paths: Iterable[Path]) -> Iterator[tuple[str, str]]:
    """(path relative to the fetched package's root, text) of each file that reads as UTF-8, in order."""
    for path in paths:
        text = read_text(path)
        if text is not None:
            yield str(path.relative_to(fetched.root)), text


def python_docstring(source: str) -> str:
    """The module docstring with reST markup lightly removed ("" when there is none or it does not parse)."""
    try:
        doc = ast.get_docstring(ast.parse(source)) or ""
    except (SyntaxError, ValueError):
        return ""
    doc = re.sub(r"^[=\-~^#*]{3,}\s*$", "", doc, flags=re.M)  # reST title underlines
    doc = re.sub(r":\w+:`~?([^`]+)`", r"\1", doc)
    doc = doc.replace("``", "")
    return re.sub(r"\n{3,}", "\n\n", doc).strip()


def named_files(text: str, folder: Path) -> dict[str, str]:
    """Text files in ``folder`` whose names appear in ``text`` (the data a program reads)."""
    files: dict[str, str] = {}
    if not folder.is_dir():
        return files
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name in text and path.stat().st_size <= MAX_DATA_FILE:
            if path.suffix in (".py", ".asy", ".ly", ".tex", ".svg", ".pdf", ".png", ".gz"):
                continue
            content = read_text(path)
            if content is not None:
                files[path.name] = content
    return files
