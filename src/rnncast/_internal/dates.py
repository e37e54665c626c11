"""Parsing date arguments with errors that name the argument."""

from __future__ import annotations

import pandas as pd

from rnncast.exceptions import ConfigError


def to_timestamp(value: object, name: str) -> pd.Timestamp:
    """``pd.Timestamp(value)``, or ``ConfigError`` naming ``name`` when it is not a date.

    Example:
        >>> to_timestamp("2013-03-01", "start").date()
        datetime.date(2013, 3, 1)
    """
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{name}={value!r} is not a date; use e.g. '2013-03-01'.") from err
    if stamp is pd.NaT:
        raise ConfigError(f"{name}={value!r} is not a date; use e.g. '2013-03-01'.")
    return stamp
