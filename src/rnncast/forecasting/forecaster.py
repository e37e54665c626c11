"""Forecaster: a Windowizer, a Sequential and the target transform, from frames to dated prices.

Example:
    >>> import rnncast as rc
    >>> from rnncast.layers import LSTM, Dense
    >>> frame = rc.datasets.load_sample("MSFT")
    >>> train, val, test = rc.data.chronological_split(frame)
    >>> fc = rc.Forecaster([LSTM(8), Dense(1)], lookback=20, seed=0)
    >>> fc = fc.fit(train, validation=val, epochs=1, verbose=0)
    >>> fc.predict_next(frame, days=1).index[0].date()
    datetime.date(2013, 3, 4)
"""

from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnncast import optimizers, saving
from rnncast._internal.checks import positive_int
from rnncast.data.calendar import next_trading_days
from rnncast.data.features import feature_columns, next_row, parse_features
from rnncast.data.validation import single_series
from rnncast.data.windowizer import Windowizer
from rnncast.exceptions import (
    ArtifactError,
    ConfigError,
    DataError,
    NotFittedError,
    RnncastError,
    ShapeError,
    TrainingDivergedError,
)
from rnncast.forecasting.diagnostics import learned_only_the_mean
from rnncast.forecasting.intervals import IntervalMethods, split_calibration
from rnncast.forecasting.scoring import ScoringMethods
from rnncast.forecasting.universe import (
    UniverseMethods,
    diverged_tickers,
    is_universe,
    to_long,
)
from rnncast.layers import Layer, serialize
from rnncast.models.devices import place, resolve_device
from rnncast.models.sequential import Sequential
from rnncast.optimizers import Adam

STRATEGIES = ("direct", "recursive")
SANE_FACTOR = 10.0  # a forecast beyond 10x the known prices (or under 1/10) means divergence


class Forecaster(UniverseMethods, IntervalMethods, ScoringMethods):
    """Price frames in, dated price forecasts out: the high-level rnncast object.

    Args:
        model: A :class:`Sequential` (compiled or not), a list of layers (the
            input shape is filled in from ``lookback`` and the features), or a
            ``Sequential.get_config()`` dict. :meth:`fit` trains a copy of a
            given ``Sequential`` (or of the layers), never the caller's object:
            the trained network is ``model_``.
        lookback: Rows per input window.
        horizon: Steps ahead. With ``strategy="direct"`` the model's last layer
            must output ``horizon`` values.
        features: Input columns, each ``"column"`` (the level) or
            ``"column:transform"`` with transform ``log_return``, ``return``,
            ``diff`` or ``log`` (see :mod:`rnncast.data.features`). The
            default ``("close:log_return",)`` is scale-free like the default
            target, so the network can see structure in returns; raw price
            levels (``"close"``) hide it. Returns and differences use the
            previous row, so ``lookback + 1`` rows make the first window.
            The target need not be one of them for ``"direct"``.
        target: The column to forecast.
        target_transform: What the network learns (default ``"log_return"``:
            scale-free and stationary, unlike raw prices).
        scaler: Scaler of features and target, fitted on training rows only.
        strategy: ``"direct"`` (one output per step) or ``"recursive"``
            (a one-step model fed its own forecasts; every feature must read
            the target column, e.g. ``["close:log_return"]``: the next input
            is the feature's transform of the forecast price, e.g.
            ``log(p_k / p_{k-1})``, scaled).
        calendar: Exchange calendar of the forecast dates (exchange-calendars code).
        seed: Seed of the model's weights, shuffling and dropout when ``model``
            is built here (a given ``Sequential`` keeps its own seed).
        device: Where the model trains and predicts: ``"auto"`` (CUDA, then
            MPS, then the CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"``.
            ``None`` (default): ``"auto"`` for a model compiled here, and a
            given compiled model keeps its ``compile(device=...)``. Not saved:
            an artifact loads on any device.

    A model that is already compiled keeps its optimizer and loss; an
    uncompiled one gets ``Adam(learning_rate=1e-3)`` and MSE.

    The Forecaster is a regression tool: it forecasts prices, with a
    regression loss (``mse``, ``mae``, ``huber``, ...). For "will it go up
    tomorrow" classifiers (softmax or sigmoid heads with crossentropy and
    ``metrics=["accuracy"]``) use a :class:`Sequential` directly, as in
    docs/keras.md; a crossentropy loss here is a ``ConfigError``.
    """

    def __init__(
        self,
        model: Sequential | list[Layer] | dict,
        lookback: int,
        horizon: int = 1,
        features: list[str] | tuple[str, ...] | str = ("close:log_return",),
        target: str = "close",
        target_transform: str = "log_return",
        scaler: str | None = "standard",
        strategy: str = "direct",
        calendar: str = "XNYS",
        seed: int | None = None,
        device: str | None = None,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ConfigError(f"strategy={strategy!r} is not supported; use one of {STRATEGIES}.")
        lookback, horizon = positive_int(lookback, "lookback"), positive_int(horizon, "horizon")
        _check_arguments(features, calendar, seed)
        self.features = [features] if isinstance(features, str) else list(features)
        columns = [f.column for f in parse_features(self.features)]
        if strategy == "recursive" and any(column != target for column in columns):
            raise ConfigError(
                f"strategy='recursive' feeds the model its own forecasts of {target!r}, so every "
                f"input must read {target!r}, e.g. [{target + ':log_return'!r}] (got "
                f"{self.features}); other columns have no future values. Use "
                "strategy='direct' for other columns."
            )
        self.model = model
        self.lookback, self.horizon, self.target = int(lookback), int(horizon), target
        self.target_transform, self.scaler, self.strategy = target_transform, scaler, strategy
        self.calendar, self.seed = calendar, seed
        self.device = device if device is None else str(resolve_device(device))

    def _new_windowizer(self) -> Windowizer:
        return Windowizer(
            self.lookback,
            horizon=self._window_horizon,
            features=self.features,
            target=self.target,
            scaler=self.scaler,
            target_transform=self.target_transform,
        )

    @property
    def _window_horizon(self) -> int:
        return self.horizon if self.strategy == "direct" else 1

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        train: pd.DataFrame,
        validation: pd.DataFrame | None = None,
        calibration: float = 0.3,
        **fit_kwargs: Any,
    ) -> Forecaster:
        """Fit scalers on ``train``, build/compile a copy of the model and train it.

        Args:
            train: Training rows: one series, or a long frame of many tickers
                (a ``ticker`` column or a ``(ticker, date)`` index), which
                trains one global model (see :mod:`rnncast.forecasting.universe`).
            validation: The rows after ``train``. Its first part is Keras's
                ``validation_data`` (early stopping, learning-rate schedules);
                its last ``calibration`` share is held out from training and
                early stopping and calibrates the prediction intervals.
            calibration: Share of ``validation`` (its last rows) kept for
                calibrating intervals, in [0, 1); 0 uses all of it for early
                stopping and turns intervals off.
            **fit_kwargs: Passed to :meth:`Sequential.fit` (``epochs``,
                ``batch_size``, ``callbacks``, ``verbose``, ...).

        Returns:
            ``self``.
        """
        train = to_long(train)
        if is_universe(train):
            return self._fit_universe(train, validation, calibration, fit_kwargs)
        train = _check_single(train, "train")
        _check_not_constant(train, self.target)
        self.tickers_ = None
        self.windowizer_ = self._new_windowizer()
        X, y = self.windowizer_.fit_transform(train)
        self.model_ = self._build_model(X.shape[2])
        early, calibrate = None, None
        if validation is not None and len(validation):
            validation = _check_single(validation, "validation")
            early, calibrate = split_calibration(validation, calibration, self.lookback)
            fit_kwargs.setdefault(
                "validation_data", self.windowizer_.transform(early, context=train)
            )
        self.history_ = self.model_.fit(X, y, **fit_kwargs)
        self.model_.eval()  # a fitted forecaster is for inference
        self.train_info_ = fingerprint(train, [*feature_columns(self.features), self.target])
        self.train_scale_ = float(np.mean(np.abs(np.diff(train[self.target].to_numpy()))))
        prices = train[self.target].to_numpy(np.float64)
        self.train_range_ = (float(np.nanmin(prices)), float(np.nanmax(prices)))
        fitted = self.model_.predict(X, batch_size=1024)  # (n, window horizon)
        base = self.windowizer_.base_prices(train)
        self._check_sane(self.windowizer_.inverse_transform_target(fitted, base=base), base)
        self.learned_nothing_ = learned_only_the_mean(fitted, y)
        self.calibration_scores_ = None
        if calibrate is not None:
            self.calibration_scores_ = self._calibration_scores(
                calibrate, pd.concat([train, early])
            )
        self._train = train  # for fitting baselines in evaluate(); not saved
        return self

    def _build_model(self, n_features: int) -> Sequential:
        spec = self.model
        if isinstance(spec, Sequential):
            model = copy.deepcopy(spec)  # the caller's model stays untouched
        elif isinstance(spec, dict):
            model = Sequential.from_config({**spec, "build_input_shape": None})
        elif isinstance(spec, list | tuple) and all(isinstance(x, Layer) for x in spec):
            model = Sequential(copy.deepcopy(list(spec)), seed=self.seed)
        else:
            raise ConfigError(
                "model must be a Sequential, a list of rnncast layers or a "
                f"Sequential config dict, got {type(spec).__name__}."
            )
        if not model.built:
            model.build((None, self.lookback, n_features))
        outputs = model.output_shape[1:]
        if outputs != (self._window_horizon,):
            raise ShapeError(
                f"the model outputs {model.output_shape} but strategy={self.strategy!r} with "
                f"horizon={self.horizon} needs (None, {self._window_horizon}); end the model "
                f"with Dense({self._window_horizon})."
            )
        loss = (model.compile_config or {}).get("loss")  # a name, or a loss object's config
        if "crossentropy" in str(loss).lower():
            raise ConfigError(
                f"the Forecaster forecasts prices (regression) but the model is compiled with "
                f"loss={loss!r}; compile it with a regression loss such as 'mse', or train "
                "an up/down classifier as a Sequential (see docs/keras.md)."
            )
        if model.optimizer is None:
            settings = getattr(self, "_compile_like", None)
            if settings:  # a clone compiles like the model it was cloned from
                model.compile(
                    optimizer=optimizers.deserialize(settings["optimizer"]),
                    loss=settings["loss"],
                    metrics=settings["metrics"],
                    device=self.device,
                )
            else:
                model.compile(optimizer=Adam(learning_rate=1e-3), loss="mse", device=self.device)
        else:  # a given compiled model: its device, or the Forecaster's; re-flattened for cuDNN
            place(model, self.device if self.device is not None else model._device)
        return model

    # -------------------------------------------------------------- predict
    def predict(self, frame: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """One forecast per window of ``frame``, in price units.

        Args:
            frame: Rows whose prices are forecast (e.g. the test part).
            context: The rows before ``frame`` (e.g. the validation part); its
                last ``lookback`` rows are inputs of the first windows.

        Returns:
            DataFrame indexed by ``date``, the session of step 1, with columns
            ``step_1 .. step_<horizon>`` (step ``k`` forecasts the session
            ``k-1`` rows later). A Forecaster fitted on many tickers takes
            long frames and indexes the result by ``(ticker, date)``.
        """
        self._check_fitted()
        if self._is_universe:
            return self._predict_universe(frame, context)
        frame = _check_single(frame, "frame")
        if context is not None and not isinstance(context, pd.DataFrame):
            raise DataError(
                f"context must be a DataFrame of the rows before frame, got {context!r}."
            )
        return self._forecast_windows(frame, context, self.horizon)

    def _forecast_windows(
        self, frame: pd.DataFrame, context: pd.DataFrame | None, steps: int
    ) -> pd.DataFrame:
        X, _ = self.windowizer_.transform(frame, context=context)
        base = self.windowizer_.base_prices(frame, context=context)
        dates = self.windowizer_.target_dates(frame, context=context)
        usable = len(X) - (steps - self._window_horizon)
        if usable < 1:
            raise DataError(
                f"{len(frame)} rows leave no window with {steps} steps ahead inside "
                f"the frame (lookback={self.lookback})."
            )
        prices = self._forecast(np.asarray(X[:usable]), base[:usable], steps)
        return _as_frame(prices, dates[:usable])

    def _forecast(
        self,
        X: np.ndarray,
        base: np.ndarray,
        steps: int,
        predict: Any = None,
        tickers: np.ndarray | None = None,
    ) -> np.ndarray:
        """Price forecasts ``(n, steps)`` from scaled windows ``X (n, lookback, F)``.

        ``tickers`` ``(n,)`` names each window's ticker (a universe forecaster).
        """
        predict = predict or self.model_.predict
        if self.strategy == "direct":
            y_hat = predict(X, batch_size=1024)  # (n, horizon)
            per_ticker = {} if tickers is None else {"ticker": tickers}
            prices = self.windowizer_.inverse_transform_target(y_hat, base=base, **per_ticker)
            prices = prices[:, :steps]
        else:
            prices = self._recursive(X, base, steps, predict, tickers)
        self._check_sane(prices, base, tickers)
        return prices

    def _check_sane(
        self, prices: np.ndarray, base: np.ndarray, tickers: np.ndarray | None = None
    ) -> None:
        """Refuse forecasts that diverged, per ticker for a universe (see :meth:`_check_range`)."""
        if tickers is None:
            self._check_range(prices, base, getattr(self, "train_range_", ()))
            return
        bad = diverged_tickers(prices, base, tickers, self.train_ranges_, SANE_FACTOR)
        for ticker in bad[:1]:  # the full check of the first one raises, naming it
            rows = np.asarray(tickers, dtype=object) == ticker
            known = self.train_ranges_.get(ticker, ())
            self._check_range(np.asarray(prices)[rows], np.asarray(base)[rows], known, ticker)

    def _check_range(
        self, prices: np.ndarray, base: np.ndarray, train_range: Any, ticker: Any = None
    ) -> None:
        """Refuse non-finite forecasts, or ones more than 10x off every known price.

        Known prices are the training target's range (when fitted in this
        process) and the last price before each forecast (``base``). A model
        whose weights diverged to large but finite values predicts far outside
        them, which no real daily price does.

        Raises:
            TrainingDivergedError: naming the forecast, the range and the fix.
        """
        prices = np.asarray(prices, dtype=np.float64)  # (n, steps)
        known = np.asarray(base, dtype=np.float64).ravel()
        known = np.concatenate([known, np.asarray(train_range, dtype=np.float64)])
        known = known[np.isfinite(known)]
        with np.errstate(invalid="ignore", over="ignore"):
            bad = ~np.isfinite(prices)
            if known.size:
                low, high = float(known.min()), float(known.max())
                if low > 0:
                    allowed = (low / SANE_FACTOR, high * SANE_FACTOR)
                else:
                    span = SANE_FACTOR * max(abs(low), abs(high))
                    allowed = (-span, span)
                bad |= (prices < allowed[0]) | (prices > allowed[1])
        if not bad.any():
            return
        value = float(prices[bad][0])
        bounds = (
            ""
            if not known.size
            else (
                f", outside [{allowed[0]:.4g}, {allowed[1]:.4g}] (10x around the known "
                f"{self.target!r} values {low:.4g} .. {high:.4g})"
            )
        )
        rate = _learning_rate(getattr(self, "model_", None))
        where = "" if ticker is None else f" of ticker {ticker!r}"
        raise TrainingDivergedError(
            f"{int(bad.sum())} forecast(s){where} such as {value:.4g}{bounds}: the model's "
            f"training diverged{rate}. Train again with a lower learning rate "
            "(e.g. 10x lower), or clipnorm=1.0 on the optimizer.",
            history=getattr(self, "history_", None),
        )

    def _recursive(
        self,
        X: np.ndarray,
        base: np.ndarray,
        steps: int,
        predict: Any,
        tickers: np.ndarray | None = None,
    ) -> np.ndarray:
        """Feed one-step forecasts back as inputs, ``steps`` times.

        The new input row is every feature's transform of the forecast price
        ``p_k`` (e.g. ``log(p_k / p_{k-1})`` for ``close:log_return``), scaled.
        """
        window = np.array(X, dtype=np.float32, copy=True)  # (n, lookback, F)
        base = np.asarray(base, dtype=np.float64)  # (n,) the last known price
        specs = parse_features(self.features)
        prices = np.empty((len(window), steps))
        for k in range(steps):
            y_hat = predict(window, batch_size=1024)  # (n, 1)
            per_ticker = {} if tickers is None else {"ticker": tickers}
            prices[:, k] = self.windowizer_.inverse_transform_target(
                y_hat, base=base, **per_ticker
            )[:, 0]
            row = self._scale_rows(next_row(prices[:, k], base, specs), tickers)  # (n, F)
            window = np.concatenate([window[:, 1:], row[:, None, :]], axis=1)
            base = prices[:, k]
        return prices

    def predict_next(
        self,
        frame: pd.DataFrame,
        days: int = 1,
        interval: float | None = None,
        interval_method: str = "conformal",
        mc_samples: int = 100,
        ticker: str | list[str] | None = None,
    ) -> pd.DataFrame:
        """Forecast the ``days`` trading sessions after the last date of ``frame``.

        Args:
            frame: Price history ending with the latest known session (at
                least ``lookback`` rows).
            days: Sessions to forecast (at most ``horizon`` for the direct strategy).
            interval: Coverage of a prediction interval, e.g. ``0.9``; adds
                ``lower`` and ``upper`` columns.
            interval_method: ``"conformal"`` (split-conformal, from calibration
                log scores per step) or ``"mc_dropout"`` (dropout kept on at
                inference, ``mc_samples`` passes; needs dropout in the model).
            mc_samples: Forward passes for ``"mc_dropout"``.
            ticker: For a universe forecaster, the ticker (or list of
                tickers) to forecast; default every ticker in ``frame``.

        Returns:
            DataFrame indexed by the next ``days`` sessions of ``calendar``
            (weekends and holidays skipped) with a ``forecast`` column in
            price units (plus ``lower``/``upper``). A universe forecaster
            indexes it by ``(ticker, date)``, each ticker's dates following
            its own last row.
        """
        self._check_fitted()
        days = positive_int(days, "days")
        if self.strategy == "direct" and days > self.horizon:
            raise ConfigError(
                f"days={days} is more than horizon={self.horizon}; the direct "
                "strategy forecasts at most horizon steps. Train with a larger "
                "horizon or strategy='recursive'."
            )
        if self._is_universe:
            return self._predict_next_universe(
                frame, days, interval, interval_method, mc_samples, ticker
            )
        if ticker is not None:
            raise ConfigError(
                f"ticker={ticker!r} picks tickers of a universe forecaster; this one was "
                "fitted on one series."
            )
        frame = _check_single(frame, "frame")
        X = self.windowizer_.last_window(frame)  # (1, lookback, F)
        base = np.array([float(frame[self.target].iloc[-1])])
        forecast = self._forecast(X, base, days)[0]
        result = pd.DataFrame(
            {"forecast": forecast}, index=next_trading_days(frame.index[-1], days, self.calendar)
        )
        if interval is not None:
            lower, upper = self.interval_bounds(
                X, base, forecast[None, :], interval, interval_method, mc_samples
            )
            result["lower"], result["upper"] = lower[0], upper[0]
        return result

    # ----------------------------------------------------------------- misc
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments; the model as a Sequential config (JSON-friendly)."""
        spec = self.model_ if hasattr(self, "model_") else self.model
        if isinstance(spec, Sequential):
            model = spec.get_config()
        elif isinstance(spec, dict):
            model = spec
        else:
            model = {
                "name": "sequential",
                "seed": self.seed,
                "build_input_shape": None,
                "layers": [serialize(layer) for layer in spec],
            }
        return {
            "model": model,
            "lookback": self.lookback,
            "horizon": self.horizon,
            "features": self.features,
            "target": self.target,
            "target_transform": self.target_transform,
            "scaler": self.scaler,
            "strategy": self.strategy,
            "calendar": self.calendar,
            "seed": self.seed,
        }

    def clone(self) -> Forecaster:
        """An unfitted Forecaster with the same settings and a fresh model of the same design."""
        config = self.get_config()
        config["model"] = {**config["model"], "build_input_shape": None}
        clone = Forecaster(**config, device=self.device)
        if hasattr(self, "model_") and self.model_.compile_config:
            clone._compile_like = self.model_.compile_config
        return clone

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted Forecaster: model, scalers, settings and training fingerprint.

        The folder holds ``config.json`` and ``model.safetensors`` (no pickle)
        and is written atomically; :meth:`load` reads it back.

        Example:
            >>> import tempfile, rnncast as rc
            >>> from rnncast.layers import LSTM, Dense
            >>> train = rc.datasets.load_sample("MSFT").iloc[:300]
            >>> fc = rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0)
            >>> folder = fc.fit(train, epochs=1, verbose=0).save(tempfile.mkdtemp() + "/fc")
            >>> type(rc.Forecaster.load(folder)).__name__
            'Forecaster'
        """
        self._check_fitted()
        config = saving.model_config(self.model_)
        settings = self.get_config()
        del settings["model"]
        scores = self.calibration_scores_
        config.update(
            {
                "kind": "forecaster",
                "forecaster": settings,
                "windowizer": self.windowizer_.to_dict(),
                "train": self.train_info_,
                "train_scale": self.train_scale_,
                "learned_nothing": self.learned_nothing_,
                "calibration_scores": _scores_to_json(scores),
            }
        )
        if self._is_universe:
            config["universe"] = self._universe_state()
        return saving.write_artifact(path, config, self.model_)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | None = None) -> Forecaster:
        """Load a Forecaster written by :meth:`save`, ready to predict and evaluate.

        The weights are read to the CPU, then moved to ``device`` (``None``:
        ``"auto"``, CUDA when present); the artifact records no device, so a
        model trained on a GPU loads on a CPU-only machine and the other way round.

        Raises:
            ArtifactError: The folder is not a Forecaster artifact, or is damaged.
        """
        folder = saving.resolve_folder(Path(path))
        with saving.artifact_lock(folder, shared=True):
            config = saving.read_config(folder, kind="forecaster")  # schema-checked
            model = saving.model_from(folder, config, compile=True)
        try:
            forecaster = cls(model, **config["forecaster"])
            forecaster.windowizer_ = Windowizer.from_dict(config["windowizer"])
        except (RnncastError, KeyError, TypeError, ValueError, IndexError) as err:
            raise ArtifactError(
                f"{folder / saving.CONFIG}: bad forecaster settings: {err}"
            ) from err
        if device is not None:
            place(model, device)
            forecaster.device = str(model._device)
        forecaster.model_ = model
        forecaster.train_info_ = config["train"]
        forecaster.train_scale_ = config["train_scale"]
        forecaster.learned_nothing_ = bool(config.get("learned_nothing", False))
        scores = config.get("calibration_scores")  # rnncast 0.1 kept price residuals: unused
        forecaster.calibration_scores_ = _scores_from_json(scores)
        forecaster.tickers_ = None
        if config.get("universe") is not None:
            forecaster._load_universe(config["universe"], folder / saving.CONFIG)
        return forecaster

    def export_onnx(self, path: str | os.PathLike[str]) -> Path:
        """Write ``model.onnx`` and ``preprocess.json`` into the folder ``path`` (docs/export.md).

        Returns:
            The folder; :func:`rnncast.forecasting.export.read_preprocess` reads it back.
        """
        from rnncast.forecasting.export import export_forecaster

        return export_forecaster(self, path)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this Forecaster is not fitted yet; call fit(train) first.")

    def __repr__(self) -> str:
        return (
            f"Forecaster(lookback={self.lookback}, horizon={self.horizon}, "
            f"features={self.features}, target={self.target!r}, "
            f"target_transform={self.target_transform!r}, strategy={self.strategy!r})"
        )


def _scores_to_json(scores: np.ndarray | dict | None) -> Any:
    if isinstance(scores, dict):  # a universe: one matrix per ticker
        return {ticker: values.tolist() for ticker, values in scores.items()}
    return None if scores is None else scores.tolist()


def _scores_from_json(scores: Any) -> np.ndarray | dict | None:
    if isinstance(scores, dict):
        return {
            ticker: np.asarray(values, dtype=np.float64).reshape(len(values), -1)
            for ticker, values in scores.items()
        }
    return None if scores is None else np.asarray(scores)


def fingerprint(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Date range, row count and SHA-256 of the values a model was trained on."""
    digest = hashlib.sha256(frame.index.asi8.tobytes())
    digest.update(frame[list(dict.fromkeys(columns))].to_numpy(np.float64).tobytes())
    return {
        "start": str(frame.index[0].date()),
        "end": str(frame.index[-1].date()),
        "rows": len(frame),
        "sha256": digest.hexdigest(),
    }


def _learning_rate(model: Sequential | None) -> str:
    rate = getattr(getattr(model, "optimizer", None), "learning_rate", None)
    return f" (learning_rate={rate:g})" if isinstance(rate, int | float) else ""


def _as_frame(prices: np.ndarray, dates: pd.Index) -> pd.DataFrame:
    columns = [f"step_{k + 1}" for k in range(prices.shape[1])]
    return pd.DataFrame(prices, index=pd.DatetimeIndex(dates, name="date"), columns=columns)


def _check_single(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """One series; a ticker column holding a single ticker is that ticker's series."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"{name} must be a pandas DataFrame of prices indexed by date, got "
            f"{type(frame).__name__}; see rc.datasets.read_csv."
        )
    return single_series(frame, name, "a Forecaster works on one series")


def _check_arguments(features: Any, calendar: Any, seed: Any) -> None:
    """Constructor arguments that are not checked elsewhere, by name."""
    if not isinstance(features, str) and (not isinstance(features, list | tuple) or not features):
        raise ConfigError(
            f"features must be a column name or a non-empty list of them, e.g. "
            f"['close:log_return'], got {features!r}."
        )
    import exchange_calendars as xcals  # lazily: it is slow to import

    if not isinstance(calendar, str) or calendar not in xcals.get_calendar_names(
        include_aliases=True
    ):
        raise ConfigError(
            f"calendar={calendar!r} is not an exchange-calendars code; use e.g. 'XNYS' "
            "(NYSE), 'XNAS', 'XLON', 'XETR' or 'XTKS'."
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise ConfigError(f"seed must be an integer or None, got {seed!r}.")


def _check_not_constant(train: pd.DataFrame, target: str) -> None:
    """A target that never changes has nothing to learn: refuse it before training."""
    if not isinstance(train, pd.DataFrame) or target not in train.columns or len(train) < 2:
        return
    values = train[target].to_numpy(dtype=np.float64, na_value=np.nan)
    if np.nanmin(values) == np.nanmax(values):
        raise DataError(
            f"train column {target!r} is constant ({values[0]:g} on all {len(values)} rows): "
            "there is nothing to forecast; check the data (a placeholder or a frozen feed?)."
        )
