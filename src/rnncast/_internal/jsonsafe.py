"""Turning results into plain JSON data (one rule for every ``to_dict`` and ``metrics.json``)."""

from __future__ import annotations

import datetime
import math
from typing import Any

import numpy as np
import pandas as pd


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars made Python, NaN/inf made ``None`` and dates made ISO text.

    Dicts (and Series, by index) keep their structure with string keys; tuples
    become lists; anything else that JSON cannot hold becomes its ``str``.

    Example:
        >>> json_safe({"rmse": np.float64(1.5), "p": float("nan"),
        ...            pd.Timestamp("2013-03-01"): np.int64(3)})
        {'rmse': 1.5, 'p': None, '2013-03-01': 3}
    """
    if isinstance(value, dict | pd.Series):
        return {_key(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime.date):  # pd.Timestamp and datetime too
        return (
            value.date().isoformat()
            if isinstance(value, datetime.datetime)
            else (value.isoformat())
        )
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _key(key: Any) -> str:
    safe = json_safe(key)
    return safe if isinstance(safe, str) else str(safe)
