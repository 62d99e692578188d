"""``python -m atlas_dev demo [--regenerate]`` (``make demo``), ``python -m atlas_dev run`` (``make run``).

Airflow's plugin manager imports every ``.py`` file under ``plugins/`` under its bare file name,
so this module may also be imported as ``__main__`` by it: the package check keeps that inert.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and __package__ == "atlas_dev":
    from atlas_dev.demo import main

    sys.exit(main())
