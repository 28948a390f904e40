"""The version of the visplotbench distribution (the one source: pyproject.toml reads it)."""

__version__ = "0.1.0.dev0"
