"""The one JSON encoding of source values in payloads: what ``explore.raw_data.payload`` holds.

Connectors convert values orjson cannot serialise with :func:`jsonable`; the COPY writer passes
it as orjson's ``default``, so a value reaches the payload the same way from every path.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` as something orjson serialises the same way everywhere.

    Decimals become strings (no float rounding), dates, times and timestamps ISO 8601 text,
    intervals seconds, UUIDs text, bytes base64; lists and dicts are converted element-wise.
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=str)  # deterministic order
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)
