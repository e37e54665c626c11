import subprocess
import sys

import pytest

from rnncast.cli import main


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps captured output at 80 columns otherwise


def test_run_on_sample_prints_split_windows_and_sessions(capsys):
    assert main(["run", "--ticker", "MSFT", "--lookback", "30"]) == 0
    out = capsys.readouterr().out
    assert "sample MSFT, 3270 rows 2000-03-01 .. 2013-03-01" in out
    assert "2260x30x1" in out  # 2290 training rows - 30 lookback windows
    assert "Scalers fitted on 2290 training rows only" in out
    assert "Mon 2013-03-04" in out and "Fri 2013-03-08" in out


def test_run_reads_a_csv_file(tmp_path, capsys):
    path = tmp_path / "prices.csv"
    lines = ["Date,Open,High,Low,Close,Volume"]
    for i, day in enumerate(f"2024-01-{d:02d}" for d in range(2, 31)):
        lines.append(f"{day},{10 + i},{11 + i},{9 + i},{10.5 + i},{1000 + i}")
    path.write_text("\n".join(lines) + "\n")
    assert main(["run", "--csv", str(path), "--lookback", "5", "--val", "0.2",
                 "--test", "0.2", "--days", "2"]) == 0
    assert "29 rows 2024-01-02 .. 2024-01-30" in capsys.readouterr().out


def test_user_error_is_one_line_and_exit_code_2(capsys):
    assert main(["run", "--ticker", "TSLA"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnncast: error: no sample data for ticker 'TSLA'; available: AAPL")
    assert "Traceback" not in err


def test_debug_shows_traceback(capsys):
    assert main(["run", "--ticker", "TSLA", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_bad_window_settings_are_user_errors(capsys):
    assert main(["run", "--ticker", "FB", "--lookback", "500"]) == 2
    assert "not enough rows" in capsys.readouterr().err


def test_data_list_and_show(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "FB      196 rows  2012-05-18 .. 2013-03-01" in out
    assert main(["data", "show", "aapl", "--raw", "--rows", "1"]) == 0
    assert "118.56" in capsys.readouterr().out  # the raw first open


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: rnncast" in capsys.readouterr().out


@pytest.mark.slow
def test_python_dash_m_is_the_cli():
    result = subprocess.run([sys.executable, "-m", "rnncast", "--version"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.startswith("rnncast ")
