"""The Forecaster on a universe: one global model trained on many tickers' windows.

A long frame (a ``ticker`` column, or a ``(ticker, date)`` MultiIndex turned
into one by :func:`to_long`) trains **one** network on the windows of every
ticker. Each ticker keeps its own feature and target scalers, fitted on its
training rows only, so the network sees every series on the same scale (for
the default log-return features and target: in units of that ticker's
volatility) and has no input that says which ticker a window comes from. This
is the pooled global model of DeepAR and N-BEATS: the network learns the
dynamics the series share, and a new listing with a few months of history is
forecast like the others. See docs/forecasting.md, "Many tickers".

Rules:

* Windows never cross tickers; tickers that start late or stop early
  simply have fewer windows.
* A ticker with too few rows for one window is skipped with a
  ``UserWarning`` naming it, never silently; if no ticker has enough rows,
  a ``DataError`` names the lookback.
* ``predict`` and ``predict_next`` return frames indexed by ``(ticker,
  date)``; ``predict_next`` runs one forward pass over the last window of
  every ticker.
* Prediction intervals are split-conformal **per ticker**, on that ticker's
  calibration log scores ``|log(actual / forecast)|``: exactly the
  one-series method applied to each ticker, so a volatile stock gets a wide
  band and a utility a narrow one.

Example:
    >>> import pandas as pd, rnncast as rc
    >>> from rnncast.layers import LSTM, Dense
    >>> frames = [rc.datasets.load_sample(t).iloc[-400:].assign(ticker=t) for t in ("IBM", "MSFT")]
    >>> universe = pd.concat(frames)
    >>> train, val, test = rc.data.chronological_split(universe)
    >>> fc = rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0)
    >>> fc = fc.fit(train, validation=val, epochs=1, verbose=0)
    >>> next_days = fc.predict_next(universe, days=1)
    >>> next_days.index.names, next_days.index.get_level_values("ticker").tolist()
    (FrozenList(['ticker', 'date']), ['IBM', 'MSFT'])
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rnncast._internal.windows import Windows
from rnncast.data.calendar import next_trading_days
from rnncast.data.features import feature_columns, max_lag, parse_features
from rnncast.data.validation import TICKER_COLUMN, iter_tickers
from rnncast.data.windowizer import ticker_spans
from rnncast.exceptions import ArtifactError, ConfigError, DataError, NotFittedError
from rnncast.forecasting.conformal import _EPS, check_coverage, min_calibration_size
from rnncast.forecasting.diagnostics import learned_only_the_mean
from rnncast.forecasting.intervals import (
    RECURSIVE_CALIBRATION_STEPS,
    calibration_scores,
    check_method,
    mc_dropout_band,
)

LEVELS = ("ticker", "date")
"""Index level names of every universe forecast frame."""


class Batch(NamedTuple):
    """Windows of several tickers ready to forecast, and what each one needs."""

    X: Windows  # (n, lookback, F), gathered on demand
    base: np.ndarray  # (n,) last known price of each window
    dates: np.ndarray  # (n,) date of step 1
    tickers: np.ndarray  # (n,) ticker of each window


def to_long(frame: Any) -> Any:
    """The long-frame convention from a ``(ticker, date)`` MultiIndex frame; others unchanged.

    Example:
        >>> import pandas as pd
        >>> dates = pd.to_datetime(["2024-01-02", "2024-01-03"])
        >>> index = pd.MultiIndex.from_product([["A", "B"], dates], names=["ticker", "date"])
        >>> long = to_long(pd.DataFrame({"close": [1.0, 2.0, 3.0, 4.0]}, index=index))
        >>> long.index.name, long["ticker"].tolist()
        ('date', ['A', 'A', 'B', 'B'])
    """
    if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.MultiIndex):
        return frame
    names = list(frame.index.names)
    if frame.index.nlevels != 2 or set(names) != set(LEVELS):
        raise DataError(
            f"a MultiIndex frame needs the two levels {list(LEVELS)}, got {names}; "
            "or pass a long frame indexed by date with a 'ticker' column."
        )
    if TICKER_COLUMN in frame.columns:
        raise DataError("the frame has both a 'ticker' index level and a 'ticker' column.")
    long = frame.reset_index(TICKER_COLUMN)
    long.index = pd.DatetimeIndex(long.index, name="date")
    return long


def is_universe(frame: Any) -> bool:
    """True for a long frame holding more than one ticker.

    Example:
        >>> import pandas as pd
        >>> is_universe(pd.DataFrame({"ticker": ["A", "B"], "close": [1.0, 2.0]}))
        True
    """
    return (
        isinstance(frame, pd.DataFrame)
        and TICKER_COLUMN in frame.columns
        and frame[TICKER_COLUMN].nunique() > 1
    )


def long_index(tickers: np.ndarray, dates: Any) -> pd.MultiIndex:
    """The ``(ticker, date)`` index of universe forecast frames."""
    return pd.MultiIndex.from_arrays(
        [np.asarray(tickers, dtype=object), pd.DatetimeIndex(dates)], names=list(LEVELS)
    )


def by_ticker(frame: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """``{ticker: rows without the ticker column}`` of a long frame (empty for ``None``)."""
    if frame is None or len(frame) == 0:
        return {}
    return {str(t): rows.drop(columns=TICKER_COLUMN) for t, rows in iter_tickers(frame)}


def _require_long(frame: Any, name: str) -> pd.DataFrame:
    frame = to_long(frame)
    if not isinstance(frame, pd.DataFrame) or TICKER_COLUMN not in frame.columns:
        raise DataError(
            f"this Forecaster was fitted on many tickers, so {name} must be a long frame "
            "with a 'ticker' column (or a (ticker, date) index), e.g. "
            "frame.assign(ticker='AAPL')."
        )
    return frame


def _warn_skipped(tickers: list[str], why: str) -> None:
    if tickers:
        shown = ", ".join(repr(t) for t in tickers[:20])
        more = f" and {len(tickers) - 20} more" if len(tickers) > 20 else ""
        warnings.warn(f"skipping ticker(s) {shown}{more}: {why}.", UserWarning, stacklevel=4)


def split_calibration_dates(
    validation: pd.DataFrame, calibration: float, lookback: int
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """:func:`~rnncast.forecasting.intervals.split_calibration` for a long frame, by dates.

    The last ``calibration`` share of the validation *dates* calibrates the
    intervals, so every ticker is cut on the same date.

    Example:
        >>> import pandas as pd
        >>> dates = pd.bdate_range("2024-01-01", periods=10, name="date")
        >>> rows = pd.concat([pd.DataFrame({"ticker": t, "close": 1.0}, index=dates) for t in "AB"])
        >>> early, calib = split_calibration_dates(rows, 0.3, lookback=2)
        >>> len(early), len(calib), str(calib.index.min().date())
        (14, 6, '2024-01-10')
    """
    if not 0 <= calibration < 1:
        raise ConfigError(
            f"calibration={calibration!r} must be a share of the validation rows in [0, 1), "
            "e.g. 0.3 (0 turns intervals off)."
        )
    dates = np.unique(validation.index.to_numpy())
    n_calibration = int(np.floor(len(dates) * calibration))
    if n_calibration <= lookback or len(dates) - n_calibration < 1:
        return validation, None
    cut = dates[len(dates) - n_calibration]
    after = validation.index >= cut
    return validation[~after], validation[after]


def fingerprint_universe(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Date range, row count and SHA-256 of the tickers, dates and values trained on."""
    digest = hashlib.sha256(frame.index.asi8.tobytes())
    digest.update("\0".join(map(str, frame[TICKER_COLUMN].to_numpy())).encode())
    digest.update(frame[list(dict.fromkeys(columns))].to_numpy(np.float64).tobytes())
    return {
        "start": str(frame.index.min().date()),
        "end": str(frame.index.max().date()),
        "rows": len(frame),
        "sha256": digest.hexdigest(),
    }


class UniverseMethods:
    """The Forecaster's multi-ticker paths (mixed into :class:`~rnncast.Forecaster`)."""

    @property
    def _is_universe(self) -> bool:
        return getattr(self, "tickers_", None) is not None

    @property
    def _lag(self) -> int:
        return max_lag(parse_features(self.features))

    # ------------------------------------------------------------------ fit
    def _fit_universe(
        self,
        train: pd.DataFrame,
        validation: pd.DataFrame | None,
        calibration: float,
        fit_kwargs: dict[str, Any],
    ) -> Any:
        """One global model on every ticker's training windows (see the module docstring)."""
        train, skipped = self._trainable(train)
        self.windowizer_ = self._new_windowizer()
        X, y = self.windowizer_.fit_transform(train)
        self.tickers_ = list(self.windowizer_.tickers_)
        self.skipped_tickers_ = skipped
        self.model_ = self._build_model(X.shape[2])
        early, calibrate = None, None
        if validation is not None and len(validation):
            validation = _require_long(validation, "validation")
            early, calibrate = split_calibration_dates(validation, calibration, self.lookback)
            need = self.lookback + self._lag + self._window_horizon
            rows = self._forecastable(early, train, need, quiet=skipped, required=False)
            if rows is not None:
                fit_kwargs.setdefault("validation_data", self.windowizer_.transform(rows, train))
        self.history_ = self.model_.fit(X, y, **fit_kwargs)
        self.model_.eval()
        parts = by_ticker(train)
        self.train_info_ = fingerprint_universe(
            train, [*feature_columns(self.features), self.target]
        )
        self.train_ranges_ = {t: _range(rows[self.target]) for t, rows in parts.items()}
        self.train_scale_ = float(
            np.mean(
                [np.mean(np.abs(np.diff(rows[self.target].to_numpy()))) for rows in parts.values()]
            )
        )
        fitted = self.model_.predict(X, batch_size=1024)  # (n, window horizon)
        base = self.windowizer_.base_prices(train)
        tickers = X.tickers
        prices = self.windowizer_.inverse_transform_target(fitted, base=base, ticker=tickers)
        self._check_sane(prices, base, tickers)
        self.learned_nothing_ = learned_only_the_mean(fitted, y)
        self.calibration_scores_ = None
        if calibrate is not None:
            self.calibration_scores_ = self._universe_calibration(
                calibrate, pd.concat([train, early])
            )
        self._train = train
        return self

    def _trainable(self, train: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        """``train`` without the tickers too short for one window (warned about), and those."""
        need = self.lookback + self._lag + self._window_horizon
        sizes = train.groupby(TICKER_COLUMN, sort=False).size()
        short = [str(t) for t, n in sizes.items() if n < need]
        if len(short) == len(sizes):
            raise DataError(
                f"no ticker has enough training rows for one window: each needs {need} "
                f"(lookback={self.lookback} + horizon={self._window_horizon}"
                f"{' + 1 previous row for returns' if self._lag else ''}), the longest has "
                f"{int(sizes.max())}. Use a shorter lookback or more data."
            )
        _warn_skipped(short, f"fewer than {need} training rows, the {need} one window needs")
        return (train[~train[TICKER_COLUMN].isin(short)] if short else train), short

    def _forecastable(
        self,
        frame: pd.DataFrame,
        context: pd.DataFrame | None,
        need: int,
        quiet: Any = (),
        required: bool = True,
    ) -> pd.DataFrame | None:
        """``frame`` without tickers that are unfitted or too short for ``need`` rows (warned).

        Context rows count too, up to the ``lookback + lag`` that reach a window.
        """
        sizes = frame.groupby(TICKER_COLUMN, sort=False).size()
        before = {}
        if context is not None and len(context):
            before = context.groupby(TICKER_COLUMN, sort=False).size().to_dict()
        reach = self.lookback + self._lag
        fitted = set(self.tickers_)
        unfitted = [str(t) for t in sizes.index if str(t) not in fitted]
        short = [
            str(t)
            for t, n in sizes.items()
            if str(t) in fitted and n + min(before.get(t, 0), reach) < need
        ]
        quiet = set(map(str, sizes.index)) if quiet is True else set(quiet)
        _warn_skipped(
            [t for t in unfitted if t not in quiet],
            "not in this Forecaster's training data (no fitted scaler)",
        )
        _warn_skipped(
            [t for t in short if t not in quiet],
            f"fewer than the {need} rows (context included) one forecast needs",
        )
        drop = unfitted + short
        if len(drop) == len(sizes):
            if not required:
                return None
            raise DataError(
                f"no ticker of the frame can be forecast: each needs {need} rows, context "
                f"included (lookback={self.lookback}), and a fitted scaler."
            )
        return frame[~frame[TICKER_COLUMN].isin(drop)] if drop else frame

    # -------------------------------------------------------------- predict
    def _universe_batch(
        self, frame: pd.DataFrame, context: pd.DataFrame | None, steps: int, quiet: Any = ()
    ) -> Batch:
        """Every window of ``frame`` with ``steps`` targets inside it, for all tickers at once."""
        frame = _require_long(frame, "frame")
        if context is not None:
            context = _require_long(context, "context")
        need = self.lookback + self._lag + steps
        frame = self._forecastable(frame, context, need, quiet=quiet)
        X, _ = self.windowizer_.transform(frame, context=context)
        base = self.windowizer_.base_prices(frame, context)
        dates = np.asarray(self.windowizer_.target_dates(frame, context))
        codes = X.ticker_codes  # (n,)
        counts = np.bincount(codes, minlength=len(X.ticker_names))  # windows per ticker
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        position = np.arange(len(codes)) - first[codes]
        keep = position < counts[codes] - (steps - self._window_horizon)
        X = Windows(X.values, X.starts[keep], self.lookback, X.ticker_names, codes[keep])
        return Batch(X, base[keep], dates[keep], X.tickers)

    def _predict_universe(
        self,
        frame: pd.DataFrame,
        context: pd.DataFrame | None,
        steps: int | None = None,
        quiet: Any = (),
    ) -> pd.DataFrame:
        """``predict`` on a long frame: a ``(ticker, date)``-indexed frame of step forecasts."""
        steps = steps or self.horizon
        batch = self._universe_batch(frame, context, steps, quiet)
        prices = self._forecast(batch.X, batch.base, steps, tickers=batch.tickers)
        columns = [f"step_{k + 1}" for k in range(steps)]
        return pd.DataFrame(prices, index=long_index(batch.tickers, batch.dates), columns=columns)

    def _predict_next_universe(
        self,
        frame: pd.DataFrame,
        days: int,
        interval: float | None,
        interval_method: str,
        mc_samples: int,
        ticker: str | list[str] | None,
    ) -> pd.DataFrame:
        """``predict_next`` for every ticker: one batched forward pass over their last windows."""
        need = self.lookback + self._lag
        frame = tails(_require_long(frame, "frame"), need)  # (<= n_tickers * need rows)
        if ticker is not None:
            frame = _pick(frame, ticker)
        frame = self._forecastable(frame, None, need)
        X, names = self.windowizer_.last_windows(frame)  # (k, lookback, F)
        last = frame.groupby(TICKER_COLUMN, sort=False).tail(1)
        last_dates = pd.Series(last.index, index=last[TICKER_COLUMN].astype(str).to_numpy())
        base = last[self.target].set_axis(last_dates.index).loc[names].to_numpy(np.float64)
        tickers = np.asarray(names, dtype=object)
        forecast = self._forecast(X, base, days, tickers=tickers)  # (k, days)
        dates = _next_sessions(last_dates.loc[names], days, self.calendar)  # (k * days,)
        result = pd.DataFrame(
            {"forecast": forecast.ravel()}, index=long_index(np.repeat(tickers, days), dates)
        )
        if interval is not None:
            lower, upper = self._universe_bounds(
                X, base, forecast, tickers, interval, interval_method, mc_samples
            )
            result["lower"], result["upper"] = lower.ravel(), upper.ravel()
        return result

    def _scale_rows(self, rows: np.ndarray, tickers: np.ndarray | None) -> np.ndarray:
        """Scale new input rows ``(n, F)`` with each row's ticker's feature scaler, float32."""
        scalers = self.windowizer_.scalers_
        if tickers is None:
            return scalers[None].transform(rows).astype(np.float32)
        out = np.empty(rows.shape, dtype=np.float32)
        for ticker in pd.unique(tickers):
            chosen = tickers == ticker
            out[chosen] = scalers[ticker].transform(rows[chosen])
        return out

    # ------------------------------------------------------------ intervals
    def _universe_calibration(
        self, rows: pd.DataFrame, context: pd.DataFrame
    ) -> dict[str, np.ndarray] | None:
        """Each ticker's calibration log scores ``(n_t, steps)`` (tickers without rows omitted)."""
        steps = (
            self.horizon
            if self.strategy == "direct"
            else max(self.horizon, RECURSIVE_CALIBRATION_STEPS)
        )
        try:
            forecasts = self._predict_universe(rows, context, steps, quiet=True)
        except DataError:
            return None
        actual = by_ticker(rows)
        return {
            ticker: calibration_scores(part.droplevel(0), actual[ticker][self.target])
            for ticker, part in forecasts.groupby(level=0, sort=False)
        }

    def _ticker_scores(self, ticker: str, steps: int) -> np.ndarray:
        """Calibration scores ``(n, steps)`` of ``ticker`` (0 rows when it had none)."""
        if self.calibration_scores_ is None:
            raise NotFittedError(
                "prediction intervals need calibration rows: pass validation= to fit, long "
                "enough that its last `calibration` share (default 30 %) of the dates holds "
                f"more than lookback={self.lookback} dates."
            )
        width = next(iter(self.calibration_scores_.values())).shape[1]
        if steps > width:
            raise ConfigError(f"intervals are calibrated for {width} steps, not {steps}.")
        scores = self.calibration_scores_.get(ticker)
        return np.empty((0, steps)) if scores is None else scores[:, :steps]

    def _universe_bounds(
        self,
        X: np.ndarray,
        base: np.ndarray,
        forecast: np.ndarray,
        tickers: np.ndarray,
        coverage: float,
        method: str = "conformal",
        samples: int = 100,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-ticker ``(lower, upper)`` ``(n, steps)``, each from its ticker's calibration rows."""
        check_coverage(coverage)
        steps = forecast.shape[1]
        draws = None
        if check_method(method) == "mc_dropout":
            draws = self._mc_dropout(X, base, steps, samples, tickers=tickers)
        lower, upper = np.empty_like(forecast), np.empty_like(forecast)
        missing, few = [], []
        for ticker in pd.unique(tickers):
            rows = tickers == ticker
            scores = self._ticker_scores(ticker, steps)
            if not len(scores):
                lower[rows], upper[rows] = 0.0, np.inf
                missing.append(ticker)
            elif draws is None:
                q = conformal_quantiles(scores, coverage)  # (steps,)
                few += [ticker] if np.isinf(q).any() else []
                lower[rows], upper[rows] = forecast[rows] * np.exp(-q), forecast[rows] * np.exp(q)
            else:
                lower[rows], upper[rows] = mc_dropout_band(
                    forecast[rows], draws[rows], scores, coverage
                )
        for names, why in (
            (missing, "no calibration rows"),
            (few, f"fewer than {min_calibration_size(coverage)} calibration rows"),
        ):
            if names:
                warnings.warn(
                    f"{why} for ticker(s) {names[:20]}: their {coverage:.0%} intervals are "
                    "unbounded; lengthen the validation part or lower the coverage.",
                    UserWarning,
                    stacklevel=3,
                )
        return lower, upper

    # -------------------------------------------------------------- scoring
    def _universe_forecasts(
        self,
        test: pd.DataFrame,
        context: pd.DataFrame | None,
        train: pd.DataFrame | None,
        baselines: list | None,
    ) -> dict[str, dict[str, pd.DataFrame]]:
        """``{ticker: {"model": ..., "naive": ..., baseline: ...}}``, each date-indexed."""
        from rnncast.forecasting.baselines import all_baselines, with_naive

        trains = by_ticker(self._training_rows(train))
        contexts = by_ticker(None if context is None else _require_long(context, "context"))
        tests = by_ticker(_require_long(test, "test"))
        model = self._predict_universe(test, context)
        chosen = (
            baselines
            if baselines is not None
            else all_baselines(self.lookback, self.horizon, self.target)
        )
        result = {}
        for ticker, rows in model.groupby(level=0, sort=False):
            own = {"model": rows.droplevel(0)}
            for baseline in with_naive(chosen, self.lookback, self.horizon, self.target):
                fitted = baseline.fit(trains[ticker])
                predicted = fitted.predict(tests[ticker], context=contexts.get(ticker))
                own[baseline.name] = predicted.loc[own["model"].index]
            result[ticker] = own
        return result

    def scoring_inputs(
        self,
        test: pd.DataFrame,
        forecasts: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
        context: pd.DataFrame | None = None,
        train: pd.DataFrame | None = None,
        interval: float | None = 0.9,
    ) -> dict[str, Any]:
        """The arguments of ``rnncast.evaluate.universe.evaluate_universe``, ticker by ticker.

        For every forecast ticker: the test prices (``actual``), the model's
        and baselines' forecasts (``forecasts``, default
        :meth:`forecasts`), the last price each window knew (``base``), the
        training prices (``train_prices``, MASE's scale) and the conformal
        ``intervals`` (tickers without calibration rows have none): what
        :meth:`score` passes to :func:`rnncast.evaluate.evaluate_forecasts`
        for one series.

        Example:
            >>> import pandas as pd, rnncast as rc
            >>> from rnncast.layers import LSTM, Dense
            >>> frames = [rc.datasets.load_sample(t).iloc[-300:].assign(ticker=t)
            ...           for t in ("IBM", "MSFT")]
            >>> train, val, test = rc.data.chronological_split(pd.concat(frames))
            >>> fc = rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0)
            >>> fc = fc.fit(train, epochs=1, verbose=0)
            >>> inputs = fc.scoring_inputs(test, fc.forecasts(test, val, baselines=[]), val)
            >>> sorted(inputs["forecasts"]["IBM"]), len(inputs["base"]["MSFT"]) == len(test) // 2
            (['model', 'naive'], True)
        """
        self._check_fitted()
        if not self._is_universe:
            raise ConfigError("scoring_inputs is for a Forecaster fitted on many tickers.")
        if forecasts is None:
            forecasts = self._universe_forecasts(test, context, train, None)
        trains = by_ticker(self._training_rows(train))
        tests = by_ticker(_require_long(test, "test"))
        batch = self._universe_batch(test, context, self.horizon, quiet=set(tests))
        base = pd.Series(batch.base, index=long_index(batch.tickers, batch.dates))
        tickers = list(forecasts)
        intervals = None
        if interval is not None and self.calibration_scores_ is not None:
            calibrated = [t for t in tickers if t in self.calibration_scores_]  # others: none
            intervals = {
                t: self._ticker_intervals(t, forecasts[t]["model"], interval) for t in calibrated
            }
        return {
            "actual": {t: tests[t][self.target] for t in tickers},
            "forecasts": {t: dict(forecasts[t]) for t in tickers},
            "base": {t: base.xs(t, level=0).rename_axis("date") for t in tickers},
            "train_prices": {t: trains[t][self.target] for t in tickers},
            "intervals": intervals,
            "interval_level": interval if intervals else None,
            "learned_nothing": self.learned_nothing_,
        }

    def _ticker_intervals(
        self, ticker: str, model: pd.DataFrame, level: float
    ) -> dict[str, dict[str, pd.DataFrame]]:
        """The conformal band around one ticker's test forecasts, as ``score`` builds it."""
        values = model.to_numpy()
        lower, upper = self._universe_bounds(
            values, np.ones(len(values)), values, np.full(len(values), ticker, dtype=object), level
        )
        return {
            "model": {
                "lower": pd.DataFrame(lower, index=model.index, columns=model.columns),
                "upper": pd.DataFrame(upper, index=model.index, columns=model.columns),
            }
        }

    def _score_universe(self, inputs: dict[str, Any]) -> Any:
        from rnncast.evaluate.universe import evaluate_universe

        return evaluate_universe(
            inputs["actual"],
            inputs["forecasts"],
            inputs["base"],
            inputs["train_prices"],
            intervals=inputs["intervals"],
            interval_level=inputs["interval_level"],
            learned_nothing=inputs["learned_nothing"],
        )

    # ---------------------------------------------------------------- state
    def _universe_state(self) -> dict[str, Any]:
        return {
            "tickers": list(self.tickers_),
            "skipped": list(getattr(self, "skipped_tickers_", [])),
            "train_ranges": {t: list(r) for t, r in self.train_ranges_.items()},
        }

    def _load_universe(self, state: dict[str, Any], where: Path) -> None:
        tickers = list(state["tickers"])
        if tickers != list(self.windowizer_.tickers_ or []):
            raise ArtifactError(
                f"{where}: universe.tickers {tickers[:5]} do not match the windowizer's "
                f"tickers {list(self.windowizer_.tickers_ or [])[:5]}; the artifact is damaged."
            )
        missing = [t for t in tickers if t not in self.windowizer_.target_scalers_]
        if missing:
            raise ArtifactError(f"{where}: no fitted scaler for ticker(s) {missing[:5]}.")
        self.tickers_ = tickers
        self.skipped_tickers_ = list(state.get("skipped", []))
        self.train_ranges_ = {t: tuple(r) for t, r in state.get("train_ranges", {}).items()}


def conformal_quantiles(scores: np.ndarray, coverage: float) -> np.ndarray:
    """:func:`~rnncast.forecasting.conformal.conformal_quantile` of every column of ``scores``.

    Example:
        >>> conformal_quantiles(np.arange(1.0, 20.0)[:, None] * [1, 2], 0.9).tolist()
        [18.0, 36.0]
    """
    n = len(scores)  # scores: (n, steps)
    rank = math.ceil((n + 1) * check_coverage(coverage) - _EPS)
    if rank > n:
        return np.full(scores.shape[1], np.inf)
    return np.partition(scores, rank - 1, axis=0)[rank - 1]


def tails(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    """Each ticker's last ``rows`` rows (all of a shorter one), grouped by ticker.

    One pass over the ticker column, then one gather: what ``predict_next``
    needs of a long history, without grouping a million rows.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"ticker": list("AAABB"), "close": [1.0, 2, 3, 4, 5]})
        >>> tails(frame, 2)["close"].tolist()
        [2.0, 3.0, 4.0, 5.0]
    """
    frame, _, starts, ends = ticker_spans(frame)
    first = np.maximum(starts, ends - rows)
    keep = np.concatenate([np.arange(a, b) for a, b in zip(first, ends, strict=True)])
    return frame.iloc[keep]


def diverged_tickers(
    prices: np.ndarray,
    base: np.ndarray,
    tickers: np.ndarray,
    train_ranges: Mapping[str, tuple[float, float]],
    factor: float,
) -> list[str]:
    """Tickers with a forecast that is not finite or ``factor``x outside the prices it knew.

    A ticker's known prices are its training range and the bases of its
    windows (the Forecaster's one-series divergence check, vectorized over tickers).

    Example:
        >>> import numpy as np
        >>> prices = np.array([[101.0], [5000.0]])
        >>> diverged_tickers(prices, np.array([100.0, 100.0]), np.array(["A", "B"]), {}, 10.0)
        ['B']
    """
    prices = np.asarray(prices, dtype=np.float64).reshape(len(base), -1)  # (n, steps)
    base = np.asarray(base, dtype=np.float64)  # (n,)
    codes, names = pd.factorize(np.asarray(tickers, dtype=object))
    low, high = np.full(len(names), np.inf), np.full(len(names), -np.inf)
    finite = np.isfinite(base)
    np.minimum.at(low, codes[finite], base[finite])
    np.maximum.at(high, codes[finite], base[finite])
    known = np.array([train_ranges.get(t, (np.nan, np.nan)) for t in names], dtype=np.float64)
    low, high = np.fmin(low, known[:, 0]), np.fmax(high, known[:, 1])  # (n_tickers,)
    span = factor * np.maximum(np.abs(low), np.abs(high))
    lower = np.where(low > 0, low / factor, -span)
    upper = np.where(low > 0, high * factor, span)
    unknown = ~np.isfinite(low) | ~np.isfinite(high)  # nothing known: check finiteness only
    lower, upper = np.where(unknown, -np.inf, lower), np.where(unknown, np.inf, upper)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(prices) | (prices < lower[codes, None]) | (prices > upper[codes, None])
    return [str(names[c]) for c in pd.unique(codes[bad.any(axis=1)])]


def _range(prices: pd.Series) -> tuple[float, float]:
    values = prices.to_numpy(np.float64)
    return float(np.nanmin(values)), float(np.nanmax(values))


def _pick(frame: pd.DataFrame, ticker: str | list[str]) -> pd.DataFrame:
    wanted = [ticker] if isinstance(ticker, str) else [str(t) for t in ticker]
    names = frame[TICKER_COLUMN].astype(str)
    absent = [t for t in wanted if not (names == t).any()]
    if absent:
        raise DataError(f"ticker(s) {absent} are not in the frame.")
    return frame[names.isin(wanted).to_numpy()]


def _next_sessions(last_dates: pd.Series, days: int, calendar: str) -> pd.DatetimeIndex:
    """The ``days`` sessions after each ticker's last date, flat ``(n_tickers * days,)``."""
    last = last_dates.to_numpy()  # datetime64
    unique, where = np.unique(last, return_inverse=True)
    sessions = np.stack(
        [next_trading_days(pd.Timestamp(d), days, calendar).to_numpy() for d in unique]
    )  # (n_unique, days)
    return pd.DatetimeIndex(sessions[where].ravel(), name="date")
