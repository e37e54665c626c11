"""Shared fixtures: real sample data and small synthetic price frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast as rc

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def make_prices(
    n: int = 300,
    seed: int = 0,
    start: str = "2020-01-01",
    columns: tuple[str, ...] = ("close", "volume"),
) -> pd.DataFrame:
    """A seeded geometric random walk on business days (positive prices)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    data = {
        "open": close * (1 + rng.normal(0, 0.005, n)),
        "close": close,
        "high": close * 1.01,
        "low": close * 0.99,
        "volume": rng.integers(1_000, 10_000, n).astype(float),
    }
    index = pd.bdate_range(start, periods=n, name="date")
    return pd.DataFrame({c: data[c] for c in columns}, index=index)


def make_long(tickers: tuple[str, ...] = ("AAA", "BBB", "CCC"), n: int = 200) -> pd.DataFrame:
    """A long multi-ticker frame: rows grouped by ticker, ascending dates."""
    parts = []
    for i, name in enumerate(tickers):
        part = make_prices(n, seed=i) * (i + 1)  # different price levels per ticker
        part.insert(0, "ticker", name)
        parts.append(part)
    return pd.concat(parts)


@pytest.fixture(scope="session")
def aapl() -> pd.DataFrame:
    return rc.datasets.load_sample("AAPL")


@pytest.fixture
def prices() -> pd.DataFrame:
    return make_prices()


@pytest.fixture
def long_frame() -> pd.DataFrame:
    return make_long()
