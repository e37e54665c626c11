"""The universe section of the report: verdict first, every ticker, the figures embedded."""

import html
import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from rnncast.cli import plots
from rnncast.cli.universe_report import (
    p_value_chart,
    render_universe_report,
    render_universe_section,
    skill_histogram,
    universe_images,
    write_universe_report,
)
from rnncast.evaluate import FDR_LEVEL, evaluate_universe

PNG = "data:image/png;base64,"


@pytest.fixture(scope="module")
def report():
    """Six random-walk tickers at different price levels; the model sees half of T0's move."""
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2021-01-04", periods=60, name="date")  # no zoomed figure
    rows = dates[1:]
    actual, forecasts, base, train = {}, {}, {}, {}
    for k in range(6):
        returns = rng.normal(0, 0.01, 60)
        prices = pd.Series(10.0 * (k + 1) ** 2 * np.exp(np.cumsum(returns)), index=dates)
        last = prices.shift(1).loc[rows]
        share = 0.5 if k == 0 else 0.0
        model = last.to_numpy() * np.exp(share * returns[1:] + rng.normal(0, 0.002, 59))
        ticker = f"<T{k}>" if k == 5 else f"T{k}"  # a name that needs escaping
        actual[ticker], base[ticker], train[ticker] = prices, last, prices.iloc[:30]
        forecasts[ticker] = {
            "model": pd.DataFrame({"step_1": model}, index=rows),
            "naive": pd.DataFrame({"step_1": last.to_numpy()}, index=rows),
        }
    return evaluate_universe(actual, forecasts, base, train)


@pytest.fixture(scope="module")
def images(report):
    return universe_images(report)


def test_section_leads_with_the_verdict_and_lists_every_ticker(report, images):
    universe = {k: v for k, v in images.items() if k.startswith("universe_")}
    page = render_universe_section(report, universe)
    verdict = html.escape(report.verdict.sentence(), quote=True)
    assert page.index("universe-verdict") < page.index("universe-tickers")
    assert verdict in page
    colour = report.verdict.badge()[0]
    assert f'class="verdict verdict-{colour}" data-outcome="{report.verdict.outcome}"' in page
    table = page[page.index('<table id="universe-tickers">') :]
    rows = re.findall(r'<th scope="row">([^<]*)</th>', table[: table.index("</table>")])
    assert rows == [html.escape(t) for t in report.to_frame().index]  # every ticker, by skill
    assert "&lt;T5&gt;" in page and "<T5>" not in page
    assert page.count(PNG) == 2  # skill histogram and p-value chart
    assert "<script" not in page


def test_best_and_worst_ticker_details_use_the_run_report_sections(report, images):
    assert {"universe_skill", "universe_pvalues", "best_forecast", "worst_lag"} <= set(images)
    page = render_universe_section(report, images)
    best, worst = report.best_ticker, report.worst_ticker
    assert best == "T0"
    assert f"Best ticker: {best}" in page and f"Worst ticker: {html.escape(worst)}" in page
    for role in ("best", "worst"):
        assert f'id="universe-{role}-metrics"' in page and f'id="universe-{role}-lag"' in page
        sentence = html.escape(
            report.tickers[{"best": best, "worst": worst}[role]].verdict.sentence()
        )
        assert sentence in page
    assert page.count(PNG) == len(images)  # every figure embedded once


def test_write_universe_report_saves_the_figures_and_a_self_contained_page(
    report, images, tmp_path
):
    path = write_universe_report(report, tmp_path, name="six tickers", images=images)
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Universe report: six tickers" in page
    assert (tmp_path / "plots" / "universe_skill.png").read_bytes()[:4] == b"\x89PNG"
    assert {p.stem for p in (tmp_path / "plots").iterdir()} == set(images)
    assert "http://" not in page and "https://" not in page
    assert render_universe_report(report, {}, "x").count(PNG) == 0  # absent figures left out


def test_skill_histogram_draws_every_ticker_and_the_naive_line(report):
    table = report.to_frame()
    figure = skill_histogram(table, report.pooled_skill_pct)
    try:
        ax = figure.axes[0]
        heights = [patch.get_height() for patch in ax.patches]
        assert sum(heights[: len(heights) // 2]) + sum(heights[len(heights) // 2 :]) == len(table)
        vertical = [line.get_xdata()[0] for line in ax.get_lines()]
        assert 0 in vertical and pytest.approx(report.pooled_skill_pct) in vertical
    finally:
        plots.close(figure)


def test_p_value_chart_draws_the_bh_line_q_rank_over_m(report):
    table = report.to_frame()
    figure = p_value_chart(table, FDR_LEVEL)
    try:
        line = figure.axes[0].get_lines()[0]
        m = len(table)
        np.testing.assert_allclose(line.get_xdata(), np.arange(1, m + 1))
        np.testing.assert_allclose(line.get_ydata(), FDR_LEVEL * np.arange(1, m + 1) / m)
        points = np.concatenate([c.get_offsets()[:, 1] for c in figure.axes[0].collections])
        expected = np.clip(table["dm_p_better"].to_numpy(), 1e-16, 1)
        np.testing.assert_allclose(np.sort(points), np.sort(expected))
    finally:
        plots.close(figure)


def test_run_report_with_a_universe_leads_with_the_universe_verdict(report, images):
    from rnncast.cli.html_report import _figure_builders, render_report

    run = {"name": "dow", "universe": report, "verdict": None}
    page = render_report(run, images)
    verdict = html.escape(report.verdict.sentence(), quote=True)
    box = page[page.index('<div id="verdict"') :]
    assert box[: box.index("</div>")].count(verdict) == 1  # the header box is the universe's
    assert f'verdict-{report.verdict.badge()[0]}"' in box[: box.index(">")]
    assert page.index('id="verdict"') < page.index('id="sec-universe"')
    assert 'id="universe-verdict"' not in page  # not a second box
    assert page.count(PNG) == len(images)
    assert set(images) <= set(_figure_builders(run))
    plain = render_report({"name": "one series", "verdict": None}, {})
    assert "sec-universe" not in plain
