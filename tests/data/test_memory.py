"""Windows are views: windowing a large frame allocates about the input's size, not 60x."""

import tracemalloc

import numpy as np
import pandas as pd

from rnncast.data import Windowizer


def traced_peak(call) -> tuple[object, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - start


def test_windowing_a_million_rows_allocates_at_most_twice_the_input():
    rows, columns = 1_000_000, ["open", "high", "low", "close", "volume"]
    rng = np.random.default_rng(0)
    values = np.exp(rng.normal(0, 0.01, (rows, len(columns))).cumsum(axis=0))  # float64
    frame = pd.DataFrame(
        values,
        columns=columns,
        index=pd.date_range("1900-01-01", periods=rows, freq="D", name="date"),
    )
    win = Windowizer(lookback=60, features=columns)

    (X, _y), peak = traced_peak(lambda: win.fit_transform(frame))

    assert X.shape == (rows - 60, 60, 5)
    assert peak <= 2 * values.nbytes, f"peak {peak / 1e6:.0f} MB for {values.nbytes / 1e6:.0f} MB"
    assert X.nbytes == 60 * (rows - 60) * 5 * 4  # the windows it represents: 60x the rows...
    assert peak < X.nbytes / 10  # ...which were never materialised


def test_windowing_many_tickers_stays_within_twice_the_float32_input():
    tickers, rows, columns = 200, 5000, ["open", "high", "low", "close", "volume"]
    rng = np.random.default_rng(1)
    values = np.exp(rng.normal(0, 0.01, (tickers * rows, len(columns))).cumsum(axis=0))
    dates = pd.bdate_range("1990-01-01", periods=rows, name="date")
    frame = pd.DataFrame(values, columns=columns, index=np.tile(dates, tickers))
    frame.index.name = "date"
    frame.insert(0, "ticker", np.repeat([f"T{i:03d}" for i in range(tickers)], rows))
    float32_input = tickers * rows * len(columns) * 4

    (X, _), peak = traced_peak(
        lambda: Windowizer(lookback=60, features=columns).fit_transform(frame)
    )

    assert len(X) == tickers * (rows - 60)
    assert peak <= 2 * float32_input, f"peak {peak / float32_input:.2f} x the float32 input"
