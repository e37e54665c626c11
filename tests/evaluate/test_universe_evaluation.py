"""evaluate_universe and the panel tests: hand-computed numbers and library oracles.

Pooled MASE and skill against a hand computation, Benjamini-Hochberg against
statsmodels' ``multipletests``, the panel DM variance against statsmodels'
Driscoll-Kraay (``cov_type="hac-groupsum"``) and, on a balanced panel, against
the single-series :func:`diebold_mariano` of the cross-sectional mean.
"""

import json

import numpy as np
import pandas as pd
import pytest

from rnncast.evaluate import (
    FDR_LEVEL,
    benjamini_hochberg,
    diebold_mariano,
    evaluate_forecasts,
    evaluate_universe,
    panel_diebold_mariano,
    panel_mean_test,
)
from rnncast.evaluate.panel import one_sided_dm_p
from rnncast.exceptions import DataError, ShapeError


def one_ticker(prices, model, train, start="2024-01-01"):
    """``actual, forecasts, base, train`` of one ticker: one-step forecasts of ``prices[1:]``."""
    dates = pd.bdate_range(start, periods=len(prices), name="date")
    actual = pd.Series(prices, index=dates, dtype=float)
    rows = dates[1:]
    base = actual.shift(1).loc[rows]
    forecasts = {
        "model": pd.DataFrame({"step_1": np.asarray(model, dtype=float)}, index=rows),
        "naive": pd.DataFrame({"step_1": base.to_numpy()}, index=rows),
    }
    return actual, forecasts, base, pd.Series(train, dtype=float)


def universe(**tickers):
    """``evaluate_universe``'s four mappings from ``name=one_ticker(...)``."""
    parts = [{name: value[k] for name, value in tickers.items()} for k in range(4)]
    return parts


# ------------------------------------------------------------- hand example
def hand_universe():
    # AAA: scale 1 (training changes 1, 1); BBB: scale 10 (training changes 10, 10).
    aaa = one_ticker([10.0, 11.0, 13.0, 12.0], [10.5, 12.0, 12.5], train=[8.0, 9.0, 10.0])
    bbb = one_ticker(
        [1000.0, 990.0, 1010.0, 1000.0], [1000.0, 1000.0, 1000.0], train=[980.0, 990.0, 1000.0]
    )
    return universe(AAA=aaa, BBB=bbb)


def test_pooled_mase_and_skill_match_a_hand_computation():
    report = evaluate_universe(*hand_universe())
    # AAA: model |11-10.5|, |13-12|, |12-12.5| = 0.5, 1, 0.5; naive 1, 2, 1; scale 1.
    # BBB: model |990-1000|, |1010-1000|, |1000-1000| = 10, 10, 0; naive 10, 20, 10; scale 10.
    model = (0.5 + 1 + 0.5 + 1 + 1 + 0) / 6
    naive = (1 + 2 + 1 + 1 + 2 + 1) / 6
    assert report.pooled_mase["model"] == pytest.approx(model)
    assert report.pooled_mase["naive"] == pytest.approx(naive)
    assert report.pooled_skill_pct == pytest.approx(100 * (1 - model / naive))
    summary = report.summary
    assert summary["pooled_mase"] == pytest.approx(4 / 6)
    assert summary["pooled_skill_pct"] == pytest.approx(50.0)
    assert summary["panel_dm"]["mean_difference"] == pytest.approx(model - naive)
    assert summary["panel_dm"]["n_dates"] == 3 and summary["panel_dm"]["n_obs"] == 6


def test_pooled_mase_is_not_dominated_by_the_high_priced_ticker():
    # Same relative errors; BBB is priced 100x higher. Pooling raw errors would be BBB's alone.
    rng = np.random.default_rng(3)
    walk = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, 61)))
    good = walk[1:] * 0.7 + walk[:-1] * 0.3  # AAA: sees 70 % of the move
    bad = walk[:-1] * (1 + rng.normal(0, 0.01, 60))  # BBB: naive + noise
    report = evaluate_universe(
        *universe(
            AAA=one_ticker(walk, good, walk[:30]),
            BBB=one_ticker(100 * walk, 100 * bad, 100 * walk[:30]),
        )
    )
    table = report.to_frame()
    expected = (table.loc["AAA", "mase"] + table.loc["BBB", "mase"]) / 2  # equal rows, equal scale
    assert report.pooled_mase["model"] == pytest.approx(expected, rel=1e-12)
    raw = np.abs(100 * walk[1:] - 100 * bad).sum() / (np.abs(walk[1:] - good).sum() + 1e-300)
    assert raw > 50  # pooling price errors instead would be BBB's alone


def test_per_ticker_results_are_exactly_evaluate_forecasts():
    actual, forecasts, base, train = hand_universe()
    report = evaluate_universe(actual, forecasts, base, train)
    for ticker in actual:
        alone = evaluate_forecasts(actual[ticker], forecasts[ticker], base[ticker], train[ticker])
        pd.testing.assert_frame_equal(report.tickers[ticker].to_frame(), alone.to_frame())
        row = report.to_frame().loc[ticker]
        assert row["mase"] == alone.to_frame().loc["model", "mase"]
        assert row["dm_p"] == alone.to_frame().loc["model", "dm_p_value"]
        assert row["outcome"] == alone.verdict.outcome


# ------------------------------------------------------------ BH and DM p
def test_benjamini_hochberg_matches_statsmodels():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 40), [0.02, 0.02, 1.0]])
    reject, adjusted, _, _ = multipletests(p, alpha=FDR_LEVEL, method="fdr_bh")
    np.testing.assert_allclose(benjamini_hochberg(p), adjusted, rtol=1e-12)
    np.testing.assert_array_equal(benjamini_hochberg(p) < FDR_LEVEL, reject)


def test_benjamini_hochberg_hand_example():
    # sorted 0.01, 0.03, 0.04, 0.5 -> 4p/rank = 0.04, 0.06, 0.0533, 0.5 -> running min from top
    np.testing.assert_allclose(
        benjamini_hochberg([0.01, 0.04, 0.03, 0.5]), [0.04, 0.16 / 3, 0.16 / 3, 0.5]
    )


def test_bh_column_of_the_table_is_bh_of_the_one_sided_p_values():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    report = evaluate_universe(*planted_mixed(seed=1))
    table = report.to_frame()
    _, adjusted, _, _ = multipletests(table["dm_p_better"], method="fdr_bh")
    np.testing.assert_allclose(table["bh_p"], adjusted, rtol=1e-12)
    stat, n = table["dm_statistic"], table["n"]
    two_sided = table["dm_p"]
    one_sided = np.where(stat < 0, two_sided / 2, 1 - two_sided / 2)  # from the two-sided p
    np.testing.assert_allclose(table["dm_p_better"], one_sided, rtol=1e-9)
    assert one_sided_dm_p(float("nan"), int(n.iloc[0])) == 1.0
    beats = (table["bh_p"] < FDR_LEVEL) & (table["skill_pct"] >= 1.0)
    pd.testing.assert_series_equal(table["beats_naive_after_fdr"], beats, check_names=False)
    # a ticker that beats naive after the correction also beats it on its own
    assert (table.loc[table["beats_naive_after_fdr"], "outcome"] == "beats").all()


def planted_mixed(seed, n_plain=6, n_skill=2, periods=120):
    """Random walks where the model sees half of tomorrow's return on the first ``n_skill``."""
    rng = np.random.default_rng(seed)
    tickers = {}
    for k in range(n_plain + n_skill):
        returns = rng.normal(0, 0.01, periods)
        prices = 20 * (k + 1) * np.exp(np.cumsum(returns))
        share = 0.5 if k < n_skill else 0.0
        model = prices[:-1] * np.exp(share * returns[1:] + rng.normal(0, 0.002, periods - 1))
        tickers[f"T{k}"] = one_ticker(prices, model, prices[:40])
    return universe(**tickers)


# ------------------------------------------------------------ panel DM
def test_panel_dm_on_a_balanced_panel_is_dm_of_the_cross_sectional_mean():
    rng = np.random.default_rng(5)
    actual = rng.normal(size=(80, 7)) + rng.normal(size=(80, 1))
    model = actual + rng.normal(0, 1.0, (80, 7))
    naive = actual + rng.normal(0, 1.1, (80, 7))
    scale = rng.uniform(0.5, 2.0, 7)
    test = panel_diebold_mariano(actual, model, naive, scale)
    d = ((np.abs(actual - model) - np.abs(actual - naive)) / scale).mean(axis=1)  # (T,)
    shift = 1 + np.abs(d).max()  # |0 - (d + c)| - |0 - c| = d for DM with power 1
    stat, p = diebold_mariano(np.zeros(80), d + shift, np.full(80, shift), power=1)
    assert test.statistic == pytest.approx(stat, rel=1e-10)
    assert test.p_value == pytest.approx(p, rel=1e-10)


@pytest.mark.parametrize("horizon", [1, 3])
def test_panel_variance_is_driscoll_kraay_of_statsmodels_on_an_unbalanced_panel(horizon):
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(horizon)
    d = rng.normal(0.1, 1.0, (60, 5)) + rng.normal(size=(60, 1))  # common date shocks
    d[:15, 0] = np.nan  # a late listing
    d[50:, 3] = np.nan  # a delisting
    test = panel_mean_test(d, horizon, small_sample=False)
    observed = ~np.isnan(d)
    time = np.nonzero(observed)[0]
    fit = sm.OLS(d[observed], np.ones((observed.sum(), 1))).fit(
        cov_type="hac-groupsum",
        cov_kwds={
            "time": time,
            "maxlags": horizon - 1,
            "use_correction": False,
            "weights_func": lambda lags: np.ones(lags + 1),  # DM's truncated uniform kernel
        },
    )
    assert test.mean_difference == pytest.approx(fit.params[0], rel=1e-12)
    assert test.statistic == pytest.approx(fit.tvalues[0], rel=1e-9)
    hln = panel_mean_test(d, horizon)
    n = 60
    factor = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    assert hln.statistic == pytest.approx(fit.tvalues[0] * factor, rel=1e-9)


def test_panel_dm_is_nan_for_identical_forecasts_and_checks_its_inputs():
    a = np.arange(12.0).reshape(6, 2) + 10
    test = panel_diebold_mariano(a, a + 1, a + 1, [1.0, 1.0])
    assert np.isnan(test.statistic) and np.isnan(test.p_value) and test.mean_difference == 0
    with pytest.raises(ShapeError, match="scale"):
        panel_diebold_mariano(a, a, a, [1.0])
    with pytest.raises(DataError, match="positive"):
        panel_diebold_mariano(a, a, a, [1.0, 0.0])
    holes = a.copy()
    holes[0, 0] = np.nan
    with pytest.raises(DataError, match="NaN exactly"):
        panel_diebold_mariano(holes, a, a, [1.0, 1.0])
    with pytest.raises(ShapeError, match="n_dates, n_tickers"):
        panel_mean_test(np.ones(5))


# ------------------------------------------------------------ the report
def test_report_surface_table_dict_and_text():
    report = evaluate_universe(*planted_mixed(seed=2))
    table = report.to_frame()
    assert list(table.index) == sorted(table.index, key=lambda t: -table.loc[t, "skill_pct"])
    assert table.index.name == "ticker" and len(table) == 8
    assert {"mase", "skill_pct", "dm_p", "bh_p", "beats_naive_after_fdr", "lag_flag"} <= set(
        table.columns
    ) and {"direction_p", "n"} <= set(table.columns)
    assert report.best_ticker == table.index[0] and report.worst_ticker == table.index[-1]
    assert report.best_ticker in {"T0", "T1"}  # the two tickers with planted skill
    data = report.to_dict()
    json.dumps(data, allow_nan=False)  # plain JSON
    assert data["verdict"] == report.verdict.sentence() == str(report.verdict)
    assert set(data["tickers"]) == set(report.tickers)
    assert data["summary"]["n_tickers"] == 8
    text = str(report)
    assert report.verdict.console_line() in text and "T7" in text
    assert report.verdict.to_dict()["badge"]["colour"] in {"green", "amber", "red"}


def test_tickers_with_different_date_ranges():
    rng = np.random.default_rng(4)
    walk = 30 * np.exp(np.cumsum(rng.normal(0, 0.01, 80)))
    late = one_ticker(walk[:50], walk[:49] * 1.001, walk[:20], start="2024-03-01")
    early = one_ticker(walk, walk[:-1] * 0.999, walk[:20], start="2024-01-01")
    report = evaluate_universe(*universe(LATE=late, EARLY=early))
    dates = late[1]["naive"].index.union(early[1]["naive"].index)
    assert report.panel_dm.n_dates == len(dates)
    assert report.panel_dm.n_obs == 49 + 79
    assert report.to_frame().loc["LATE", "n"] == 49


def test_without_a_model_the_verdict_is_unknown():
    actual, forecasts, base, train = hand_universe()
    naive_only = {t: {"naive": f["naive"]} for t, f in forecasts.items()}
    report = evaluate_universe(actual, naive_only, base, train)
    assert report.verdict.outcome == "unknown"
    assert str(report.verdict) == "no model forecast to judge"
    json.dumps(report.to_dict(), allow_nan=False)


def test_input_errors_name_the_ticker():
    actual, forecasts, base, train = hand_universe()
    with pytest.raises(DataError, match=r"missing from base: \['BBB'\]"):
        evaluate_universe(actual, forecasts, {"AAA": base["AAA"]}, train)
    with pytest.raises(DataError, match="no tickers"):
        evaluate_universe({}, {}, {}, {})
    broken = dict(forecasts)
    broken["BBB"] = {"model": forecasts["BBB"]["model"]}
    with pytest.raises(DataError, match=r"ticker .BBB.*naive"):
        evaluate_universe(actual, broken, base, train)


def test_intervals_and_learned_nothing_reach_every_ticker():
    actual, forecasts, base, train = hand_universe()
    intervals = {
        t: {"model": {"lower": f["model"] - 100, "upper": f["model"] + 100}}
        for t, f in forecasts.items()
        if t == "AAA"
    }
    report = evaluate_universe(
        actual, forecasts, base, train, intervals=intervals, interval_level=0.9,
        learned_nothing=True,
    )  # fmt: skip
    assert report.tickers["AAA"].coverage["model"]["step_1"] == 1.0
    assert report.tickers["BBB"].coverage == {}
    assert all(r.learned_nothing for r in report.tickers.values())
    assert "learned only the average move" in str(report.verdict)


def test_panel_dm_of_the_hand_example():
    from scipy.stats import t as student_t

    report = evaluate_universe(*hand_universe())
    # scaled d: AAA -0.5, -1, -0.5; BBB 0, -1, -1. D = -2/3; date sums of d - D:
    # 5/6, -2/3, -1/6 -> sum of squares 7/6; V = (7/6) / 6**2; HLN factor sqrt(2/3) for T=3.
    statistic = (-2 / 3) / np.sqrt(7 / 6 / 36) * np.sqrt(2 / 3)
    assert report.panel_dm.statistic == pytest.approx(statistic, rel=1e-12)
    assert report.panel_dm.p_value == pytest.approx(2 * student_t.sf(-statistic, 2), rel=1e-12)
    assert report.panel_dm.p_lower == pytest.approx(student_t.cdf(statistic, 2), rel=1e-12)


def test_universe_verdict_sentences_and_badges():
    from rnncast.evaluate import UniverseVerdict

    worse = UniverseVerdict(
        outcome="worse", n_tickers=10, n_beats_fdr=0, pooled_mase=1.1, naive_pooled_mase=1.0,
        pooled_skill_pct=-10.0, panel_statistic=3.0, panel_p_value=0.004, n_lag_flagged=2,
    )  # fmt: skip
    assert worse.badge()[0] == "red"
    assert str(worse) == (
        "beats naive on 0 of 10 tickers after FDR correction; pooled skill -10.0% (pooled MASE "
        "1.10 vs naive 1.00, panel DM p=0.004): significantly worse than naive across the "
        "universe; the lag check flags 2 of 10 tickers as repeating yesterday's price"
    )
    beats = UniverseVerdict(
        outcome="beats", n_tickers=10, n_beats_fdr=6, pooled_mase=0.9, naive_pooled_mase=1.0,
        pooled_skill_pct=10.0, panel_statistic=-3.0, panel_p_value=0.004, n_lag_flagged=5,
    )  # fmt: skip
    assert beats.badge() == (
        "amber",
        "Beats the naive forecast across the universe, significantly, but it mostly repeats "
        "the last price",
    )
    assert beats.console_line().startswith("universe verdict: beats naive on 6 of 10 tickers")
    details = beats.to_dict()
    assert details["repeats_last_price"] is True and details["sentence"] == str(beats)
