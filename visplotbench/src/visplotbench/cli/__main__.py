"""``python -m visplotbench.cli``: the same as the ``visplotbench`` command."""

import sys

from visplotbench.cli import main

sys.exit(main())
