"""``ConfigErrorOperator``: the one task of the placeholder DAG of a broken source file."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseOperator

from atlas.exceptions import DagBuildError, SourceConfigError

log = logging.getLogger(__name__)


class ConfigErrorOperator(BaseOperator):
    """Fails with the configuration error of a source file (the task of a placeholder DAG)."""

    ui_color = "#f4a4a4"

    def __init__(self, *, source_file: str, message: str, config_error: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_file = source_file
        self.message = message
        self.config_error = config_error

    def execute(self, context: Any) -> None:
        log.error("%s", self.message)
        if self.config_error:
            raise SourceConfigError.from_message(self.source_file, self.message)
        raise DagBuildError(self.message)
