"""Issue 14, items 8, 9 and 12: dates, tickers and unused columns in read_csv and the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.cli import main
from rnncast.cli.config import load_config
from rnncast.cli.pipelines import load_data
from rnncast.datasets import read_csv
from rnncast.exceptions import DataError


def csv(text: str) -> io.StringIO:
    return io.StringIO(text)


def days(frame: pd.DataFrame) -> list[str]:
    return [f"{d:%Y-%m-%d}" for d in frame.index]


def closes(n: int, start: float = 100.0) -> list[float]:
    return [round(start * 1.01**i, 4) for i in range(n)]


def write(path: Path, dates: list[str], tickers: list[str] | None = None, **extra) -> Path:
    frame = pd.DataFrame({"Date": dates, "Close": closes(len(dates)), **extra})
    if tickers is not None:
        frame.insert(0, "Ticker", tickers)
    frame.to_csv(path, index=False)
    return path


# --- item 8: dates --------------------------------------------------------------------------


def test_day_first_file_is_read_day_first_even_when_most_days_are_12_or_less():
    text = "Date,Close\n01/03/2012,1\n02/03/2012,1.1\n13/03/2012,1.2\n"
    assert days(read_csv(csv(text))) == ["2012-03-01", "2012-03-02", "2012-03-13"]


def test_month_first_file_is_decided_by_its_second_field():
    text = "Date,Close\n03/01/2012,1\n03/02/2012,1.1\n03/13/2012,1.2\n"
    assert days(read_csv(csv(text))) == ["2012-03-01", "2012-03-02", "2012-03-13"]


def test_undecidable_day_month_order_asks_for_date_format():
    text = "Date,Close\n01/03/2012,1\n02/03/2012,1.1\n"
    with pytest.raises(DataError, match="read both day-first and month-first") as info:
        read_csv(csv(text))
    assert "date_format='%d/%m/%Y'" in str(info.value)
    assert "date_format='%m/%d/%Y'" in str(info.value)
    assert days(read_csv(csv(text), date_format="%d/%m/%Y")) == ["2012-03-01", "2012-03-02"]
    assert days(read_csv(csv(text), date_format="%m/%d/%Y")) == ["2012-01-03", "2012-02-03"]


def test_a_wrong_date_format_names_the_line_and_value():
    with pytest.raises(DataError, match=r"'01/03/2012' on line 2.*%Y-%m-%d"):
        read_csv(csv("Date,Close\n01/03/2012,1\n"), date_format="%Y-%m-%d")


def test_iso_dates_are_never_ambiguous():
    text = "Date,Close\n2012-01-03,1\n2012-02-03,1.1\n"
    assert days(read_csv(csv(text))) == ["2012-01-03", "2012-02-03"]


@pytest.mark.parametrize("scale", [1, 1000], ids=["seconds", "milliseconds"])
def test_epoch_times_are_read_by_magnitude(scale):
    text = f"Date,Close\n{1704153600 * scale},1\n{1704240000 * scale},1.1\n"
    assert days(read_csv(csv(text))) == ["2024-01-02", "2024-01-03"]


def test_integer_years_are_years():
    frame = read_csv(csv("Year,Close\n1999,1\n2000,1.1\n2001,1.2\n"))
    assert days(frame) == ["1999-01-01", "2000-01-01", "2001-01-01"]


def test_small_numbers_are_not_taken_as_nanoseconds():
    with pytest.raises(DataError, match="neither YYYYMMDD dates, 4-digit years nor epoch"):
        read_csv(csv("Date,Close\n1,1\n2,1.1\n"))


def test_intraday_bars_are_refused_with_the_resample_recipe():
    text = "Datetime,Close\n2024-01-02 09:30,1\n2024-01-02 10:30,1.1\n2024-01-03 09:30,1.2\n"
    with pytest.raises(DataError, match=r"intraday bars \(2 rows on 2024-01-02") as info:
        read_csv(csv(text))
    assert "frame.resample('1D')" in str(info.value)


def test_one_timestamp_per_day_is_a_daily_bar():
    text = "Datetime,Close\n2024-01-02 16:00,1\n2024-01-03 16:00,1.1\n"
    assert days(read_csv(csv(text))) == ["2024-01-02", "2024-01-03"]
    assert (read_csv(csv(text)).index.time == pd.Timestamp("2024-01-02").time()).all()


def test_dates_past_2262_name_the_line_and_value():
    with pytest.raises(DataError, match=r"'2300-01-02' on line 3, outside the dates pandas"):
        read_csv(csv("Date,Close\n2024-01-02,1\n2300-01-02,1.1\n"))
    with pytest.raises(DataError, match=r"20991231000 on line 2.*after 2262-04-11"):
        read_csv(csv("Date,Close\n20991231000,1\n20991231001,1.1\n"))


def test_blank_date_next_to_a_non_number_names_the_line():
    with pytest.raises(DataError, match=r"date column 'Date' is blank on line 3"):
        read_csv(csv("Date,Close\n2024-01-02,1\n,abc\n2024-01-04,1.2\n"))


def test_impossible_date_names_the_line():
    with pytest.raises(DataError, match=r"'2024-02-30' on line 3, which is not a date"):
        read_csv(csv("Date,Close\n2024-02-28,1\n2024-02-30,1.1\n"))


def test_mixed_date_formats_are_named():
    with pytest.raises(DataError, match=r"mixes date formats: '2024-01-02' on line 2"):
        read_csv(csv("Date,Close\n2024-01-02,1\n03/01/2024,1.1\n"))


def test_yfinance_dates_with_dst_offsets_keep_the_exchange_date():
    text = (
        "Date,Open,High,Low,Close,Volume\n"
        "2024-03-08 00:00:00-05:00,1,1,1,1,10\n"
        "2024-03-11 00:00:00-04:00,1,1,1,1.1,10\n"
        "2024-11-04 00:00:00-05:00,1,1,1,1.2,10\n"
    )
    assert days(read_csv(csv(text))) == ["2024-03-08", "2024-03-11", "2024-11-04"]


def test_rows_with_every_field_blank_are_skipped():
    frame = read_csv(csv("Date,Close\n2024-01-02,1\n,\n2024-01-03,1.1\n"))
    assert days(frame) == ["2024-01-02", "2024-01-03"]


# --- item 9: tickers ------------------------------------------------------------------------

LONG = ["2024-01-02", "2024-01-03", "2024-01-04"] * 2


def test_multi_ticker_file_without_ticker_is_a_universe_in_the_cli_path(tmp_path):
    # a long file without --ticker is one universe run (issue 15), not an error
    path = write(tmp_path / "long.csv", LONG, ["AAA"] * 3 + ["BBB"] * 3)
    data = load_config(overrides=[f"data.csv='{path}'"])["data"]
    frame, _ = load_data(data)
    assert sorted(frame["ticker"].unique()) == ["AAA", "BBB"]
    assert frame.groupby("ticker")["close"].apply(list).to_dict() == {
        "AAA": closes(6)[:3],
        "BBB": closes(6)[3:],
    }


def test_ticker_matching_ignores_case_in_the_cli_path(tmp_path):
    path = write(tmp_path / "long.csv", LONG, ["AAA"] * 3 + ["BBB"] * 3)
    data = load_config(overrides=[f"data.csv='{path}'", "data.ticker=bbb"])["data"]
    frame, _ = load_data(data)
    assert "ticker" not in frame.columns and frame["close"].tolist() == closes(6)[3:]


def test_missing_ticker_is_named_with_the_tickers_the_file_has(tmp_path):
    path = write(tmp_path / "long.csv", LONG, ["AAA"] * 3 + ["BBB"] * 3)
    with pytest.raises(DataError, match=r"'ZZZZ' is missing from .*long\.csv.*holds AAA, BBB"):
        read_csv(path, ticker="ZZZZ")
    assert main(["train", "--csv", str(path), "--ticker", "ZZZZ", "--out", str(tmp_path)]) == 2


def test_ticker_for_a_single_series_file_is_an_error_unless_the_file_is_named_so(tmp_path):
    plain = write(tmp_path / "prices.csv", LONG[:3])
    with pytest.raises(DataError, match=r"ticker='MSFT' was given but .*no ticker column"):
        read_csv(plain, ticker="MSFT")
    named = write(tmp_path / "msft_daily.csv", LONG[:3])
    assert days(read_csv(named, ticker="msft")) == LONG[:3]


def test_ticker_for_a_single_series_file_in_the_cli_names_the_option(tmp_path, capsys):
    plain = write(tmp_path / "prices.csv", LONG[:3])
    assert main(["train", "--csv", str(plain), "--ticker", "MSFT", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no ticker column" in err and "leave --ticker (data.ticker) out" in err


def test_file_with_a_single_ticker_is_that_tickers_series(tmp_path):
    path = write(tmp_path / "one.csv", LONG[:3], ["MSFT"] * 3)
    data = load_config(overrides=[f"data.csv='{path}'"])["data"]
    frame, _ = load_data(data)
    assert list(frame.columns) == ["close"] and days(frame) == LONG[:3]
    single = rc.data.validation.single_series(read_csv(path))
    assert list(single.columns) == ["close"]


def test_csv_on_the_command_line_ignores_the_configs_sample_ticker(tmp_path):
    """The packaged configs say ticker = "AAPL" for the sample; --csv replaces the source."""
    from rnncast.cli.main import _config, _parser

    plain = write(tmp_path / "prices.csv", LONG[:3])
    args = _parser().parse_args(["run", "--config", "gru", "--csv", str(plain)])
    config = _config(args)
    assert config["data"]["ticker"] is None
    frame, _ = load_data(config["data"])
    assert days(frame) == LONG[:3]


# --- item 12: only the columns in use must be complete; constant prices ----------------------


def test_unused_extra_column_with_blanks_does_not_block_the_file():
    text = "Date,Close,Dividend\n2024-01-02,1,\n2024-01-03,1.1,0.5\n2024-01-04,1.2,\n"
    frame = read_csv(csv(text))
    assert frame["close"].tolist() == [1.0, 1.1, 1.2]
    assert np.isnan(frame["dividend"].iloc[0])


def test_unused_price_column_with_blanks_does_not_block_a_run(tmp_path):
    path = write(tmp_path / "p.csv", LONG[:3], Open=[1.0, np.nan, 1.2])
    with pytest.raises(DataError, match="'open' is NaN"):
        read_csv(path)  # every price column is in use by default
    frame, _ = load_data(load_config(overrides=[f"data.csv='{path}'"])["data"])
    assert frame["close"].tolist() == closes(3)


def test_constant_prices_are_refused_before_training():
    text = "Date,Close\n" + "".join(f"2024-01-{d:02d},5\n" for d in range(2, 12))
    with pytest.raises(DataError, match=r"column 'close' is constant \(5 on all 10 rows\)"):
        read_csv(csv(text))
    frame = read_csv(csv(text), validate=False)
    forecaster = rc.Forecaster([rc.layers.Dense(1)], lookback=2)
    with pytest.raises(DataError, match=r"train column 'close' is constant"):
        forecaster.fit(frame, epochs=1, verbose=0)
    assert not hasattr(forecaster, "model_")  # refused before any training
