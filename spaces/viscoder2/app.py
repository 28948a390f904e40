"""The VisCoder2 Space: `python app.py` serves it (on $VISCODER2_HOST:$PORT, default 127.0.0.1:7860).

    make space                                            # from the repository root: install, then serve
    VISCODER2_BASE_URL=http://localhost:8000/v1 VISCODER2_MODEL=TIGER-Lab/VisCoder2-7B python app.py

Settings are environment variables (see viscoder2_space/_config.py and the README).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

# Before gradio is imported: no usage reports from a public demo.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from viscoder2_space import Resources, SpaceConfig, build_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = SpaceConfig.from_env()
    resources = Resources(config)
    log = logging.getLogger("viscoder2")
    if resources.sandbox.ok:
        log.info("render sandbox: ok")
    else:
        log.warning("render sandbox unavailable, rendering disabled: %s", resources.sandbox.message)
    demo = build_app(resources)
    try:
        demo.launch(
            server_name=config.host,
            server_port=config.port,
            allowed_paths=[str(demo.work_root)],
            show_error=False,
        )
    finally:
        resources.close()


if __name__ == "__main__":
    main()
