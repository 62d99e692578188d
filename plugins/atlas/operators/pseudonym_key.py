"""InstallPseudonymKeyOperator: the pseudonym key from its Airflow connection into the warehouse.

The first task of a source's ``navigate`` stage: dbt's staging models call
``compliance.pseudonym`` for confidential identifiers, which needs the key installed
(:mod:`atlas.pseudonyms`). Run before every build, so a key rotated in the connection or the
secrets backend takes effect on the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import BaseOperator

from atlas.constants import PSEUDONYM_KEY_CONN_ID, WAREHOUSE_CONN_ID
from atlas.hooks import psycopg_connection


class InstallPseudonymKeyOperator(BaseOperator):
    """Install the key of ``pseudonym_key_conn_id`` (its password) in the warehouse.

    :param pseudonym_key_conn_id: the Airflow connection whose password is the key.
    :param warehouse_conn_id: the warehouse connection.
    """

    template_fields: Sequence[str] = ("pseudonym_key_conn_id", "warehouse_conn_id")
    ui_color = "#fde2e4"

    def __init__(
        self,
        *,
        pseudonym_key_conn_id: str = PSEUDONYM_KEY_CONN_ID,
        warehouse_conn_id: str = WAREHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pseudonym_key_conn_id = pseudonym_key_conn_id
        self.warehouse_conn_id = warehouse_conn_id

    def execute(self, context: Any) -> bool:
        from atlas.pseudonyms import install_key, key_from_connection

        key = key_from_connection(self.pseudonym_key_conn_id)
        ti = context.get("ti")
        with psycopg_connection(PostgresHook(postgres_conn_id=self.warehouse_conn_id)) as conn:
            return install_key(
                conn, key, dag_id=getattr(ti, "dag_id", None), run_id=getattr(ti, "run_id", None)
            )
