"""Sliding windows without copies: a numpy view for one series, a gather object for many."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def window_view(values: np.ndarray, lookback: int, count: int) -> np.ndarray:
    """Read-only view of the first ``count`` windows of ``values``.

    Args:
        values: ``(n_rows, n_features)`` array, ideally C-contiguous.
        lookback: Rows per window.
        count: Number of windows (window ``i`` covers rows ``i .. i+lookback-1``).

    Returns:
        ``(count, lookback, n_features)`` view sharing memory with ``values``.

    Example:
        >>> import numpy as np
        >>> X = window_view(np.arange(10.0).reshape(5, 2), lookback=3, count=2)
        >>> X.shape, np.shares_memory(X, X.base)
        ((2, 3, 2), True)
    """
    views = sliding_window_view(values, (lookback, values.shape[1]))  # (n-lb+1, 1, lb, F)
    return views[:count, 0]


class Windows:
    """Windows over several series stored in one contiguous array, gathered on demand.

    Windows of a multi-ticker frame cannot be a single strided view (they must
    not cross from one ticker to the next), so this object keeps one
    ``(n_rows, n_features)`` float32 array and the start row of every window.
    Indexing gathers just the windows asked for, so a training batch costs a
    batch-sized copy and the full ``(n, lookback, n_features)`` tensor is never
    built unless you ask for it with ``np.asarray(windows)``.

    Attributes:
        values: ``(n_rows, n_features)`` scaled inputs of every series, back to back.
        starts: int64 ``(n_windows,)`` first row of each window in ``values``.
        lookback: Rows per window.
        tickers: ``(n_windows,)`` ticker of each window (built on access from
            ``ticker_names`` and the int32 ``ticker_codes``, so a million windows
            do not carry a million strings).

    Example:
        >>> import numpy as np
        >>> w = Windows(np.arange(12.0).reshape(6, 2), np.array([0, 3]), 2, np.array(["A", "B"]))
        >>> w.shape, w[1].tolist()
        ((2, 2, 2), [[6.0, 7.0], [8.0, 9.0]])
    """

    ndim = 3

    def __init__(
        self,
        values: np.ndarray,
        starts: np.ndarray,
        lookback: int,
        tickers: np.ndarray,
        codes: np.ndarray | None = None,
    ) -> None:
        self.values = values
        self.starts = np.asarray(starts, dtype=np.int64)
        self.lookback = int(lookback)
        if codes is None:  # one name per window
            names, codes = np.unique(np.asarray(tickers), return_inverse=True)
        else:  # the distinct names, and each window's index into them
            names = np.asarray(tickers)
        self.ticker_names = names
        self.ticker_codes = np.asarray(codes, dtype=np.int32)
        self._offsets = np.arange(self.lookback)

    @property
    def tickers(self) -> np.ndarray:
        """The ticker of every window, ``(n_windows,)``."""
        return self.ticker_names[self.ticker_codes]

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_windows, lookback, n_features)``, like the equivalent array."""
        return (len(self.starts), self.lookback, self.values.shape[1])

    @property
    def dtype(self) -> np.dtype:
        """Element type of the gathered windows (float32)."""
        return self.values.dtype

    @property
    def nbytes(self) -> int:
        """Bytes actually held (the shared rows and start indices, not the windows)."""
        return self.values.nbytes + self.starts.nbytes

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int | slice | np.ndarray) -> np.ndarray:
        """Gather windows: an int gives ``(lookback, F)``, anything else ``(k, lookback, F)``."""
        starts = self.starts[index]
        rows = np.asarray(starts)[..., None] + self._offsets  # (..., lookback)
        return self.values[rows]

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        gathered = self[:]
        return gathered if dtype is None else gathered.astype(dtype, copy=False)

    def __repr__(self) -> str:
        n_tickers = len(self.ticker_names)
        return f"Windows(shape={self.shape}, tickers={n_tickers}, dtype={self.dtype})"
