"""rnncast.datasets.read_csv: formats, normalisation, ordering and error messages."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnncast.datasets import load_sample, read_csv
from rnncast.exceptions import ConfigError, DataError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
KAGGLE = SHARED / "sandp500_5yr" / "all_stocks_5yr.csv.gz"
HSMD = SHARED / "hsmd" / "hsmd_sp500_1990_2017.csv.gz"

YAHOO = """Date,Open,High,Low,Close,Adj Close,Volume
2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700
2024-01-03,184.22,185.88,183.43,184.25,183.55,58414500
2024-01-04,182.15,183.09,180.88,181.91,181.22,71983600
"""
STOOQ = """Date,Open,High,Low,Close,Volume
2024-01-02,370.87,376.02,366.5,370.6,25258600
2024-01-03,369.01,373.26,368.51,370.2,23083500
"""
PRICES = ["open", "high", "low", "close"]


def write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def dates(*days: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(days, name="date")


# --- well-formed files -------------------------------------------------------------------------


def test_yahoo_export_is_normalised_and_adjusted(tmp_path):
    frame = read_csv(write(tmp_path, YAHOO))
    assert list(frame.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert (frame.dtypes == np.float64).all()
    assert frame.index.equals(dates("2024-01-02", "2024-01-03", "2024-01-04"))
    assert frame.index.dtype == "datetime64[ns]"
    ratio = 184.94 / 185.64
    assert frame.iloc[0]["open"] == pytest.approx(187.15 * ratio)
    assert frame.iloc[0]["high"] == pytest.approx(188.44 * ratio)
    assert frame.iloc[0]["low"] == pytest.approx(183.89 * ratio)
    assert frame["close"].tolist() == pytest.approx([184.94, 183.55, 181.22])
    assert frame["volume"].tolist() == [82488700.0, 58414500.0, 71983600.0]


def test_adjusted_false_keeps_raw_prices(tmp_path):
    frame = read_csv(write(tmp_path, YAHOO), adjusted=False)
    assert frame.iloc[0][PRICES].tolist() == [187.15, 188.44, 183.89, 185.64]
    assert frame["adj_close"].tolist() == [184.94, 183.55, 181.22]


def test_stooq_export_reads_without_adj_close(tmp_path):
    frame = read_csv(write(tmp_path, STOOQ))
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert (frame.dtypes == np.float64).all()
    assert frame.index.equals(dates("2024-01-02", "2024-01-03"))
    assert frame.iloc[0].tolist() == [370.87, 376.02, 366.5, 370.6, 25258600.0]
    assert frame["close"].tolist() == [370.6, 370.2]


def test_stooq_polish_headers(tmp_path):
    text = "Data,Otwarcie,Najwyzszy,Najnizszy,Zamkniecie,Wolumen\n2024-01-02,10,11,9,10.5,1000\n"
    frame = read_csv(write(tmp_path, text))
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.iloc[0].tolist() == [10.0, 11.0, 9.0, 10.5, 1000.0]


def test_stooq_bulk_format_with_integer_dates(tmp_path):
    text = (
        "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
        "AAPL.US,D,20240103,000000,184.2,185.8,183.4,184.2,58414500,0\n"
        "AAPL.US,D,20240102,000000,187.1,188.4,183.8,185.6,82488700,0\n"
    )
    frame = read_csv(write(tmp_path, text), ticker="AAPL.US")
    assert frame.index.equals(dates("2024-01-02", "2024-01-03"))  # newest-first reversed
    assert frame["close"].tolist() == [185.6, 184.2]
    assert "per" not in frame.columns  # non-numeric extra column dropped


def test_timezone_aware_timestamps_keep_their_local_dates(tmp_path):
    text = "Datetime,Close\n2024-01-02 00:00:00-05:00,1\n2024-01-03 00:00:00-05:00,2\n"
    frame = read_csv(write(tmp_path, text))
    assert frame.index.equals(dates("2024-01-02", "2024-01-03"))


@pytest.mark.parametrize(
    "header",
    ["Adj Close", "adj close", "AdjClose", "Adj_Close", "ADJ CLOSE", "adjclose", "Adjusted Close"],
)
def test_adj_close_spellings(tmp_path, header):
    text = f"Date,Close,{header}\n2024-01-02,10,5\n"
    frame = read_csv(write(tmp_path, text), adjusted=False)
    assert list(frame.columns) == ["close", "adj_close"]
    assert frame["adj_close"].tolist() == [5.0]


@pytest.mark.parametrize(
    "header", ["date", "Date", "DATE", "timestamp", "Datetime", "day", " Day "]
)
def test_date_column_spellings(tmp_path, header):
    frame = read_csv(write(tmp_path, f"{header},close,Vol\n2024-01-02,10,7\n2024-01-03,11,8\n"))
    assert frame.index.equals(dates("2024-01-02", "2024-01-03"))
    assert frame["volume"].tolist() == [7.0, 8.0]


def test_extra_numeric_columns_keep_snake_case_names(tmp_path):
    text = (
        "Date,Close,Open Interest,DividendAmount,Currency\n"
        "2024-01-02,10,3,0.5,USD\n2024-01-03,11,4,0,USD\n"
    )
    frame = read_csv(write(tmp_path, text))
    assert list(frame.columns) == ["close", "open_interest", "dividend_amount"]
    assert frame["open_interest"].tolist() == [3.0, 4.0]
    assert frame["open_interest"].dtype == np.float64


def test_price_column_is_used_as_close(tmp_path):
    frame = read_csv(write(tmp_path, "date,price\n2024-01-02,10\n2024-01-03,12\n"))
    assert list(frame.columns) == ["close"]
    assert frame["close"].tolist() == [10.0, 12.0]


def test_newest_first_file_comes_back_ascending(tmp_path):
    lines = YAHOO.splitlines()
    text = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    frame = read_csv(write(tmp_path, text), adjusted=False)
    assert frame.index.equals(dates("2024-01-02", "2024-01-03", "2024-01-04"))
    assert frame["close"].tolist() == [185.64, 184.25, 181.91]
    assert frame["volume"].tolist() == [82488700.0, 58414500.0, 71983600.0]
    pd.testing.assert_frame_equal(frame, read_csv(write(tmp_path, YAHOO, "up.csv"), adjusted=False))


def test_path_str_file_object_buffer_and_gzip_are_accepted(tmp_path):
    path = write(tmp_path, YAHOO)
    expected = read_csv(path)
    pd.testing.assert_frame_equal(read_csv(str(path)), expected)
    with path.open() as handle:
        pd.testing.assert_frame_equal(read_csv(handle), expected)
    pd.testing.assert_frame_equal(read_csv(io.StringIO(YAHOO)), expected)
    packed = tmp_path / "prices.csv.gz"
    packed.write_bytes(gzip.compress(YAHOO.encode()))
    pd.testing.assert_frame_equal(read_csv(packed), expected)


def test_read_csv_kwargs_are_passed_to_pandas(tmp_path):
    text = YAHOO.replace(",", ";")
    frame = read_csv(write(tmp_path, text), sep=";", nrows=2, index_col="Date")
    assert frame.index.equals(dates("2024-01-02", "2024-01-03"))


def test_round_trip_of_a_sample_written_with_to_csv(tmp_path):
    raw = load_sample("IBM", adjusted=False)
    path = tmp_path / "ibm.csv"
    raw.to_csv(path)
    pd.testing.assert_frame_equal(read_csv(path, adjusted=False), raw, check_exact=True)
    pd.testing.assert_frame_equal(read_csv(path), load_sample("IBM"), rtol=1e-12)


# --- multi-ticker (long) files -----------------------------------------------------------------

KAGGLE_STYLE = """date,open,high,low,close,volume,Name
2013-02-08,27.35,27.71,27.31,27.55,33318306,MSFT
2013-02-11,27.65,27.92,27.5,27.86,32247549,MSFT
2013-02-12,27.88,28.0,27.75,27.88,35990829,MSFT
2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL
2013-02-11,14.89,15.01,14.26,14.46,8882000,AAL
"""
HSMD_STYLE = """Ticker,Date,Open,High,Low,Close,Volume
MSFT,2013-02-12,27.88,28.0,27.75,27.88,35990829
MSFT,2013-02-11,27.65,27.92,27.5,27.86,32247549
MSFT,2013-02-08,27.35,27.71,27.31,27.55,33318306
AAL,2013-02-11,14.89,15.01,14.26,14.46,8882000
AAL,2013-02-08,15.07,15.12,14.63,14.75,8407500
"""


@pytest.mark.parametrize(
    "text",
    [KAGGLE_STYLE, HSMD_STYLE, HSMD_STYLE.replace("Ticker", "symbol")],
    ids=["Name", "Ticker-newest-first", "symbol"],
)
def test_long_file_gives_long_frame_grouped_by_sorted_ticker(tmp_path, text):
    frame = read_csv(write(tmp_path, text))
    assert list(frame.columns) == ["ticker", "open", "high", "low", "close", "volume"]
    assert frame["ticker"].tolist() == ["AAL", "AAL", "MSFT", "MSFT", "MSFT"]
    assert frame.index.equals(
        dates("2013-02-08", "2013-02-11", "2013-02-08", "2013-02-11", "2013-02-12")
    )
    assert frame["close"].tolist() == [14.75, 14.46, 27.55, 27.86, 27.88]
    assert frame["volume"].tolist()[0] == 8407500.0
    assert isinstance(frame["ticker"].iloc[0], str)


def test_interleaved_newest_first_long_file_is_grouped_and_reversed(tmp_path):
    text = (
        "Date,Symbol,Close\n2024-01-03,MSFT,3\n2024-01-03,AAL,30\n"
        "2024-01-02,MSFT,2\n2024-01-02,AAL,20\n2024-01-01,MSFT,1\n2024-01-01,AAL,10\n"
    )
    frame = read_csv(write(tmp_path, text))
    assert frame["ticker"].tolist() == ["AAL"] * 3 + ["MSFT"] * 3
    assert frame["close"].tolist() == [10.0, 20.0, 30.0, 1.0, 2.0, 3.0]
    assert frame.index.equals(dates(*["2024-01-01", "2024-01-02", "2024-01-03"] * 2))


@pytest.mark.parametrize("wanted", ["MSFT", "msft"])
def test_ticker_selects_one_series(tmp_path, wanted):
    frame = read_csv(write(tmp_path, HSMD_STYLE), ticker=wanted)
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.index.equals(dates("2013-02-08", "2013-02-11", "2013-02-12"))
    assert frame["close"].tolist() == [27.55, 27.86, 27.88]


def test_absent_ticker_lists_available_ones(tmp_path):
    with pytest.raises(DataError, match="'TSLA' is missing") as info:
        read_csv(write(tmp_path, KAGGLE_STYLE), ticker="TSLA")
    assert "AAL, MSFT" in str(info.value)


def test_ticker_on_a_single_series_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no ticker column"):
        read_csv(write(tmp_path, STOOQ), ticker="MSFT")


def test_duplicate_date_inside_one_ticker_is_reported_with_the_ticker(tmp_path):
    text = KAGGLE_STYLE + "2013-02-11,14.89,15.01,14.26,14.46,8882000,AAL\n"
    with pytest.raises(DataError, match="duplicate dates for ticker 'AAL': 2013-02-11"):
        read_csv(write(tmp_path, text))


# --- messy files: reported, never repaired ---------------------------------------------------


def test_dates_out_of_order_in_the_middle(tmp_path):
    text = "Date,Close\n2024-01-02,1\n2024-01-04,2\n2024-01-03,3\n2024-01-05,4\n"
    path = write(tmp_path, text)
    with pytest.raises(DataError, match="out of order") as info:
        read_csv(path)
    message = str(info.value)
    assert "2024-01-03" in message and "sort" in message.lower() and str(path) in message
    unchecked = read_csv(path, validate=False)  # validate=False skips the check, keeps file order
    assert unchecked["close"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_duplicate_dates_are_named(tmp_path):
    text = "Date,Close\n2024-01-02,1\n2024-01-03,2\n2024-01-03,3\n"
    with pytest.raises(DataError, match="duplicate dates: 2024-01-03"):
        read_csv(write(tmp_path, text))


@pytest.mark.parametrize("missing", ["", "null"])
def test_nan_row_names_column_date_and_fill(tmp_path, missing):
    text = f"Date,Open,Close\n2024-01-02,1,1\n2024-01-03,{missing},2\n2024-01-04,3,3\n"
    path = write(tmp_path, text)
    with pytest.raises(DataError, match="'open' is NaN") as info:
        read_csv(path)
    assert "2024-01-03" in str(info.value) and "fill=" in str(info.value)
    assert read_csv(path, fill="ffill")["open"].tolist() == [1.0, 1.0, 3.0]
    assert read_csv(path, fill="drop").index.equals(dates("2024-01-02", "2024-01-04"))
    assert np.isnan(read_csv(path, validate=False)["open"].iloc[1])


def test_fill_without_validation_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="validate=True"):
        read_csv(write(tmp_path, STOOQ), validate=False, fill="ffill")


@pytest.mark.parametrize("value", ["0", "-1.5"])
def test_non_positive_price_names_the_column(tmp_path, value):
    text = f"Date,Open,Close\n2024-01-02,1,1\n2024-01-03,2,{value}\n"
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=r"'close' is <= 0.*2024-01-03"):
        read_csv(path)
    assert read_csv(path, validate=False)["close"].iloc[1] == float(value)


def test_text_in_a_price_column_is_named(tmp_path):
    path = write(tmp_path, "Date,Close\n2024-01-02,1\n2024-01-03,abc\n")
    with pytest.raises(DataError, match=r"'Close' holds 'abc' on 2024-01-03"):
        read_csv(path)


# --- unreadable inputs -------------------------------------------------------------------------


def test_no_date_column(tmp_path):
    path = write(tmp_path, "When,Close\nmonday,1\n")
    with pytest.raises(DataError, match="no date column") as info:
        read_csv(path)
    message = str(info.value)
    assert str(path) in message and "'When', 'Close'" in message and "date_column=" in message


def test_no_price_column(tmp_path):
    path = write(tmp_path, "Date,Foo\n2024-01-02,1\n")
    with pytest.raises(DataError, match="no close/price column") as info:
        read_csv(path)
    assert str(path) in str(info.value) and "'Date', 'Foo'" in str(info.value)
    assert "columns=" in str(info.value)


def test_unparseable_dates(tmp_path):
    path = write(tmp_path, "Date,Close\nsoon,1\nlater,2\n")
    with pytest.raises(DataError, match=r"date column 'Date' \(first: 'soon'") as info:
        read_csv(path)
    assert str(path) in str(info.value)


def test_empty_file_and_header_only_file(tmp_path):
    empty = write(tmp_path, "", "empty.csv")
    with pytest.raises(DataError, match="empty") as info:
        read_csv(empty)
    assert str(empty) in str(info.value) and "columns seen: none" in str(info.value)
    header = write(tmp_path, "Date,Close\n", "header.csv")
    with pytest.raises(DataError, match="no rows") as info:
        read_csv(header)
    assert str(header) in str(info.value) and "'Date', 'Close'" in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match="no such file") as info:
        read_csv(path)
    assert str(path) in str(info.value)


def test_buffer_is_named_in_errors():
    with pytest.raises(DataError, match="<buffer>"):
        read_csv(io.StringIO("a,b\n1,2\n"))


def test_two_columns_for_one_name_is_an_error(tmp_path):
    with pytest.raises(DataError, match="columns="):
        read_csv(write(tmp_path, "Date,Close,close\n2024-01-02,1,2\n"))


# --- overrides ---------------------------------------------------------------------------------


def test_date_column_override(tmp_path):
    text = "Date,When,Close\nx,2024-01-02,1\ny,2024-01-03,2\n"
    frame = read_csv(write(tmp_path, text), date_column="When")
    assert frame.index.equals(dates("2024-01-02", "2024-01-03"))
    assert list(frame.columns) == ["close"]


def test_columns_mapping_override(tmp_path):
    text = "Tag,Kurs,Umsatz,Close\n2024-01-02,10,5,999\n2024-01-03,11,6,999\n"
    frame = read_csv(
        write(tmp_path, text),
        columns={"Tag": "date", "Kurs": "close", "Umsatz": "volume", "Close": "other"},
    )
    assert frame.index.equals(dates("2024-01-02", "2024-01-03"))
    assert frame["close"].tolist() == [10.0, 11.0]
    assert frame["volume"].tolist() == [5.0, 6.0]
    assert frame["other"].tolist() == [999.0, 999.0]


def test_override_naming_an_absent_column(tmp_path):
    with pytest.raises(DataError, match=r"'Kurs'.*not found.*'Date'"):
        read_csv(write(tmp_path, STOOQ), columns={"Kurs": "close"})
    with pytest.raises(DataError, match=r"'When'.*not found"):
        read_csv(write(tmp_path, STOOQ), date_column="When")


# --- real data (opt-in, never copied into the repo) ------------------------------------------


@pytest.mark.integration
@pytest.mark.skipif(not KAGGLE.exists(), reason="../shared/data is not present")
def test_kaggle_all_stocks_5yr_first_rows():
    raw = pd.read_csv(KAGGLE, nrows=50_000)
    frame = read_csv(KAGGLE, nrows=50_000, validate=False)
    assert list(frame.columns) == ["ticker", "open", "high", "low", "close", "volume"]
    tickers = pd.unique(frame["ticker"]).tolist()
    assert tickers == sorted(raw["Name"].unique()) and len(tickers) > 10
    for name, rows in frame.groupby("ticker"):
        assert rows.index.is_monotonic_increasing and rows.index.is_unique, name
    aapl = raw[raw["Name"] == "AAPL"].iloc[-1]
    mine = read_csv(KAGGLE, nrows=50_000, ticker="AAPL")  # AAPL has no NaN rows
    assert mine.loc[pd.Timestamp(aapl["date"]), "close"] == aapl["close"]


@pytest.mark.integration
@pytest.mark.skipif(not HSMD.exists(), reason="../shared/data is not present")
def test_hsmd_first_rows_validate():
    frame = read_csv(HSMD, nrows=50_000)
    assert list(frame.columns) == ["ticker", "open", "high", "low", "close", "volume"]
    assert frame["ticker"].is_monotonic_increasing
    assert frame.index.min() >= pd.Timestamp("1990-01-01")
