"""Command line used by the Makefile: ``python -m atlas.cli migrate|status``.

The warehouse is always the Airflow connection ``atlas_warehouse``
(``AIRFLOW_CONN_ATLAS_WAREHOUSE=postgresql://…``), exactly as DAGs see it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from atlas.exceptions import AtlasError

log = logging.getLogger("atlas.cli")


def _migrate(_: argparse.Namespace) -> int:
    from atlas.migrations import migrate, warehouse_dsn

    applied = migrate(warehouse_dsn())
    print(
        f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else " (up to date)")
    )
    return 0


def _status(_: argparse.Namespace) -> int:
    from atlas.migrations import status, warehouse_dsn

    for row in status(warehouse_dsn()):
        print(row)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atlas", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply sql/ migrations to atlas_warehouse").set_defaults(func=_migrate)
    sub.add_parser("status", help="list applied and pending migrations").set_defaults(func=_status)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except AtlasError as exc:
        print(f"atlas {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
