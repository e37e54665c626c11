"""The HTML run report and its figures: self-contained, exact numbers, honest verdict colour."""

from __future__ import annotations

import base64
import io
import math
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from rnncast.cli import plots
from rnncast.cli.html_report import (
    PLOT_NAMES,
    render_leaderboard,
    render_report,
    write_report,
)
from rnncast.evaluate import evaluate_forecasts
from rnncast.evaluate.verdict import Verdict, decide
from rnncast.forecasting.backtest import walk_forward
from rnncast.forecasting.baselines import Naive
from rnncast.forecasting.trading import DISCLAIMER, simulate_trading

PNG = b"\x89PNG\r\n\x1a\n"
BASELINES = ("naive", "drift", "moving_average", "linear_ar", "arima")
HIGHER = {"skill_vs_naive_pct", "mae_skill_pct", "directional_accuracy"}
LOWER = {"rmse", "mae", "mape", "smape", "mase", "theils_u"}


# ---------------------------------------------------------------- fixtures
def make_run(n: int = 260, train: int = 60, seed: int = 7, backtest: bool = True) -> dict:
    """A realistic run: a random walk, a noisy model, five baselines, intervals, a backtest."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2023-01-02", periods=n, name="date")
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.015, n))), index=dates)
    rows = dates[train:]
    base = close.shift(1).loc[rows]
    step = close.diff().iloc[1:train].mean()
    raw = {
        "model": base + rng.normal(0, 0.6, len(rows)),
        "naive": base,
        "drift": base + step,
        "moving_average": close.rolling(5).mean().shift(1).loc[rows],
        "linear_ar": 0.8 * base + 0.2 * close.shift(2).loc[rows],
        "arima": base + 0.1 * (close.shift(1) - close.shift(2)).loc[rows],
    }
    forecasts = {k: pd.DataFrame({"step_1": v.to_numpy()}, index=rows) for k, v in raw.items()}
    half = 1.645 * 1.2 * 0.7  # deliberately too narrow
    band = {"lower": forecasts["model"] - half, "upper": forecasts["model"] + half}
    report = evaluate_forecasts(
        close.loc[rows], forecasts, base, close.iloc[:train], intervals={"model": band}
    )
    predictions = pd.DataFrame({"actual": close.loc[rows], **raw}, index=rows)
    intervals = pd.DataFrame({"lower": band["lower"]["step_1"], "upper": band["upper"]["step_1"]})
    future = pd.bdate_range(dates[-1] + pd.offsets.BDay(), periods=5, name="date")
    forecast = pd.DataFrame({"forecast": close.iloc[-1] + np.arange(5) * 0.1}, index=future)
    forecast["lower"], forecast["upper"] = forecast["forecast"] - 2, forecast["forecast"] + 2
    loss = list(0.5 * np.exp(-np.arange(30) / 6) + 0.02)
    return {
        "name": "lstm",
        "created": "2026-11-26T10:40:00",
        "verdict": report.verdict,
        "metrics": report.to_frame(),
        "history": {"loss": loss, "val_loss": [v * 1.3 + 0.01 for v in loss]},
        "predictions": predictions,
        "intervals": intervals,
        "interval_level": 0.9,
        "coverage": report.coverage["model"]["step_1"],
        "lag": report.lag,
        "forecast": forecast,
        "backtest": make_backtest(close, raw) if backtest else None,
        "metadata": {
            "rnncast": "0.1.0",
            "torch": "2.13.0",
            "seed": 42,
            "data": {
                "source": "synthetic",
                "start": "2023-01-02",
                "end": str(dates[-1].date()),
                "rows": n,
                "sha256": "ab" * 32,
            },
            "timings": {"fit_s": 6.1, "evaluate_s": 1.6, "total_s": 9.0},
            "config": '[model]\nkind = "lstm"\nunits = 32\n',
        },
    }


def make_backtest(close: pd.Series, raw: dict[str, pd.Series]) -> dict:
    result = simulate_trading(
        close, raw["model"], cost_bps=5, benchmarks={"linear_ar": raw["linear_ar"]}
    )
    ar = simulate_trading(close, raw["linear_ar"], cost_bps=5)
    equity = pd.DataFrame(
        {
            "strategy": result.equity,
            "buy_and_hold": close.loc[result.equity.index] / close.loc[result.equity.index[0]],
            "linear_ar": ar.equity,
        }
    )
    folds = walk_forward(
        Naive(lookback=20), close.to_frame("close"), initial_train=0.6, max_folds=4, verbose=0
    ).folds
    return {
        "folds": folds,
        "equity": equity,
        "comparison": result.comparison,
        "disclaimer": DISCLAIMER,
    }


@pytest.fixture(scope="module")
def run() -> dict:
    return make_run()


@pytest.fixture(scope="module")
def written(run, tmp_path_factory) -> tuple[Path, str]:
    path = write_report(run, tmp_path_factory.mktemp("run"))
    return path, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(written) -> Page:
    return Page.parse(written[1])


@pytest.fixture(scope="module")
def images(written) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in (written[0].parent / "plots").glob("*.png")}


# ----------------------------------------------------------------- parsing
class Page(HTMLParser):
    """Events of an HTML page: ('start', tag, attrs), ('end', tag), ('data', text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []

    @classmethod
    def parse(cls, text: str) -> Page:
        parser = cls()
        parser.feed(text)
        parser.close()
        return parser

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, dict(attrs)))

    def handle_endtag(self, tag):
        self.events.append(("end", tag))

    def handle_data(self, data):
        if data.strip():
            self.events.append(("data", data.strip()))

    def starts(self, tag: str) -> list[dict]:
        return [e[2] for e in self.events if e[0] == "start" and e[1] == tag]

    def by_id(self, element_id: str) -> dict | None:
        return next(
            (e[2] for e in self.events if e[0] == "start" and e[2].get("id") == element_id), None
        )

    def text_of(self, tag: str) -> str:
        """Text inside the first ``tag`` element."""
        start = next(i for i, e in enumerate(self.events) if e[:2] == ("start", tag))
        end = next(i for i, e in enumerate(self.events) if e[:2] == ("end", tag))
        return " ".join(e[1] for e in self.events[start:end] if e[0] == "data")

    def texts_after(self, tag: str) -> list[str]:
        end = next(i for i, e in enumerate(self.events) if e[:2] == ("end", tag))
        return [e[1] for e in self.events[end:] if e[0] == "data"]

    def table(self, table_id: str) -> list[list[tuple[str, dict, str]]]:
        """Rows of the table (header row first) as lists of (tag, attrs, text) cells."""
        start = next(
            i
            for i, e in enumerate(self.events)
            if e[0] == "start" and e[1] == "table" and e[2].get("id") == table_id
        )
        rows, cell = [], None
        for event in self.events[start + 1 :]:
            if event[:2] == ("end", "table"):
                return rows
            if event[0] == "start" and event[1] == "tr":
                rows.append([])
            elif event[0] == "start" and event[1] in ("td", "th"):
                cell = [event[1], event[2], ""]
                rows[-1].append(cell)
            elif event[0] == "data" and cell is not None:
                cell[2] += event[1]
        raise AssertionError(f"table {table_id} is not closed")


def decode_png(src: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    return base64.b64decode(src[len(prefix) :], validate=True)


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def expected_best(metrics: pd.DataFrame, column: str) -> set:
    if column not in HIGHER | LOWER:
        return set()
    values = metrics[column][np.isfinite(metrics[column])]
    if len(values) < 2:
        return set()
    target = values.max() if column in HIGHER else values.min()
    return {name for name, value in values.items() if value == target}


# ---------------------------------------------------------------- figures
def test_every_embedded_image_is_a_real_png(page):
    sources = [attrs["src"] for attrs in page.starts("img")]
    assert len(sources) == len(PLOT_NAMES)
    for src in sources:
        data = decode_png(src)
        assert data.startswith(PNG)
        pixels = mpimg.imread(io.BytesIO(data))
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        rgb = np.round(pixels[..., :3] * 255).astype(np.int64)
        colours = np.unique(rgb[..., 0] * 65536 + rgb[..., 1] * 256 + rgb[..., 2])
        assert len(colours) > 10  # not blank
    assert all(attrs.get("alt") for attrs in page.starts("img"))


def test_saved_pngs_equal_the_embedded_bytes(page, images):
    assert sorted(images) == sorted(PLOT_NAMES)
    embedded = [decode_png(attrs["src"]) for attrs in page.starts("img")]
    assert embedded == [images[name] for name in PLOT_NAMES]


def test_page_is_self_contained(written):
    text = written[1]
    assert text.startswith("<!DOCTYPE html>")
    for forbidden in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert forbidden not in text.lower(), forbidden
    assert list(written[0].parent.rglob("*.tmp")) == []  # atomic writes left nothing behind


# ------------------------------------------------------------------ verdict
def test_verdict_is_first_text_after_the_title(run, page):
    assert page.texts_after("h1")[0] == str(run["verdict"])
    assert page.text_of("h1") == "Run report: lstm"
    assert page.text_of("title").startswith("lstm")


@pytest.mark.parametrize(
    ("mase", "skill", "stat", "p", "outcome", "colour"),
    [
        (0.90, 10.0, -3.0, 0.01, "beats", "verdict-green"),
        (0.99, 1.0, -1.0, 0.30, "level", "verdict-amber"),
        (0.999, 0.1, -3.0, 0.01, "level", "verdict-amber"),  # significant but not material
        (1.10, -10.0, 3.0, 0.01, "worse", "verdict-red"),
    ],
)
def test_verdict_box_reads_the_one_verdict(run, mase, skill, stat, p, outcome, colour):
    verdict = Verdict(
        outcome=decide(mase, 1.0, skill, stat, p),
        model_mase=mase,
        naive_mase=1.0,
        mae_skill_pct=skill,
        dm_statistic=stat,
        dm_p_value=p,
    )
    assert verdict.outcome == outcome
    page = Page.parse(render_report({**run, "verdict": verdict}, {}))
    box = page.by_id("verdict")
    assert colour in box["class"].split() and box["data-outcome"] == outcome
    assert page.texts_after("h1")[0] == verdict.sentence()
    assert verdict.badge()[1] in page.texts_after("h1")


def test_realistic_noisy_model_gets_its_verdicts_badge(run, page):
    assert run["metrics"].at["model", "mae_skill_pct"] < 0
    colour = run["verdict"].badge()[0]
    assert colour in {"amber", "red"} and f"verdict-{colour}" in page.by_id("verdict")["class"]


# ------------------------------------------------------------------ tables
def test_metrics_table_values_are_exact(run, page):
    metrics = run["metrics"]
    rows = page.table("metrics")
    header, body = rows[0], rows[1:]
    assert len(header) == 1 + len(metrics.columns)
    assert [row[0][2] for row in body] == list(metrics.index)
    for row in body:
        name = row[0][2]
        for column, (tag, attrs, _) in zip(metrics.columns, row[1:], strict=True):
            assert tag == "td"
            assert same(float(attrs["data-value"]), float(metrics.at[name, column])), (name, column)


def test_best_value_per_column_is_marked(run, page):
    metrics = run["metrics"]
    marked = {column: set() for column in metrics.columns}
    for row in page.table("metrics")[1:]:
        for column, (_, attrs, _) in zip(metrics.columns, row[1:], strict=True):
            if "best" in attrs.get("class", "").split():
                marked[column].add(row[0][2])
    for column in metrics.columns:
        assert marked[column] == expected_best(metrics, column), column
    assert marked["mase"] and marked["skill_vs_naive_pct"]  # something is ranked
    assert not marked["dm_p_value"] and not marked["directional_p_value"]


def test_higher_is_better_columns(run):
    metrics = run["metrics"].copy()
    metrics["directional_accuracy"] = [0.40, np.nan, 0.55, 0.61, 0.61, 0.3]
    rows = Page.parse(render_report({**run, "metrics": metrics}, {})).table("metrics")[1:]
    position = 1 + list(metrics.columns).index("directional_accuracy")
    best = {row[0][2] for row in rows if "best" in row[position][1]["class"]}
    assert best == {"moving_average", "linear_ar"}  # ties both marked, NaN ignored


def test_forecast_table(run, page):
    rows = page.table("forecast")
    assert [c[2] for c in rows[0]] == ["Date", "Forecast", "Lower (90%)", "Upper (90%)"]
    forecast = run["forecast"]
    for row, (date, values) in zip(rows[1:], forecast.iterrows(), strict=True):
        assert row[0][2] == date.date().isoformat()
        assert [float(c[1]["data-value"]) for c in row[1:]] == values.tolist()


def test_backtest_section_present_when_given(run, page):
    folds, trading = page.table("folds"), page.table("trading")
    assert len(folds) == 1 + len(run["backtest"]["folds"])
    assert [row[0][2] for row in trading[1:]] == list(run["backtest"]["comparison"].index)
    assert DISCLAIMER in page.texts_after("h1")
    assert page.by_id("sec-backtest") is not None


def test_lag_and_interval_text(run, page):
    texts = " ".join(page.texts_after("h1"))
    assert "yesterday's price" in texts
    assert f"{run['coverage']:.1%} of the actual prices fell inside" in texts
    assert "Nominal 90% interval" in texts


def test_metadata_and_config(run, page):
    texts = page.texts_after("h1")
    assert run["metadata"]["config"].strip() in texts
    assert "ab" * 32 in texts and "2.13.0" in texts
    assert any("fit 6.1 s" in t for t in texts)


# ---------------------------------------------------------- escaping, gaps
def test_text_is_escaped(run):
    evil = "<script>alert(1)</script>"
    metadata = {**run["metadata"], "config": "x = '<b>&'"}
    html = render_report({**run, "name": evil, "verdict": evil, "metadata": metadata}, {})
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "x = &#x27;&lt;b&gt;&amp;&#x27;" in html
    assert Page.parse(html).texts_after("h1")[0] == evil


def test_script_tag_in_names_is_escaped(run):
    evil = '<script>alert("x")</script>'
    metrics = run["metrics"].rename(index={"drift": evil})
    metadata = {**run["metadata"], evil: {evil: evil}}
    html = render_report({**run, "name": evil, "metrics": metrics, "metadata": metadata}, {})
    page = Page.parse(html)
    assert "<script" not in html.lower() and page.starts("script") == []
    # title, h1, the metrics row, and the metadata key, nested key and nested value
    assert html.count("&lt;script&gt;alert(") == 6
    assert page.text_of("title") == f"{evil} · rnncast run report"
    assert page.text_of("h1") == f"Run report: {evil}"
    assert [row[0][2] for row in page.table("metrics")[1:]].count(evil) == 1


def test_minimal_run_skips_missing_parts(tmp_path):
    run = make_run(n=140, backtest=False)
    run["history"] = {"loss": run["history"]["loss"]}  # no val_loss
    run["intervals"] = run["interval_level"] = run["coverage"] = None
    (tmp_path / "report.html").write_text("old")  # overwritten
    path = write_report(run, tmp_path)
    names = sorted(p.stem for p in (tmp_path / "plots").glob("*.png"))
    assert names == sorted(["loss", "forecast", "forecast_zoom", "lag", "residuals"])
    page = Page.parse(path.read_text(encoding="utf-8"))
    for missing in ("folds", "trading", "sec-backtest", "sec-intervals"):
        assert page.by_id(missing) is None
    assert page.table("metrics") and page.table("forecast")
    assert any("no validation loss" in t for t in page.texts_after("h1"))
    assert len(page.starts("img")) == len(names)


def test_render_without_images_or_optional_keys():
    minimal = {
        "name": "bare",
        "verdict": "no model",
        "metrics": pd.DataFrame(
            {"mase": [1.0, 1.2]}, index=pd.Index(["naive", "drift"], name="model")
        ),
    }
    page = Page.parse(render_report(minimal, {}))
    assert page.texts_after("h1")[0] == "no model"
    assert "verdict-grey" in page.by_id("verdict")["class"]
    assert page.starts("img") == []


# ------------------------------------------------------------- leaderboard
def test_leaderboard_page_and_figure():
    table = pd.DataFrame(
        {
            "mase": [1.02, 0.97, 1.10],
            "skill_vs_naive_pct": [-1.0, 2.5, -4.0],
            "dm_p_value": [0.4, 0.03, 0.2],
        },
        index=pd.Index(["lstm", "gru", "<rnn>"], name="run"),
    )
    figure = plots.leaderboard(table, "mase")
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[-1] == "gru"  # best on top
    image = plots.png_bytes(figure)
    plots.close(figure)
    page = Page.parse(render_leaderboard(table, image, "Compare <runs>"))
    assert page.text_of("h1") == page.text_of("title") == "Compare <runs>"
    assert decode_png(page.starts("img")[0]["src"]) == image
    rows = page.table("leaderboard")[1:]
    assert [r[0][2] for r in rows] == ["lstm", "gru", "<rnn>"]
    best = {(r[0][2], i) for r in rows for i, c in enumerate(r[1:]) if "best" in c[1]["class"]}
    assert best == {("gru", 0), ("gru", 1)}


def test_lag_check_is_zoomed_and_save_png_writes_the_bytes(run, tmp_path):
    figure = plots.lag_check(
        {str(k): v for k, v in run["lag"]["correlations"].items()}, run["lag"]["best_lag"]
    )
    low, high = figure.axes[0].get_ylim()
    values = list(run["lag"]["correlations"].values())
    assert low > 0.5 and low < min(values) and high > max(values)  # zoomed, not 0..1
    path = plots.save_png(figure, tmp_path / "deep" / "lag.png")
    assert path.read_bytes() == plots.png_bytes(figure)
    plots.close(figure)
