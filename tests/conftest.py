"""Test-wide settings: offline Hub, private HF_HOME, one thread per BLAS."""

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# A private, empty HF cache: a warm user cache would silently serve stale copies.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="vpb-hf-home-")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
