"""The price columns every loader returns, and the finishing step they share.

:func:`finish` validates a frame (naming its source in errors) and then, when
asked, scales open/high/low/close by ``adj_close / close`` with
:func:`adjust_ohlc`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rnncast.data.validation import check_jumps
from rnncast.data.validation import validate as _validate
from rnncast.exceptions import DataError

OHLC = ("open", "high", "low", "close")
COLUMNS = (*OHLC, "adj_close", "volume")


def adjust_ohlc(frame: pd.DataFrame) -> pd.DataFrame:
    """Scale open/high/low/close by ``adj_close / close`` (split and dividend adjustment).

    Example:
        >>> import pandas as pd
        >>> raw = pd.DataFrame({"open": [100.0], "high": [110.0], "low": [90.0],
        ...                     "close": [100.0], "adj_close": [50.0], "volume": [1.0]})
        >>> adjust_ohlc(raw)["high"].tolist()
        [55.0]
    """
    ratio = frame["adj_close"] / frame["close"]  # (rows,)
    adjusted = frame.copy()
    for column in OHLC:
        if column in adjusted.columns:
            adjusted[column] = frame[column] * ratio
    return adjusted


def finish(
    frame: pd.DataFrame,
    source: str,
    *,
    adjusted: bool,
    validate: bool = True,
    fill: str | None = None,
    required: Sequence[str] | None = None,
    allow_jumps: bool = False,
) -> pd.DataFrame:
    """Validate (naming ``source`` in errors), then adjust OHLC when asked and possible.

    ``required`` are the columns that must be complete (None: the columns of
    :data:`COLUMNS` present). One-day jumps are checked after the adjustment,
    on the closes the caller gets (on ``adj_close`` only when raw prices are
    asked for with ``adjusted=False``: their splits are expected).
    """
    if required is None:
        required = [c for c in COLUMNS if c in frame.columns]
    try:
        if validate:
            frame = _validate(frame, fill=fill, columns=required, allow_jumps=True)
        if adjusted and "adj_close" in frame.columns:
            frame = adjust_ohlc(frame)
        closes = [c for c in required if c in ("close", "adj_close")]
        if not adjusted and "adj_close" in closes:
            closes = ["adj_close"]  # raw closes asked for explicitly: splits are expected there
        if validate and not allow_jumps:
            check_jumps(frame, closes)
    except DataError as err:
        raise DataError(f"{source}: {err}") from err
    return frame
