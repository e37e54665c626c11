"""Issue 14, items 10 and 12: impossible prices, split-like jumps, constant series, used columns."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from conftest import make_long, make_prices
from rnncast.cli import main
from rnncast.data.validation import JUMP_LIMIT, check_jumps
from rnncast.exceptions import DataError


def series(values, start="2024-01-01") -> pd.DataFrame:
    index = pd.bdate_range(start, periods=len(values), name="date")
    return pd.DataFrame({"close": np.asarray(values, dtype=float)}, index=index)


def walk(n=40, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))


def test_one_day_1000x_spike_is_a_probable_data_error_naming_the_dates():
    values = walk()
    values[20] *= 1000
    frame = series(values)
    with pytest.raises(DataError, match="probable data error") as info:
        rc.data.validate(frame)
    message = str(info.value)
    assert f"{frame.index[20]:%Y-%m-%d} (x" in message and f"{frame.index[21]:%Y-%m-%d}" in message
    assert "allow_jumps=True" in message
    assert rc.data.validate(frame, allow_jumps=True) is frame


@pytest.mark.parametrize("factor", [1000.0, 2.0, 3.0, 0.5, 1 / 3, 0.25])
def test_permanent_jump_looks_like_an_unadjusted_split(factor):
    values = walk()
    values[25:] *= factor
    frame = series(values)
    with pytest.raises(DataError, match="looks like an unadjusted split; use adjusted prices") as e:
        rc.data.validate(frame)
    assert f"on {frame.index[25]:%Y-%m-%d}" in str(e.value)
    rc.data.validate(frame, allow_jumps=True)


def test_two_for_one_split_on_an_up_day_is_still_caught():
    values = walk()
    values[25:] *= 0.5 * 1.02  # x0.51: inside the 50 % limit, but split-sized and permanent
    assert abs(values[25] / values[24] - 1) < JUMP_LIMIT + 0.02
    with pytest.raises(DataError, match="unadjusted split"):
        check_jumps(series(values))


def test_real_crash_that_is_not_split_sized_passes():
    """AAPL's -52 % on 2000-09-29 is in the bundled sample: a real move, not an error."""
    aapl = rc.datasets.load_sample("AAPL")
    ratio = aapl["close"] / aapl["close"].shift()
    assert ratio.loc["2000-09-29"] < 0.5
    rc.data.validate(aapl)
    values = walk()
    values[25:] *= 0.4  # a permanent -60 % is a crash, not a split
    rc.data.validate(series(values))


def test_bundled_samples_and_synthetic_test_data_pass():
    for ticker in rc.datasets.available_samples():
        for adjusted in (True, False):
            rc.datasets.load_sample(ticker, adjusted=adjusted)
    rc.data.validate(make_prices(300))
    rc.data.validate(make_long())


def test_absurd_and_non_finite_values_name_the_row_even_with_allow_jumps():
    values = walk(10)
    values[4] = 1e300
    frame = series(values)
    with pytest.raises(DataError, match=r"absurdly large .*1e\+300.* first on 2024-01-05"):
        rc.data.validate(frame, allow_jumps=True)
    values[4] = np.inf
    with pytest.raises(DataError, match=r"'close' is infinite on 1 row.*2024-01-05"):
        rc.data.validate(series(values), allow_jumps=True)
    values[4] = 0.0
    with pytest.raises(DataError, match=r"'close' is <= 0.*2024-01-05"):
        rc.data.validate(series(values), allow_jumps=True)


def test_read_csv_checks_the_adjusted_close_and_allow_jumps_proceeds():
    rows = [f"2024-01-{d:02d},{(100 if d < 15 else 50) + d * 0.1:.2f}" for d in range(2, 28)]
    text = "Date,Close\n" + "\n".join(rows) + "\n"
    with pytest.raises(DataError, match="unadjusted split"):
        rc.datasets.read_csv(io.StringIO(text))
    assert len(rc.datasets.read_csv(io.StringIO(text), allow_jumps=True)) == 26
    adjusted = [f"{50 + d * 0.05:.3f}" for d in range(2, 28)]
    with_adj = "Date,Close,Adj Close\n" + "\n".join(
        f"{r},{a}" for r, a in zip(rows, adjusted, strict=True)
    )
    frame = rc.datasets.read_csv(io.StringIO(with_adj))  # adjusted=True: the split is gone
    assert frame["close"].iloc[0] == pytest.approx(50.1)
    raw = rc.datasets.read_csv(io.StringIO(with_adj), adjusted=False)  # raw asked for explicitly
    assert raw["close"].iloc[-1] == pytest.approx(52.7)


def test_cli_names_allow_jumps_and_the_flag_proceeds(tmp_path, capsys):
    values = walk(120)
    values[60:] *= 1000
    path = tmp_path / "jumpy.csv"
    series(values).to_csv(path)
    assert main(["train", "--csv", str(path), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "looks like an unadjusted split" in err and "pass --allow-jumps" in err
    from rnncast.cli.main import _config, _parser
    from rnncast.cli.pipelines import load_data

    args = _parser().parse_args(["train", "--csv", str(path), "--allow-jumps"])
    frame, _ = load_data(_config(args)["data"])
    assert len(frame) == 120


def test_constant_close_is_refused_naming_the_column():
    with pytest.raises(DataError, match=r"column 'close' is constant \(7 on all 5 rows\)"):
        rc.data.validate(series([7.0] * 5))
    long = make_long(("AAA", "BBB"), n=20)
    long.loc[long["ticker"] == "BBB", "close"] = 3.0
    with pytest.raises(DataError, match="'close' for ticker 'BBB' is constant"):
        rc.data.validate(long)


def test_only_the_columns_in_use_must_be_complete():
    frame = make_prices(20, columns=("close", "volume")).assign(dividend=np.nan)
    frame.iloc[3, 1] = np.nan  # a blank volume
    with pytest.raises(DataError, match="'volume' is NaN"):
        rc.data.validate(frame)
    assert rc.data.validate(frame, columns=["close"]) is frame
    dropped = rc.data.validate(frame, columns=["close", "volume"], fill="drop")
    assert len(dropped) == 19
    with pytest.raises(DataError, match=r"\['open'\] are used but not in the frame"):
        rc.data.validate(frame, columns=["open"])
