"""``python -m atlas_dev.sample``: see ``atlas_dev.sample.cli``.

Airflow's plugin manager imports every ``.py`` file under ``plugins/`` under its bare file name,
so this module is also imported as ``__main__`` by it: the package check keeps that import inert.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and __package__ == "atlas_dev.sample":
    from atlas_dev.sample.cli import main

    sys.exit(main())
