"""Atlas: a governed medallion pipeline (explore → chart → navigate) on Airflow 3 and PostgreSQL."""

from __future__ import annotations

__version__ = "0.1.0"
