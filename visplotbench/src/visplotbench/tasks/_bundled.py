"""The task set that ships inside the package, stored exactly as the Hub dataset is laid out.

``bundled/README.md`` is its dataset card (with the ``configs:`` block: one config per language,
split ``test``), and ``bundled/<language>/test-00000-of-00001.parquet`` holds the rows. So
``datasets.load_dataset(str(BUNDLED_DIR), "<language>", split="test")`` reads it like the Hub copy.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from visplotbench.tasks._schema import Task, read_parquet, table_to_rows

BUNDLED_DIR = Path(str(resources.files("visplotbench.tasks") / "bundled"))


def bundled_parquet(language: str) -> Path:
    return BUNDLED_DIR / language / "test-00000-of-00001.parquet"


def load_bundled(language: str) -> list[Task]:
    """The bundled tasks of ``language`` (ValueError naming the choices when there are none)."""
    path = bundled_parquet(language)
    if not path.exists():
        have = sorted(p.name for p in BUNDLED_DIR.iterdir() if (p / "test-00000-of-00001.parquet").exists())
        raise ValueError(
            f"No bundled tasks for {language!r}; bundled languages: {', '.join(have) or 'none'}."
        )
    return table_to_rows(read_parquet(path), language)
