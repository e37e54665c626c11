"""The Forecaster's scoring methods: its forecasts next to the baselines, judged on the same days.

Mixed into :class:`~rnncast.Forecaster`; :meth:`evaluate` is the entry point.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rnncast.exceptions import ConfigError


class ScoringMethods:
    """``evaluate``, ``score`` and ``forecasts`` of a fitted Forecaster."""

    def evaluate(
        self,
        test: pd.DataFrame,
        context: pd.DataFrame | None = None,
        train: pd.DataFrame | None = None,
        baselines: list | None = None,
        interval: float | None = 0.9,
    ) -> Any:
        """Score the model next to the baselines on exactly the same targets.

        Args:
            test: Rows to evaluate on.
            context: The rows before ``test`` (inputs of the first windows).
            train: Training rows for the baselines and MASE (default: the
                frame given to :meth:`fit`; required after loading).
            baselines: Baseline objects (default: naive, drift, moving
                average, linear AR and ARIMA, fitted on ``train``).
            interval: Coverage of conformal intervals whose empirical coverage
                on ``test`` is reported (``None`` to skip).

        Returns:
            An :class:`rnncast.evaluate.EvaluationReport`; for a Forecaster
            fitted on many tickers, the ``UniverseReport`` of
            ``rnncast.evaluate.universe.evaluate_universe`` (frames in the
            long layout, baselines fitted per ticker).
        """
        forecasts = self.forecasts(test, context, train, baselines)
        return self.score(test, forecasts, context, train, interval)

    def score(
        self,
        test: pd.DataFrame,
        forecasts: dict[str, pd.DataFrame],
        context: pd.DataFrame | None = None,
        train: pd.DataFrame | None = None,
        interval: float | None = 0.9,
    ) -> Any:
        """Score forecasts already made for ``test`` (``"model"`` plus baselines, with ``"naive"``).

        :meth:`evaluate` is ``score(test, forecasts(test, ...))``; call this
        directly to reuse baseline forecasts across several models. The report
        keeps the scored ``forecasts`` and the model's ``intervals``.
        """
        from rnncast.evaluate import evaluate_forecasts

        if self._is_universe:
            return self._score_universe(
                self.scoring_inputs(test, forecasts, context, train, interval)
            )
        train = self._training_rows(train)
        intervals = None
        if interval is not None and self.calibration_scores_ is not None:
            intervals = self._test_intervals(test, context, forecasts["model"], interval)
        return evaluate_forecasts(
            test[self.target],
            forecasts,
            self._base(test, context),
            train[self.target],
            intervals=intervals,
            interval_level=interval if intervals else None,
            learned_nothing=self.learned_nothing_,
        )

    def forecasts(
        self,
        test: pd.DataFrame,
        context: pd.DataFrame | None = None,
        train: pd.DataFrame | None = None,
        baselines: list | None = None,
    ) -> dict[str, pd.DataFrame]:
        """The model's and every baseline's forecasts for ``test``, keyed by name.

        Baselines are fitted on ``train`` (default: the rows given to :meth:`fit`);
        a naive forecast is always included, as skill is measured against it.
        For a Forecaster fitted on many tickers: ``{ticker: {name: frame}}``,
        each baseline fitted on that ticker's training rows.
        """
        from rnncast.forecasting.baselines import all_baselines, with_naive

        if self._is_universe:
            return self._universe_forecasts(test, context, train, baselines)
        train = self._training_rows(train)
        forecasts = {"model": self.predict(test, context)}
        chosen = (
            baselines
            if baselines is not None
            else all_baselines(self.lookback, self.horizon, self.target)
        )
        for baseline in with_naive(chosen, self.lookback, self.horizon, self.target):
            predicted = baseline.fit(train).predict(test, context=context)
            forecasts[baseline.name] = predicted.loc[forecasts["model"].index]
        return forecasts

    def _training_rows(self, train: pd.DataFrame | None) -> pd.DataFrame:
        self._check_fitted()
        train = train if train is not None else getattr(self, "_train", None)
        if train is None:
            raise ConfigError(
                "pass train= (the training rows) to fit the baselines and scale "
                "MASE; a loaded Forecaster does not keep its training data."
            )
        return train

    def _base(self, test: pd.DataFrame, context: pd.DataFrame | None) -> pd.Series:
        """The last observed price of every forecast window, indexed like ``predict``."""
        dates = self.windowizer_.target_dates(test, context)
        usable = len(dates) - (self.horizon - self._window_horizon)
        return pd.Series(
            self.windowizer_.base_prices(test, context)[:usable],
            index=pd.DatetimeIndex(dates[:usable], name="date"),
        )
