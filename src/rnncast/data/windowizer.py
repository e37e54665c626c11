"""Windowizer: price frames in, ``(X, y)`` windows out, with scalers fitted on train rows only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnncast._internal.checks import positive_int
from rnncast._internal.windows import Windows, window_view
from rnncast.data.features import Feature, check_positive, feature_rows, max_lag, parse_features
from rnncast.data.scalers import SCALERS, Scaler
from rnncast.data.targets import check_transform, make_targets, to_price
from rnncast.data.validation import TICKER_COLUMN, check_dates, check_index, iter_tickers
from rnncast.exceptions import ConfigError, DataError, NotFittedError, ShapeError

SCOPES = ("per_ticker", "global")
_CHUNK_ROWS = 1 << 16  # rows scaled at a time, so no float64 copy of a whole frame is made


@dataclass
class _Segment:
    """One ticker's rows: ``context`` (at most ``lookback`` earlier rows) then ``part``."""

    ticker: str | None
    context: pd.DataFrame
    part: pd.DataFrame

    def __len__(self) -> int:
        return len(self.context) + len(self.part)


class Windowizer:
    """Cut price frames into scaled ``(X, y)`` windows without looking ahead.

    ``fit(train)`` learns the scalers from training rows only. ``transform``
    then turns any part into windows: ``X[i]`` holds ``lookback`` consecutive
    rows of ``features`` and ``y[i]`` the next ``horizon`` values of
    ``target`` (after ``target_transform`` and scaling). With
    ``context=previous_part`` the last ``lookback`` rows of the previous part
    serve as inputs of the first windows, so the first target is the part's
    first row; targets always lie inside the part.

    A feature may transform its column (:mod:`rnncast.data.features`):
    ``"close:log_return"``, ``"close:return"``, ``"close:diff"``,
    ``"volume:log"`` (plain ``"close"`` is the level). Returns and
    differences of row ``t`` use row ``t-1``, taken from the context (one
    extra context row is kept for it); without context the first row of the
    part has no input and only serves as the previous row, so there is one
    window fewer. The transforms are computed per ticker, and the scalers are
    fitted on the transformed training rows.

    Single series give ``X`` as a read-only numpy view
    ``(n_windows, lookback, n_features)`` (no copy per window); frames with a
    ``ticker`` column give a :class:`~rnncast.data.Windows` object whose
    windows never cross from one ticker to the next. ``X`` is float32, and so
    is ``y`` ``(n_windows, horizon)``; targets are computed in float64 first.

    Args:
        lookback: Rows per input window (Keras tutorials: 60).
        horizon: Steps ahead to forecast; ``y`` has one column per step.
        features: Input columns, each ``"column"`` or ``"column:transform"``
            with transform ``level``, ``log``, ``return``, ``log_return`` or
            ``diff``; default ``[target]``.
        target: The column to forecast.
        scaler: ``"minmax"``, ``"standard"``, ``"robust"`` or ``None``; applied
            to every feature and, separately, to the target.
        target_transform: ``"price"``, ``"return"``, ``"log_return"`` or
            ``"diff"`` (see :mod:`rnncast.data.targets`).
        scaler_scope: For multi-ticker frames, ``"per_ticker"`` (one scaler
            per ticker) or ``"global"`` (one for all); ignored for one series.

    Attributes:
        n_features_in_: Number of input features, set by :meth:`fit`.
        feature_names_in_: Input column names, set by :meth:`fit`.
        tickers_: Tickers seen in training (``None`` for a single series).
        scalers_: Feature scaler per ticker (key ``None`` for one scaler).
        target_scalers_: Target scaler per ticker (key ``None`` for one scaler).

    Example:
        >>> import rnncast as rc
        >>> frame = rc.datasets.load_sample("AAPL")
        >>> train, val, test = rc.data.chronological_split(frame)
        >>> win = rc.data.Windowizer(lookback=60, features=["close", "volume"])
        >>> X_train, y_train = win.fit_transform(train)
        >>> X_val, y_val = win.transform(val, context=train)
        >>> X_val.shape[1:], y_val.shape[1]
        ((60, 2), 1)
        >>> prices = win.inverse_transform_target(y_val)   # back to price units
        >>> bool(abs(prices[0, 0] - val["close"].iloc[0]) < 1e-3)
        True
        >>> win = rc.data.Windowizer(lookback=60, features=["close:log_return", "volume:log"])
        >>> X_val, y_val = win.fit(train).transform(val, context=train)
        >>> X_val.shape, len(y_val) == len(val)
        ((490, 60, 2), True)
    """

    def __init__(
        self,
        lookback: int,
        horizon: int = 1,
        features: list[str] | str | None = None,
        target: str = "close",
        scaler: str | None = "minmax",
        target_transform: str = "price",
        scaler_scope: str = "per_ticker",
    ) -> None:
        if scaler not in SCALERS:
            raise ConfigError(f"scaler={scaler!r} is not supported; use one of {SCALERS}.")
        if scaler_scope not in SCOPES:
            raise ConfigError(f"scaler_scope={scaler_scope!r} is not supported; use {SCOPES}.")
        self.lookback = positive_int(lookback, "lookback")
        self.horizon = positive_int(horizon, "horizon")
        self.features = features
        self.target = target
        parse_features(self.feature_list)  # a bad spec fails here, not at fit time
        self.scaler = scaler
        self.target_transform = check_transform(target_transform)
        self.scaler_scope = scaler_scope

    @property
    def feature_list(self) -> list[str]:
        """The input columns (``features`` as a list; ``[target]`` when not given)."""
        if self.features is None:
            return [self.target]
        return [self.features] if isinstance(self.features, str) else list(self.features)

    @property
    def _specs(self) -> list[Feature]:
        return parse_features(self.feature_list)

    @property
    def _columns(self) -> list[str]:
        """Raw columns the features read, then the target."""
        return list(dict.fromkeys([*(f.column for f in self._specs), self.target]))

    @property
    def _lag(self) -> int:
        """Rows before a window's first input that its returns/differences need (0 or 1)."""
        return max_lag(self._specs)

    # ------------------------------------------------------------------ fit
    def fit(self, train: pd.DataFrame) -> Windowizer:
        """Fit feature and target scalers on the training rows only.

        Args:
            train: Training part (single series, or long frame with ``ticker``).

        Returns:
            ``self``.
        """
        segments = self._segments(train, context=None, fitting=True)
        for segment in segments:
            self._count(segment)
        self.tickers_ = None if segments[0].ticker is None else [s.ticker for s in segments]
        groups = self._fit_groups(segments)
        self.scalers_ = {
            key: Scaler(self.scaler).fit(_stack([self._feature_values(s) for s in group]))
            for key, group in groups.items()
        }
        self.target_scalers_ = {
            key: Scaler(self.scaler).fit(
                np.concatenate([self._raw_targets(s).reshape(-1, 1) for s in group])
            )
            for key, group in groups.items()
        }
        self.n_features_in_ = len(self.feature_list)
        self.feature_names_in_ = np.array(self.feature_list, dtype=object)
        return self

    def fit_transform(self, train: pd.DataFrame) -> tuple[np.ndarray | Windows, np.ndarray]:
        """``fit(train)`` then ``transform(train)``."""
        return self.fit(train).transform(train)

    def _fit_groups(self, segments: list[_Segment]) -> dict[str | None, list[_Segment]]:
        if segments[0].ticker is None or self.scaler_scope == "global":
            return {None: segments}
        return {s.ticker: [s] for s in segments}

    def _raw_targets(self, segment: _Segment) -> np.ndarray:
        """Unscaled training targets used to fit the target scaler."""
        prices = _values(segment.part, [self.target])[:, 0]
        if self.target_transform == "price":
            return prices
        first = self._first_targets(self._count(segment))
        return make_targets(prices, first, self.horizon, self.target_transform)

    # ------------------------------------------------------------ transform
    def transform(
        self, part: pd.DataFrame, context: pd.DataFrame | None = None
    ) -> tuple[np.ndarray | Windows, np.ndarray]:
        """Cut ``part`` into scaled windows ``(X, y)``.

        Args:
            part: Rows whose targets are wanted (e.g. the validation part).
            context: Rows that come before ``part`` (e.g. train for val);
                its last ``lookback`` rows are inputs of the first windows.
                Without it, the first ``lookback`` rows of ``part`` are only
                inputs.

        Returns:
            ``X`` float32 ``(n_windows, lookback, n_features)`` (numpy view,
            or :class:`Windows` for multi-ticker frames) and ``y`` float32
            ``(n_windows, horizon)``.
        """
        self._check_fitted()
        segments = self._segments(part, context)
        counts = [self._count(s) for s in segments]
        n_rows = sum(len(s) - self._lag for s in segments)  # rows that have inputs
        buffer = np.empty((n_rows, len(self.feature_list)), dtype=np.float32)
        y = np.empty((sum(counts), self.horizon), dtype=np.float32)  # filled per segment
        starts = np.empty(sum(counts), dtype=np.int64)
        offset = done = 0
        for segment, count in zip(segments, counts, strict=True):
            key = self._key(segment.ticker)
            size = len(segment) - self._lag
            self._scale_into(buffer[offset : offset + size], segment, self.scalers_[key])
            first = self._first_targets(count)
            raw = make_targets(
                self._target_prices(segment), first, self.horizon, self.target_transform
            )
            y[done : done + count] = self.target_scalers_[key].transform(raw)
            starts[done : done + count] = offset + np.arange(count)
            offset, done = offset + size, done + count
        if segments[0].ticker is None:
            return window_view(buffer, self.lookback, counts[0]), y
        codes = np.repeat(np.arange(len(segments), dtype=np.int32), counts)  # (n_windows,)
        names = np.array([s.ticker for s in segments], dtype=object)
        return Windows(buffer, starts, self.lookback, names, codes), y

    def inverse_transform_target(
        self, y: np.ndarray, base: np.ndarray | None = None, ticker: object = None
    ) -> np.ndarray:
        """Map scaled targets (or forecasts) back to prices, float64.

        Args:
            y: ``(n_windows, horizon)`` or ``(n_windows,)`` scaled values,
                e.g. ``model.predict(X)``.
            base: Base price per window, needed for ``return``,
                ``log_return`` and ``diff`` targets: use
                ``base_prices(part, context)`` with the same arguments that
                cut the windows.
            ticker: Ticker of each window (array) or of all windows (str);
                needed only for multi-ticker data with per-ticker scalers
                (``X.tickers`` holds it).

        Returns:
            Prices with the shape of ``y``.

        Example:
            >>> import rnncast as rc
            >>> frame = rc.datasets.load_sample("MSFT")
            >>> train, val, test = rc.data.chronological_split(frame)
            >>> win = rc.data.Windowizer(lookback=20, target_transform="log_return").fit(train)
            >>> X, y = win.transform(test, context=val)
            >>> base = win.base_prices(test, context=val)
            >>> prices = win.inverse_transform_target(y, base=base)
            >>> bool(abs(prices[0, 0] - test["close"].iloc[0]) < 1e-4)
            True
        """
        self._check_fitted()
        values = np.asarray(y, dtype=np.float64)
        flat = values.ndim == 1
        values = values.reshape(len(values), -1)  # (n_windows, horizon)
        if values.shape[1] != self.horizon:
            raise ShapeError(
                f"y has {values.shape[1]} columns but horizon={self.horizon}; "
                "pass an array of shape (n_windows, horizon)."
            )
        unscaled = np.empty_like(values)
        for key, rows in self._rows_by_scaler(ticker, len(values)):
            unscaled[rows] = self.target_scalers_[key].inverse_transform(values[rows])
        prices = to_price(unscaled, base, self.target_transform)
        return prices[:, 0] if flat else prices

    def base_prices(self, part: pd.DataFrame, context: pd.DataFrame | None = None) -> np.ndarray:
        """Target value on the last input row of every window, float64 ``(n_windows,)``."""
        self._check_fitted()
        bases = []
        for segment in self._segments(part, context):
            first = self._first_targets(self._count(segment))
            bases.append(self._target_prices(segment)[first - 1])
        return np.concatenate(bases)

    def target_dates(self, part: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.Index:
        """Date of the first forecast step of every window (step ``k`` is ``k-1`` rows later)."""
        self._check_fitted()
        dates = []
        for segment in self._segments(part, context):
            start = self.lookback + self._lag - len(segment.context)
            dates.append(segment.part.index[start : start + self._count(segment)])
        return dates[0].append(dates[1:]) if len(dates) > 1 else dates[0]

    def last_window(self, frame: pd.DataFrame) -> np.ndarray:
        """The scaled inputs of the window that ends on ``frame``'s last row.

        This is the input for forecasting the sessions after the data ends.
        Returns and differences need one more row: ``lookback + 1`` rows.

        Returns:
            float32 ``(1, lookback, n_features)``, equal to the last window
            of ``transform`` over the same rows.
        """
        self._check_fitted()
        if TICKER_COLUMN in frame.columns:
            raise DataError("last_window takes one series; select a ticker first.")
        check_index(frame)
        _check_columns(frame, self._columns, "frame")
        needed = self.lookback + self._lag
        if len(frame) < needed:
            raise DataError(
                f"the frame has {len(frame)} rows but one window needs {needed} "
                f"(lookback={self.lookback}{self._lag_note()})."
            )
        rows = frame.iloc[len(frame) - needed :]
        check_dates(rows.index)
        window = np.empty((self.lookback, len(self.feature_list)), dtype=np.float32)
        self._scale_into(window, _Segment(None, rows.iloc[:0], rows), self.scalers_[None])
        return window[None]  # (1, lookback, n_features)

    def last_windows(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """The window ending on every ticker's last row of a long frame, and the tickers.

        The multi-ticker :meth:`last_window`: each ticker's last
        ``lookback`` (+1 for returns) rows, scaled with that ticker's scalers.

        Returns:
            float32 ``(n_tickers, lookback, n_features)`` and the tickers in
            order of first appearance in ``frame``.

        Example:
            >>> import pandas as pd, rnncast as rc
            >>> frames = [rc.datasets.load_sample(t).iloc[:200] for t in ("IBM", "MSFT")]
            >>> long = pd.concat([f.assign(ticker=t) for f, t in zip(frames, ("IBM", "MSFT"))])
            >>> win = rc.data.Windowizer(lookback=10).fit(long)
            >>> X, tickers = win.last_windows(long)
            >>> X.shape, tickers
            ((2, 10, 1), ['IBM', 'MSFT'])
        """
        self._check_fitted()
        if TICKER_COLUMN not in frame.columns or self.tickers_ is None:
            raise DataError(
                "last_windows takes a long frame with a 'ticker' column from a Windowizer "
                "fitted on one; use last_window for one series."
            )
        _check_columns(frame, self._columns, "frame")
        needed, columns, specs = self.lookback + self._lag, self._columns, self._specs
        frame, names, starts, ends = ticker_spans(frame)
        self._check_seen(names)
        values = _values(frame, columns)  # (n_rows, n_columns) float64, checked once
        check_positive(values, columns, specs, frame.index)
        stamps = frame.index.asi8
        windows = np.empty((len(names), self.lookback, len(self.feature_list)), dtype=np.float32)
        for i, (ticker, start, end) in enumerate(zip(names, starts, ends, strict=True)):
            if end - start < needed:
                raise DataError(
                    f"ticker {ticker!r} has {end - start} rows but one window needs {needed} "
                    f"(lookback={self.lookback}{self._lag_note()})."
                )
            if (np.diff(stamps[end - needed : end]) <= 0).any():
                check_dates(frame.index[end - needed : end], ticker)  # raises, naming the dates
            inputs = feature_rows(values[end - needed : end], columns, specs, self._lag)
            self.scalers_[self._key(ticker)].transform(inputs, out=windows[i])
        return windows, names  # (n_tickers, lookback, n_features)

    def get_params(self) -> dict[str, object]:
        """Constructor arguments (scikit-learn's ``get_params``)."""
        return {
            "lookback": self.lookback,
            "horizon": self.horizon,
            "features": self.features,
            "target": self.target,
            "scaler": self.scaler,
            "target_transform": self.target_transform,
            "scaler_scope": self.scaler_scope,
        }

    def to_dict(self) -> dict[str, object]:
        """Parameters and fitted scalers as JSON-friendly data (for saving)."""
        self._check_fitted()
        return {
            "params": self.get_params(),
            "tickers": self.tickers_,
            "scalers": {str(k): s.to_dict() for k, s in self.scalers_.items()},
            "target_scalers": {str(k): s.to_dict() for k, s in self.target_scalers_.items()},
        }

    @classmethod
    def from_dict(cls, state: dict) -> Windowizer:
        """Rebuild a fitted Windowizer from :meth:`to_dict` output."""
        win = cls(**state["params"])
        win.tickers_ = state["tickers"]

        def key(name: str) -> str | None:
            return None if name == "None" else name

        win.scalers_ = {key(k): Scaler.from_dict(v) for k, v in state["scalers"].items()}
        win.target_scalers_ = {
            key(k): Scaler.from_dict(v) for k, v in state["target_scalers"].items()
        }
        win.n_features_in_ = len(win.feature_list)
        win.feature_names_in_ = np.array(win.feature_list, dtype=object)
        return win

    # -------------------------------------------------------------- helpers
    def _segments(
        self, part: pd.DataFrame, context: pd.DataFrame | None, fitting: bool = False
    ) -> list[_Segment]:
        check_index(part)
        _check_columns(part, self._columns, "part")
        if len(part) == 0:
            raise DataError("the part has no rows; check the split that produced it.")
        if not fitting:
            self._check_same_layout(part)
        contexts = self._context_by_ticker(context)
        segments = []
        for ticker, rows in iter_tickers(part):
            check_dates(rows.index, ticker)
            before = contexts.get(ticker, part.iloc[:0])
            if len(before) and before.index[-1] >= rows.index[0]:
                raise DataError(
                    f"context ends on {before.index[-1].date()} but the part starts on "
                    f"{rows.index[0].date()}; context must be the rows before the part "
                    "(e.g. transform(val, context=train))."
                )
            keep = self.lookback + self._lag  # context rows that can reach a window
            segments.append(
                _Segment(
                    ticker,
                    before.iloc[len(before) - keep :] if len(before) > keep else before,
                    rows,
                )
            )
        if not fitting:
            self._check_seen([s.ticker for s in segments])
        return segments

    def _context_by_ticker(self, context: pd.DataFrame | None) -> dict:
        if context is None or len(context) == 0:
            return {}
        check_index(context)
        _check_columns(context, self._columns, "context")
        return dict(iter_tickers(context))

    def _check_same_layout(self, part: pd.DataFrame) -> None:
        multi = TICKER_COLUMN in part.columns
        if multi != (self.tickers_ is not None):
            fitted = "a multi-ticker" if self.tickers_ is not None else "a single-series"
            raise DataError(
                f"this Windowizer was fitted on {fitted} frame; transform a frame "
                f"of the same kind ('{TICKER_COLUMN}' column present or not)."
            )

    def _check_seen(self, tickers: list[str | None]) -> None:
        if self.tickers_ is not None and self.scaler_scope == "per_ticker":
            unseen = sorted(set(tickers) - set(self.tickers_))
            if unseen:
                raise DataError(
                    f"ticker(s) {unseen[:5]} were not in the training data, so they have no "
                    "fitted scaler; include them in train or use scaler_scope='global'."
                )

    def _count(self, segment: _Segment) -> int:
        count = len(segment) - self._lag - self.lookback - self.horizon + 1
        if count < 1:
            where = f" for ticker {segment.ticker!r}" if segment.ticker is not None else ""
            raise DataError(
                f"not enough rows{where}: {len(segment.part)} rows (+{len(segment.context)} "
                f"of context) but one window needs lookback + horizon = "
                f"{self.lookback + self.horizon}{self._lag_note()}. "
                "Use a shorter lookback or more data."
            )
        return count

    def _lag_note(self) -> str:
        if not self._lag:
            return ""
        lagged = [s for s, f in zip(self.feature_list, self._specs, strict=True) if f.lag]
        return f", +1 previous row for {lagged}"

    def _first_targets(self, count: int) -> np.ndarray:
        """Row (in context + part) of each window's first target."""
        return np.arange(count) + self.lookback + self._lag

    def _feature_chunks(self, segment: _Segment):
        """Yield ``(start, float64 inputs (rows, n_features))`` of ``segment``, chunk by chunk.

        Input row ``i`` belongs to row ``i + lag`` of context + part and is
        computed from that row and the ``lag`` rows before it, never later ones.
        """
        specs, columns, lag = self._specs, self._columns, self._lag
        for start in range(0, len(segment) - lag, _CHUNK_ROWS):
            stop = min(start + _CHUNK_ROWS, len(segment) - lag)
            raw = _raw_rows(segment, start, stop + lag, columns, specs)  # (stop - start + lag, C)
            yield start, feature_rows(raw, columns, specs, lag)  # (stop - start, F)

    def _feature_values(self, segment: _Segment) -> np.ndarray:
        """Unscaled float64 inputs of ``segment`` ``(len(segment) - lag, n_features)``."""
        out = np.empty((len(segment) - self._lag, len(self.feature_list)))
        for start, chunk in self._feature_chunks(segment):
            out[start : start + len(chunk)] = chunk
        return out

    def _scale_into(self, out: np.ndarray, segment: _Segment, scaler: Scaler) -> None:
        """Scale the inputs of ``segment`` into ``out`` (bounded float64 temporaries)."""
        for start, chunk in self._feature_chunks(segment):
            scaler.transform(chunk, out=out[start : start + len(chunk)])

    def _target_prices(self, segment: _Segment) -> np.ndarray:
        return np.concatenate(
            [
                _values(segment.context, [self.target])[:, 0],
                _values(segment.part, [self.target])[:, 0],
            ]
        )

    def _key(self, ticker: str | None) -> str | None:
        return None if ticker is None or self.scaler_scope == "global" else ticker

    def _rows_by_scaler(self, ticker: object, n_rows: int):
        """Yield ``(scaler key, row selector)`` pairs covering all ``n_rows``."""
        if self.tickers_ is None or self.scaler_scope == "global":
            yield None, slice(None)
            return
        if ticker is None:
            raise ConfigError(
                "this Windowizer has one target scaler per ticker: pass "
                "ticker=X.tickers (or one ticker name) to inverse_transform_target."
            )
        names = np.broadcast_to(np.asarray(ticker, dtype=object), (n_rows,))
        for name in pd.unique(names):
            if name not in self.target_scalers_:
                raise DataError(f"ticker {name!r} was not in the training data.")
            yield name, names == name

    def _check_fitted(self) -> None:
        if not hasattr(self, "scalers_"):
            raise NotFittedError(
                "this Windowizer is not fitted yet; call fit(train) first "
                "(or fit_transform(train))."
            )

    def __repr__(self) -> str:
        return (
            f"Windowizer(lookback={self.lookback}, horizon={self.horizon}, "
            f"features={self.feature_list}, target={self.target!r}, scaler={self.scaler!r}, "
            f"target_transform={self.target_transform!r})"
        )


def _check_columns(frame: pd.DataFrame, needed: list[str], what: str) -> None:
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise DataError(
            f"the {what} has no column(s) {missing}; its columns are "
            f"{list(frame.columns)}. Choose features/target among them."
        )
    for column in dict.fromkeys(needed):
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise DataError(f"column {column!r} is {frame[column].dtype}, not numeric.")


def ticker_spans(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], np.ndarray, np.ndarray]:
    """``frame`` with each ticker's rows together, its tickers and their row spans.

    One pass over the ticker column; an interleaved frame is regrouped
    stably (tickers in order of first appearance, dates kept in order).

    Example:
        >>> frame = pd.DataFrame({"ticker": list("ABAB"), "close": [1.0, 2.0, 3.0, 4.0]})
        >>> grouped, names, starts, ends = ticker_spans(frame)
        >>> grouped["close"].tolist(), names, starts.tolist(), ends.tolist()
        ([1.0, 3.0, 2.0, 4.0], ['A', 'B'], [0, 2], [2, 4])
    """
    names = frame[TICKER_COLUMN].to_numpy()
    change = np.flatnonzero(names[1:] != names[:-1]) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    ends = np.concatenate([change, [len(names)]]).astype(np.int64)
    if len(set(names[starts])) != len(starts):  # interleaved: group stably first
        codes, _ = pd.factorize(names, sort=False)
        return ticker_spans(frame.iloc[np.argsort(codes, kind="stable")])
    return frame, [str(n) for n in names[starts]], starts, ends


def _values(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """float64 ``(n_rows, n_columns)`` copy, checked for NaN/inf."""
    values = rows[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    _check_finite(values, rows, columns, 0)
    return values


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    """``np.vstack`` without the copy when there is one array."""
    return arrays[0] if len(arrays) == 1 else np.vstack(arrays)


def _raw_rows(
    segment: _Segment, start: int, stop: int, columns: list[str], specs: list[Feature]
) -> np.ndarray:
    """float64 ``(stop - start, n_columns)`` of rows ``start:stop`` of context + part, checked."""
    n_context = len(segment.context)
    pieces = []
    for rows, lo, hi in (
        (segment.context, start, min(stop, n_context)),
        (segment.part, max(start - n_context, 0), stop - n_context),
    ):
        if hi > lo:
            values = _values(rows.iloc[lo:hi], columns)
            check_positive(values, columns, specs, rows.index[lo:hi])
            pieces.append(values)
    return _stack(pieces)


def _check_finite(values: np.ndarray, rows: pd.DataFrame, columns: list[str], offset: int) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"column {columns[col]!r} is NaN or infinite on {rows.index[offset + row].date()}; "
            "run rc.data.validate(frame, fill='ffill') or drop those rows first."
        )
