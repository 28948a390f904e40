"""viscode-multi: build VisCode-Multi, an execution-verified multi-language visualization dataset."""

from viscode_multi.config import BuildConfig, QualityConfig, VerifyConfig
from viscode_multi.llm import LLMConfig
from viscode_multi.pipeline import STAGES, Build

__version__ = "0.1.0.dev0"

__all__ = ["STAGES", "Build", "BuildConfig", "LLMConfig", "QualityConfig", "VerifyConfig", "__version__"]
