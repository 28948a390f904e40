"""VisCode-Multi: the dataset pipeline (not implemented yet; see the project's issues)."""

__version__ = "0.0.1.dev0"
__all__ = ["__version__"]
