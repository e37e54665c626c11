import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from rnncast.evaluate import (
    EvaluationReport,
    diebold_mariano,
    evaluate_forecasts,
    lag_check,
    lag_correlations,
    mae,
    mape,
    mase,
    naive_scale,
    rmse,
    skill_vs_naive_pct,
    smape,
    theils_u,
)
from rnncast.exceptions import ConfigError, DataError, ShapeError

COLUMNS = [
    "rmse",
    "mae",
    "mape",
    "smape",
    "mase",
    "theils_u",
    "skill_vs_naive_pct",
    "mae_skill_pct",
    "directional_accuracy",
    "direction_base_rate",
    "directional_p_value",
    "dm_statistic",
    "dm_p_value",
]


# ------------------------------------------------------------------ metrics by hand
def test_point_metrics_by_hand():
    actual, forecast = [10.0, 20.0, 40.0], [12.0, 20.0, 36.0]  # errors 2, 0, -4
    assert rmse(actual, forecast) == pytest.approx(math.sqrt(20 / 3))
    assert mae(actual, forecast) == pytest.approx(2.0)
    assert mape(actual, forecast) == pytest.approx(100 * (0.2 + 0 + 0.1) / 3)
    assert smape(actual, forecast) == pytest.approx(100 * (4 / 22 + 0 + 8 / 76) / 3)
    assert smape([0.0, 1.0], [0.0, 1.0]) == 0.0  # 0/0 terms count as perfect
    assert isinstance(rmse(actual, forecast), float)


def test_point_metrics_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    actual = 100 + rng.normal(0, 5, 50)
    forecast = actual + rng.normal(0, 2, 50)
    assert rmse(actual, forecast) == pytest.approx(
        math.sqrt(metrics.mean_squared_error(actual, forecast))
    )
    assert mae(actual, forecast) == pytest.approx(metrics.mean_absolute_error(actual, forecast))
    assert mape(actual, forecast) == pytest.approx(
        100 * metrics.mean_absolute_percentage_error(actual, forecast)
    )


def test_mase_scale_skill_and_theil_by_hand():
    assert naive_scale([10.0, 11.0, 13.0, 12.0]) == pytest.approx(4 / 3)  # |1|, |2|, |-1|
    assert mase([10.0, 12.0], [11.0, 14.0], scale=1.5) == pytest.approx(1.5 / 1.5)
    actual, model, naive = [10.0, 12.0, 11.0], [10.5, 11.0, 11.0], [9.0, 10.0, 12.0]
    # model squared errors 0.25, 1, 0 -> MSE 1.25/3; naive 1, 4, 1 -> MSE 2
    assert theils_u(actual, model, naive) == pytest.approx(math.sqrt((1.25 / 3) / 2))
    assert skill_vs_naive_pct(actual, model, naive) == pytest.approx(100 * (1 - 1.25 / 6))
    assert skill_vs_naive_pct(actual, naive, naive) == 0.0
    assert theils_u(actual, naive, naive) == 1.0


def test_metric_errors_name_the_problem():
    with pytest.raises(ShapeError, match="same length"):
        rmse([1.0, 2.0], [1.0])
    with pytest.raises(ShapeError, match="1-D"):
        mae(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(DataError, match="NaN"):
        mae([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(DataError, match="contains 0"):
        mape([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(DataError, match="never change"):
        mase([1.0], [2.0], scale=naive_scale([5.0, 5.0, 5.0]))
    with pytest.raises(ShapeError, match="at least 2"):
        naive_scale([5.0])


# ------------------------------------------------------------- directional accuracy
def test_diebold_mariano_by_hand():
    actual, forecast, reference = [0.0] * 5, [1.0, 2.0, 0.0, 1.0, 2.0], [1.0] * 5
    # d = e_f^2 - e_r^2 = [0, 3, -1, 0, 3], mean 1, deviations [-1, 2, -2, -1, 2]
    # gamma_0 = 14/5 = 2.8; gamma_1 = (-2 - 4 + 2 - 2)/5 = -1.2
    # h=1: DM = 1/sqrt(2.8/5); HLN factor sqrt((5 + 1 - 2)/5) -> 1/sqrt(0.7)
    stat, p_value = diebold_mariano(actual, forecast, reference, horizon=1)
    assert stat == pytest.approx(1 / math.sqrt(0.7))
    stats = pytest.importorskip("scipy.stats")
    assert p_value == pytest.approx(2 * stats.t.sf(1 / math.sqrt(0.7), df=4))
    # h=2: V = (2.8 + 2 * -1.2)/5 = 0.08; HLN factor sqrt((5 + 1 - 4 + 2/5)/5) = sqrt(0.48)
    stat, p_value = diebold_mariano(actual, forecast, reference, horizon=2)
    assert stat == pytest.approx(math.sqrt(0.48 / 0.08))  # = sqrt(6)
    assert p_value == pytest.approx(2 * stats.t.sf(math.sqrt(6), df=4))
    # absolute loss: d = [0, 1, -1, 0, 1], mean 0.2
    stat, _ = diebold_mariano(actual, forecast, reference, power=1)
    dev = np.array([0, 1, -1, 0, 1]) - 0.2
    assert stat == pytest.approx(0.2 / math.sqrt(dev @ dev / 5 / 5) * math.sqrt(4 / 5))


def test_diebold_mariano_matches_statsmodels_ols_on_a_constant():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(1)
    actual = rng.normal(0, 1, 80)
    forecast, reference = actual + rng.normal(0, 0.9, 80), actual + rng.normal(0, 1.1, 80)
    d = (actual - forecast) ** 2 - (actual - reference) ** 2
    n = len(d)
    ols = sm.OLS(d, np.ones(n)).fit()
    stat, p_value = diebold_mariano(actual, forecast, reference, horizon=1)
    # for h=1 the uncorrected DM is t * sqrt(n/(n-1)) and HLN multiplies by sqrt((n-1)/n)
    assert stat == pytest.approx(ols.tvalues[0])
    assert p_value == pytest.approx(ols.pvalues[0])
    # h=3: uncorrected DM = t-stat with a uniform-kernel HAC variance (lags 1, 2)
    hac = sm.OLS(d, np.ones(n)).fit(
        cov_type="HAC", cov_kwds={"maxlags": 2, "kernel": "uniform", "use_correction": False}
    )
    stat, _ = diebold_mariano(actual, forecast, reference, horizon=3)
    hln = math.sqrt((n + 1 - 6 + 3 * 2 / n) / n)
    assert stat == pytest.approx(hac.tvalues[0] * hln)


def test_diebold_mariano_edge_cases():
    same = [1.0, 2.0, 3.0]
    assert all(math.isnan(v) for v in diebold_mariano([0.0] * 3, same, same))
    with pytest.raises(ShapeError, match="more observations"):
        diebold_mariano([0.0] * 3, same, [1.0] * 3, horizon=3)
    with pytest.raises(ConfigError, match="horizon"):
        diebold_mariano([0.0] * 3, same, [1.0] * 3, horizon=0)


# ---------------------------------------------------------------------- lag check
def random_walk(n: int = 200, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2022-01-03", periods=n, name="date")
    return pd.Series(100 + np.cumsum(rng.normal(0, 1, n)), index=index)


def test_lag_correlations_by_hand():
    actual = pd.Series([1.0, 4.0, 2.0, 8.0, 5.0, 7.0])
    forecast = pd.Series([2.0, 1.0, 5.0, 3.0, 9.0, 4.0])
    corr = lag_correlations(actual, forecast, max_lag=3)
    assert sorted(corr) == [-3, -2, -1, 0, 1, 2, 3]
    f, a = forecast.to_numpy(), actual.to_numpy()
    assert corr[1] == pytest.approx(np.corrcoef(f[:-1], a[1:])[0, 1])  # f_t vs a_{t+1}
    assert corr[-1] == pytest.approx(np.corrcoef(f[1:], a[:-1])[0, 1])  # f_t vs a_{t-1}
    assert corr[0] == pytest.approx(np.corrcoef(f, a)[0, 1])
    short = lag_correlations(actual.iloc[:4], forecast.iloc[:4])
    assert math.isnan(short[2]) and math.isnan(short[-3])  # 2 and 1 pairs: undefined


def test_lag_check_exposes_yesterdays_price():
    prices = random_walk()
    actual, yesterday = prices.iloc[1:], prices.shift(1).iloc[1:]
    skill = skill_vs_naive_pct(actual, yesterday, yesterday)
    assert skill <= 0
    check = lag_check(actual, yesterday, skill)
    assert check["best_lag"] == -1 and check["repeats_last_price"] is True
    assert check["correlations"][-1] == pytest.approx(1.0)


def test_lag_check_keeps_the_flag_unless_skill_is_significant_and_material():
    prices = random_walk()
    actual, yesterday = prices.iloc[1:], prices.shift(1).iloc[1:]
    # a copy of yesterday through float32: within 1e-7 of naive, whatever the sign of its skill
    copy = pd.Series(yesterday.to_numpy(np.float32).astype(np.float64), index=actual.index)
    for skill, significant in [(0.00001, True), (0.5, True), (25.0, False)]:
        check = lag_check(actual, copy, skill, significant=significant, base=yesterday)
        assert check["repeats_last_price"] is True and check["naive_share"] == 1.0
    # best lag -1 without naive values: flagged unless the skill is significant and >= 1 %
    smooth = yesterday + 0.05 * (actual - yesterday)
    assert lag_check(actual, smooth, 0.5, significant=True, base=yesterday)["repeats_last_price"]
    assert lag_check(actual, smooth, 5.0, significant=False)["repeats_last_price"]
    assert not lag_check(actual, smooth, 5.0, significant=True)["repeats_last_price"]


def test_lag_check_perfect_forecast():
    actual = random_walk()
    check = lag_check(actual, actual.copy(), skill_pct=100.0)
    assert check["best_lag"] == 0 and check["repeats_last_price"] is False


# ------------------------------------------------------------------ evaluate_forecasts
def small_example():
    """Six sessions, horizon 2, forecasts dated d1..d4 (step 2 targets d2..d5)."""
    dates = pd.bdate_range("2024-01-01", periods=6, name="date")
    actual = pd.Series([10.0, 11.0, 13.0, 12.0, 14.0, 15.0], index=dates)
    rows = dates[1:5]
    base = pd.Series([10.0, 11.0, 13.0, 12.0], index=rows)  # price on the day before
    naive = pd.DataFrame({"step_1": base.to_numpy(), "step_2": base.to_numpy()}, index=rows)
    model = pd.DataFrame(
        {
            "step_1": [11.0, 12.0, 12.0, 14.0],  # targets 11, 13, 12, 14
            "step_2": [13.0, 13.0, 14.0, 13.0],
        },  # targets 13, 12, 14, 15
        index=rows,
    )
    train = pd.Series([8.0, 9.0, 11.0, 10.0])  # MASE scale 4/3
    return actual, {"model": model, "naive": naive}, base, train


def test_evaluate_forecasts_by_hand_horizon_2():
    actual, forecasts, base, train = small_example()
    report = evaluate_forecasts(actual, forecasts, base, train)
    steps = report.per_step().set_index(["model", "step"])
    assert len(steps) == 4 and report.horizon == 2
    m1, m2 = steps.loc[("model", 1)], steps.loc[("model", 2)]
    # step 1: errors 0, 1, 0, 0; naive errors 1, 2, -1, 2 (MSE 2.5)
    assert m1["rmse"] == pytest.approx(0.5) and m1["mae"] == pytest.approx(0.25)
    assert m1["mape"] == pytest.approx(100 / 52) and m1["smape"] == pytest.approx(2.0)
    assert m1["mase"] == pytest.approx(0.25 / (4 / 3))
    assert m1["theils_u"] == pytest.approx(math.sqrt(0.25 / 2.5))
    assert m1["skill_vs_naive_pct"] == pytest.approx(90.0)
    # every call right: 3 up-calls on 3 up-moves, 1 down on 1 down; n=4 is small: Fisher's exact
    fisher = fisher_exact([[3, 0], [0, 1]], alternative="greater").pvalue
    assert m1["directional_accuracy"] == 1.0 and m1["directional_p_value"] == pytest.approx(fisher)
    assert m1["direction_base_rate"] == 0.75 and m1["direction_method"] == "fisher-exact"
    # step 2 is aligned one session later: errors 0, 1, 0, -2; naive errors 3, 1, 1, 3 (MSE 5)
    assert m2["mae"] == pytest.approx(0.75) and m2["rmse"] == pytest.approx(math.sqrt(1.25))
    assert m2["mase"] == pytest.approx(0.75 / (4 / 3))
    assert m2["theils_u"] == pytest.approx(0.5) and m2["skill_vs_naive_pct"] == pytest.approx(75)
    assert m2["directional_n"] == 4 and m2["directional_accuracy"] == 1.0
    targets2 = [13.0, 12.0, 14.0, 15.0]
    dm = diebold_mariano(targets2, forecasts["model"]["step_2"], base, horizon=2, power=1)
    assert m2["dm_statistic"] == pytest.approx(dm[0]) and m2["dm_p_value"] == pytest.approx(dm[1])
    n2 = steps.loc[("naive", 2)]
    assert n2["mae"] == pytest.approx(2.0) and n2["mase"] == pytest.approx(1.5)
    assert math.isnan(n2["dm_p_value"]) and math.isnan(n2["directional_accuracy"])


def test_report_frame_dict_and_text():
    actual, forecasts, base, train = small_example()
    lower = {k: v - 0.5 for k, v in forecasts.items()}
    upper = {k: v + 0.5 for k, v in forecasts.items()}
    report = evaluate_forecasts(
        actual,
        forecasts,
        base,
        train,
        intervals={"model": {"lower": lower["model"], "upper": upper["model"]}},
    )
    assert isinstance(report, EvaluationReport)
    frame = report.to_frame()
    assert list(frame.columns) == COLUMNS and frame.index.name == "model"
    assert list(frame.index) == ["model", "naive"]
    assert report.coverage == {"model": {"step_1": 0.75, "step_2": 0.5}}
    as_dict = report.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["models"]["naive"]["dm_p_value"] is None
    assert as_dict["models"]["model"]["rmse"] == pytest.approx(0.5)
    assert set(as_dict) >= {"models", "per_step", "lag_check", "coverage", "verdict"}
    text = str(report)
    assert "naive" in text and "verdict: " + str(report.verdict) in text and "coverage" in text
    assert as_dict["verdict"] == str(report.verdict)


def test_evaluate_forecasts_errors_name_the_problem():
    actual, forecasts, base, train = small_example()
    with pytest.raises(DataError, match="'naive'"):
        evaluate_forecasts(actual, {"model": forecasts["model"]}, base, train)
    shifted = forecasts["model"].copy()
    shifted.index = shifted.index[:2].append(shifted.index[2:] + pd.offsets.BDay(1))
    with pytest.raises(ShapeError, match=r"'naive' and 'model'.*2024-01-04"):
        evaluate_forecasts(actual, {**forecasts, "model": shifted}, base, train)
    with pytest.raises(ShapeError, match=r"'naive' and 'drift'.*only in 'naive'"):
        evaluate_forecasts(actual, {**forecasts, "drift": forecasts["naive"].iloc[:3]}, base, train)
    bad = forecasts["model"].rename(columns={"step_2": "step_3"})
    with pytest.raises(ShapeError, match=r"'model' has columns .*step_3"):
        evaluate_forecasts(actual, {**forecasts, "model": bad}, base, train)
    with pytest.raises(ShapeError, match="'model' has 1 steps"):
        evaluate_forecasts(
            actual, {**forecasts, "model": forecasts["model"][["step_1"]]}, base, train
        )
    with pytest.raises(ShapeError, match="base has 3 values"):
        evaluate_forecasts(actual, forecasts, base.to_numpy()[:3], train)
    nan = forecasts["model"].copy()
    nan.iloc[1, 1] = np.nan
    with pytest.raises(DataError, match="'model' is NaN or infinite in step_2 on 2024-01-03"):
        evaluate_forecasts(actual, {**forecasts, "model": nan}, base, train)
    with pytest.raises(DataError, match=r"step_2 .* 2024-01-05 .*after actual ends"):
        evaluate_forecasts(actual.iloc[:5], forecasts, base, train)
    with pytest.raises(
        ConfigError, match=r"interval_level must be in \(0, 1\), e\.g\. 0\.9; got 90"
    ):
        evaluate_forecasts(actual, forecasts, base, train, interval_level=90)
    with pytest.raises(DataError, match="2024-01-02 is not in actual"):
        evaluate_forecasts(actual.drop(actual.index[1]), forecasts, base, train)


# ------------------------------------------------------------------------ verdicts
def frames_from(actual: pd.Series, **named: np.ndarray) -> dict[str, pd.DataFrame]:
    index = actual.index[1:]
    return {name: pd.DataFrame({"step_1": values}, index=index) for name, values in named.items()}


def evaluate_planted(prices: pd.Series, **named: np.ndarray):
    base = prices.iloc[:-1].to_numpy()
    forecasts = frames_from(prices, naive=base, **named)
    return evaluate_forecasts(
        prices, forecasts, pd.Series(base, index=prices.index[1:]), prices.iloc[:50]
    )


def test_verdict_beats_naive_with_significant_direction():
    prices = random_walk(300, seed=2)
    target, base = prices.iloc[1:].to_numpy(), prices.iloc[:-1].to_numpy()
    model = base + 0.6 * (target - base)  # always the right direction, smaller errors
    report = evaluate_planted(prices, model=model, drift=base + 0.01)
    verdict = report.verdict
    assert verdict.outcome == "beats"
    assert str(verdict).startswith("model beats naive significantly on MASE")
    assert "direction: 100.0% right vs " in str(verdict)
    assert "(Pesaran-Timmermann p<0.001): significant directional skill" in str(verdict)
    assert "repeats" not in str(verdict) and "best baseline" not in str(verdict)
    assert "DM p<0.001" in str(verdict)
    assert report.lag["repeats_last_price"] is False


def test_verdict_no_skill_repeats_last_price():
    prices = random_walk(300, seed=3)
    target, base = prices.iloc[1:].to_numpy(), prices.iloc[:-1].to_numpy()
    noise = np.random.default_rng(4).normal(0, 0.3, len(base))
    report = evaluate_planted(prices, model=base + noise, linear_ar=target + 0.1 * noise)
    verdict = str(report.verdict)
    assert report.to_frame().loc["model", "mae_skill_pct"] < 0
    assert report.verdict.outcome in {"level", "worse"}
    assert "it mostly repeats the last price (best lag -1)" in verdict
    assert "best baseline: linear_ar" in verdict
    assert "no evidence of directional skill" in verdict
    assert report.lag["best_lag"] == -1 and report.lag["repeats_last_price"] is True


@pytest.mark.parametrize("seed", [6, 7])
def test_verdict_naive_plus_a_hair_is_naive(seed):
    # naive plus 1e-6: a hair better (seed 6) or consistently a hair worse (seed 7) than
    # naive; either way it is the naive forecast, level with it, and it repeats the last price
    prices = random_walk(300, seed=seed)
    report = evaluate_planted(prices, model=prices.iloc[:-1].to_numpy() + 1e-6)
    verdict = report.verdict
    assert verdict.outcome == "level"
    assert str(verdict).startswith("no evidence of skill: model is level with naive on MASE")
    assert "it mostly repeats the last price (100% of its forecasts equal it)" in str(verdict)
    assert report.lag["naive_share"] == 1.0


def test_one_verdict_lower_mse_but_higher_mae_than_naive():
    # naive misses little on calm days and a lot on the 10 % of jump days; the model catches
    # every jump but misses by 1 on calm days: lower MSE than naive, higher MAE
    rng = np.random.default_rng(0)
    n = 400
    jump = rng.random(n) < 0.1
    moves = rng.choice([-1.0, 1.0], n) * np.where(jump, 5.0, 0.1)
    index = pd.bdate_range("2020-01-01", periods=n + 1, name="date")
    prices = pd.Series(100 + np.cumsum(np.r_[0.0, moves]), index=index)
    target = prices.iloc[1:].to_numpy()
    model = target + np.where(jump, 0.0, rng.choice([-1.0, 1.0], n))
    report = evaluate_planted(prices, model=model)
    table = report.to_frame()
    assert table.at["model", "skill_vs_naive_pct"] > 0  # MSE skill: better than naive
    assert table.at["model", "mae_skill_pct"] < 0  # MAE skill: worse than naive
    verdict = report.verdict
    assert verdict.outcome in {"level", "worse"}
    sentence = str(verdict)
    colour, label = verdict.badge()
    assert colour in {"amber", "red"} and "Beats" not in label and "beats naive" not in sentence
    details = verdict.to_dict()
    assert details["outcome"] == verdict.outcome and details["sentence"] == sentence
    assert details["badge"] == {"colour": colour, "label": label}
    as_dict = report.to_dict()
    assert as_dict["verdict"] == sentence and as_dict["verdict_details"] == details
    assert table.at["model", "dm_p_value"] == pytest.approx(
        diebold_mariano(target, model, prices.iloc[:-1], power=1)[1]
    )
