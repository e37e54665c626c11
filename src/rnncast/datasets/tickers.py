"""Long multi-ticker frames: :func:`select_tickers` picks tickers, :func:`long_frame` joins.

A long frame (the frame convention's "many tickers" form: a ``ticker``
column, rows grouped by ticker) keeps its order; only the rows of the asked
tickers stay. Tickers match in any case (``"msft"`` finds ``MSFT``), and a
ticker the frame lacks is an error naming it and listing the ones it has,
never a silently smaller universe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from rnncast.exceptions import ConfigError, DataError

TICKER_COLUMN = "ticker"
SHOWN = 20  # tickers listed in an error before "... (N in all)"


def select_tickers(
    frame: pd.DataFrame, tickers: Sequence[str], source: str = "the data"
) -> pd.DataFrame:
    """The rows of ``tickers`` in a long frame, in the frame's own (sorted) order.

    Args:
        frame: Long frame with a ``ticker`` column (as :func:`read_csv` gives
            for a multi-ticker file).
        tickers: The tickers to keep, matched exactly or else in any case.
        source: What ``frame`` is, for error messages (e.g. the file name).

    Returns:
        A new frame with the same columns (``ticker`` kept) and only those rows.

    Raises:
        ConfigError: ``tickers`` is not a non-empty list of strings.
        DataError: ``frame`` has no ticker column, or lacks some of ``tickers``
            (all the missing ones are named, and the available ones listed).

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame(
        ...     {"ticker": ["AAPL", "AAPL", "IBM", "MSFT"], "close": [1.0, 2.0, 3.0, 4.0]},
        ...     index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-02", "2024-01-02"]),
        ... )
        >>> select_tickers(frame, ["msft", "AAPL"])["ticker"].tolist()
        ['AAPL', 'AAPL', 'MSFT']
    """
    wanted = check_tickers(tickers)
    if TICKER_COLUMN not in frame.columns:
        raise DataError(
            f"{source} holds one series (no ticker column), so tickers={wanted} cannot pick "
            "from it; leave tickers out, or pass a multi-ticker file."
        )
    names = frame[TICKER_COLUMN].astype(str)
    available = sorted(pd.unique(names))
    by_upper = {name.upper(): name for name in available}
    chosen, missing = [], []
    for ticker in wanted:
        name = ticker if ticker in available else by_upper.get(ticker.upper())
        (chosen if name is not None else missing).append(name if name is not None else ticker)
    if missing:
        raise DataError(
            f"{source} has no rows for {', '.join(map(repr, missing))}; "
            f"available: {describe_tickers(available)}."
        )
    return frame[names.isin(chosen).to_numpy()]


def long_frame(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Single-series frames as one long frame: ``ticker`` first, tickers in sorted order.

    Example:
        >>> import pandas as pd
        >>> day = pd.DatetimeIndex(["2024-01-02"], name="date")
        >>> one = pd.DataFrame({"close": [1.0]}, index=day)
        >>> long_frame({"MSFT": one, "AAPL": one * 2}).to_dict("list")
        {'ticker': ['AAPL', 'MSFT'], 'close': [2.0, 1.0]}
    """
    parts = [frames[name].assign(**{TICKER_COLUMN: name}) for name in sorted(frames)]
    frame = pd.concat(parts)
    return frame[[TICKER_COLUMN, *(c for c in frame.columns if c != TICKER_COLUMN)]]


def check_tickers(tickers: object) -> list[str]:
    """``tickers`` as a list of distinct stripped strings, or a ``ConfigError``.

    Example:
        >>> check_tickers(["AAPL", " msft ", "AAPL"])
        ['AAPL', 'msft']
    """
    if isinstance(tickers, str) or not isinstance(tickers, Sequence) or not tickers:
        raise ConfigError(
            f"tickers must be a non-empty list of ticker symbols, e.g. ['AAPL', 'MSFT'], "
            f"got {tickers!r}."
        )
    if not all(isinstance(t, str) and t.strip() for t in tickers):
        raise ConfigError(f"tickers must be non-empty strings, got {list(tickers)!r}.")
    return list(dict.fromkeys(t.strip() for t in tickers))


def describe_tickers(names: Sequence[str]) -> str:
    """The first :data:`SHOWN` names, then how many there are in all.

    Example:
        >>> describe_tickers(["A", "B"])
        'A, B'
    """
    more = f", ... ({len(names)} in all)" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more
