"""The files ``rnncast tune`` writes: ``tune.html``, ``trials.csv`` and ``best.toml``.

The page reads the study and nothing else: the trials table, the optimisation
history, Optuna's parameter importances (fANOVA; shown from 2 completed trials
on) and the best configuration as the TOML that ``rnncast run --config
best.toml`` reads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnncast._internal.files import atomic_file
from rnncast.cli import plots
from rnncast.cli.config import dump_config

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rnncast.cli.tune import TuneResult


def write_best(config: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``config`` as TOML that :func:`rnncast.cli.config.load_config` reads back.

    ``data.csv`` is written as an absolute path, so the file works from any folder.

    Example:
        >>> import tempfile
        >>> from rnncast.cli.config import load_config
        >>> path = write_best(load_config(), Path(tempfile.mkdtemp()) / "best.toml")
        >>> load_config(path) == load_config()
        True
    """
    from rnncast.cli.pipelines import _dump

    path = Path(path)
    with atomic_file(path) as temporary:
        temporary.write_text(_dump(config), encoding="utf-8")
    return path


def trials_table(study: Any) -> pd.DataFrame:
    """One row per trial: state, value, settings, epochs (run; to best val_loss), seconds, worker.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.ERROR)
        >>> study = optuna.create_study()
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=2)
        >>> list(trials_table(study).columns)
        ['state', 'value', 'x', 'epochs', 'best_epoch', 'seconds', 'worker']
    """
    rows = {}
    names = list(dict.fromkeys(name for t in study.trials for name in t.params))
    for trial in study.trials:
        row: dict[str, Any] = {"state": trial.state.name.lower(), "value": trial.value}
        row.update({name: trial.params.get(name) for name in names})
        seconds = trial.duration.total_seconds() if trial.duration else np.nan
        row.update(
            {
                "epochs": trial.user_attrs.get("epochs"),
                "best_epoch": trial.user_attrs.get("best_epoch"),
                "seconds": seconds,
                "worker": trial.user_attrs.get("worker", ""),
            }
        )
        rows[trial.number] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "trial"
    return table


def history_figure(table: pd.DataFrame) -> Figure:
    """Each completed trial's value and the best value so far, by trial number.

    Example:
        >>> table = pd.DataFrame({"state": ["complete", "pruned"], "value": [1.0, None]})
        >>> plots.close(history_figure(table))
    """
    figure, ax = plots._figure()
    done = table[table["state"] == "complete"]
    values = pd.to_numeric(done["value"], errors="coerce")
    ax.plot(done.index, values, "o", color=plots.OTHER_COLOR, label="trial")
    ax.step(done.index, values.cummin(), where="post", color=plots.BEST_COLOR, label="best so far")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel("objective (lower is better)")
    ax.legend(frameon=False)
    return figure


def importances(study: Any) -> tuple[dict[str, float], str]:
    """``(importance by setting, note)``; empty with the reason when they cannot be computed."""
    import optuna

    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 2:
        return {}, (
            f"Importances need at least 2 completed trials; this study has {len(complete)}."
        )
    try:
        values = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError) as err:
        return {}, f"Importances could not be computed: {err}"
    if not values:
        return {}, "No setting varied across the completed trials."
    return dict(values), ""


def importance_figure(values: dict[str, float]) -> Figure:
    """A horizontal bar per setting, most important on top.

    Example:
        >>> plots.close(importance_figure({"units": 0.7, "lookback": 0.3}))
    """
    figure, ax = plots._figure((7.0, 0.5 + 0.45 * len(values)))
    names = list(values)[::-1]
    ax.barh(names, [values[n] for n in names], color=plots.BEST_COLOR)
    ax.set_xlabel("importance (share of the objective's variance)")
    return figure


def write_tune_report(result: TuneResult, objective: str) -> Path:
    """Write ``trials.csv`` and ``tune.html`` into the tuning folder; returns the page's path."""
    from rnncast.cli.html_report import _data_uri, _render, _table

    folder = Path(result.folder or ".")
    table = trials_table(result.study)
    table.to_csv(folder / "trials.csv")
    values, note = importances(result.study)
    images = {"history": _png(history_figure(table))}
    images["importances"] = _png(importance_figure(values)) if values else b""
    final = result.final
    page = _render(
        "tune.html.j2",
        title=f"Tuning: {result.study.study_name}",
        summary=result.note[:1].upper() + result.note[1:] + ".",
        subtitle=_subtitle(result, objective),
        verdict=str(final.verdict) if final is not None and final.verdict else "",
        final_report=(
            f"{final.folder.name}/report.html" if final is not None and result.folder else ""
        ),
        history=_data_uri(images["history"]),
        importances=_data_uri(images["importances"]),
        importance_note=note,
        trials=_table(table, "trials-table", index_label="trial", formatter=_number),
        best_toml=dump_config(result.best_config) if result.best_config else "",
    )
    path = folder / "tune.html"
    with atomic_file(path) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return path


def _subtitle(result: TuneResult, objective: str) -> str:
    study = result.study
    best = study.best_trial
    seconds = ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in result.timings.items())
    return (
        f"Objective: {objective} (lower is better); the test part was not used by any trial. "
        f"Best: trial {best.number}, {best.value:.5g}. Sampler TPE, median pruner. {seconds}."
    )


def _number(value: float) -> str:
    """Whole numbers (units, lookback, epochs) without decimals, others to 4 digits.

    Example:
        >>> _number(64.0), _number(0.000205134), _number(float("nan"))
        ('64', '0.0002051', '-')
    """
    if value != value:  # NaN: a pruned or failed trial's value
        return "-"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"


def _png(figure: Figure) -> bytes:
    try:
        return plots.png_bytes(figure)
    finally:
        plots.close(figure)
