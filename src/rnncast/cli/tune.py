"""``rnncast tune``: search the config's ``[tune]`` space with Optuna, then test the best once.

The search sees the train and validation parts only. Each trial fits the
configured model with the sampled settings (:mod:`rnncast.cli.tune_space`)
and scores it by its best validation loss (``val_loss``, early stopping as in
``rnncast run``) or, with ``folds``, by the walk-forward RMSE of
:func:`rnncast.backtest.walk_forward` on train + validation. The sampler is
TPE (seeded with ``training.seed``), and a median pruner stops trials whose
per-epoch validation loss trails the median of earlier trials at the same
epoch (:class:`TrialPruning`).

When the search ends, the best configuration is written as ``best.toml``,
refitted once on train + validation (:class:`Refit`: a fixed number of
epochs, the best trial's best epoch, no early stopping) through the
``rnncast run`` pipeline and scored once on the test part; its verdict carries
the note "best of N trials chosen on validation; refitted on train+validation;
test scored once". ``tune.html`` shows the trials, the history and the
parameter importances (:mod:`rnncast.cli.tune_report`).

The study lives in ``study.db`` (SQLite) in the tuning folder, or in any
SQLAlchemy database given as ``storage`` (e.g. ``postgresql://host/db``):
processes started with the same ``storage`` and ``study`` share one study,
and ``worker=True`` ones only add trials (no refit, no test score, no report).
``trials`` is the study's total, shared by all its workers.

Optuna is an optional extra: ``pip install "rnncast[tune]"``.
"""

from __future__ import annotations

import math
import os
import socket
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rnncast._internal import output
from rnncast.callbacks import Callback
from rnncast.cli import pipelines
from rnncast.cli.config import check_config
from rnncast.cli.tune_space import RESCALING, Param, apply_params, parse_space, setting
from rnncast.exceptions import ConfigError, DataError, FitError

INSTALL = 'pip install "rnncast[tune]"'
WAIT_FOR_WORKERS_S = 3600  # the longest the main process waits for other workers' trials
HEARTBEAT_S, GRACE_S = 30, 120  # a worker silent for GRACE_S has its running trial failed
WORKER = f"{socket.gethostname()}:{os.getpid()}"


def require_optuna() -> Any:
    """The ``optuna`` module, or a ConfigError that says what to install."""
    try:
        import optuna
    except ImportError as err:
        raise ConfigError(
            f"rnncast tune needs Optuna, which is not installed; install it with: {INSTALL}"
        ) from err
    return optuna


class TrialPruning(Callback):
    """Reports each epoch's ``val_loss`` to an Optuna trial; stops the trials it should prune.

    Step ``fold * epochs + epoch`` keeps the steps of walk-forward folds apart,
    so the pruner compares the same fold and epoch across trials. A pruned
    trial raises ``optuna.TrialPruned`` from ``on_epoch_end``, which ends ``fit``.

    Example:
        >>> class Trial:  # the two methods of optuna.Trial the callback uses
        ...     def report(self, value, step): print("report", value, step)
        ...     def should_prune(self): return False
        >>> pruning = TrialPruning(Trial(), epochs=3)
        >>> pruning.on_train_begin(); pruning.on_epoch_end(1, {"val_loss": 0.5})
        report 0.5 1
    """

    def __init__(self, trial: Any, epochs: int) -> None:
        super().__init__()
        self.trial, self.epochs = trial, epochs
        self.fold, self.losses = -1, []
        self.fold_losses: list[list[float]] = []  # val_loss by epoch, one list per fit

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        """A new fit: the next fold."""
        self.fold += 1
        self.fold_losses.append([])

    def best_epoch(self) -> int | None:
        """Epochs to the lowest ``val_loss`` (1-based): the median over folds, rounded up.

        ``None`` before any ``val_loss``.

        Example:
            >>> pruning = TrialPruning(None, epochs=4)
            >>> pruning.fold_losses = [[0.5, 0.3, 0.4], [0.2, 0.1, 0.1, 0.3]]
            >>> pruning.best_epoch()  # folds: epoch 2 and epoch 2
            2
        """
        best = sorted(losses.index(min(losses)) + 1 for losses in self.fold_losses if losses)
        if not best:
            return None
        middle = len(best) // 2
        return best[middle] if len(best) % 2 else math.ceil((best[middle - 1] + best[middle]) / 2)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Report ``val_loss``; raise ``optuna.TrialPruned`` when the pruner says so."""
        value = (logs or {}).get("val_loss")
        if value is None:
            return
        self.losses.append(float(value))
        if self.fold_losses:
            self.fold_losses[-1].append(float(value))
        self.trial.report(float(value), self.fold * self.epochs + epoch)
        if self.trial.should_prune():
            if self.model is not None:
                self.model.stop_training = True
            raise require_optuna().TrialPruned(
                f"pruned after epoch {epoch + 1} (fold {self.fold + 1}): val_loss {value:.4g}"
            )


@dataclass
class Objective:
    """One trial: the sampled config fitted on train (+ validation); lower is better.

    Only ``train`` and ``val`` reach it: the test part is never passed in.
    """

    config: dict[str, Any]
    space: dict[str, Param]
    train: pd.DataFrame
    val: pd.DataFrame
    folds: int | None = None

    def __call__(self, trial: Any) -> float:
        """Fit and score one sampled configuration."""
        params = {name: param.suggest(trial) for name, param in self.space.items()}
        config = check_config(apply_params(self.config, params), f"trial {trial.number}")
        trial.set_user_attr("worker", WORKER)
        pruning = TrialPruning(trial, config["training"]["epochs"])
        try:
            value = self._folds(config, pruning) if self.folds else self._holdout(config, pruning)
        except (FitError, DataError) as err:
            trial.set_user_attr("error", str(err))
            raise
        finally:
            trial.set_user_attr("epochs", len(pruning.losses))
            if pruning.best_epoch() is not None:
                trial.set_user_attr("best_epoch", pruning.best_epoch())
        return value

    def _holdout(self, config: dict[str, Any], pruning: TrialPruning) -> float:
        fc = pipelines.build_forecaster(config)
        kwargs = pipelines.fit_kwargs(config)
        kwargs["callbacks"].append(pruning)
        fc.fit(self.train, validation=self.val, **{**kwargs, "verbose": 0})
        losses = fc.history_.history.get("val_loss")
        if not losses:
            raise DataError(
                "no validation loss: the validation part is too short for this lookback; "
                "raise data.val or lower forecast.lookback."
            )
        return float(min(losses))

    def _folds(self, config: dict[str, Any], pruning: TrialPruning) -> float:
        from rnncast.forecasting.backtest import walk_forward

        settings = config["backtest"]
        kwargs = pipelines.fit_kwargs(config)
        kwargs["callbacks"].append(pruning)
        result = walk_forward(
            pipelines.build_forecaster(config),
            pd.concat([self.train, self.val]),
            initial_train=settings["initial_train"],
            max_folds=self.folds,
            refit_every=settings["refit_every"],
            window=settings["window"],
            validation=0.1,
            fit_kwargs=kwargs,
            verbose=0,
        )
        return float(result.metrics["rmse"])


@dataclass
class Refit:
    """The final fit: the weights learn from train + validation for ``epochs`` epochs.

    A ``fit`` for :func:`rnncast.cli.pipelines.run`. The training rows are the
    train and validation parts, concatenated in time order; there is no early
    stopping (nothing is left to stop on) and the test part is never read.

    Intervals stay honest: a model trained on its own rows would judge its
    errors too small, so when ``evaluation.interval`` is set a twin is fitted
    first on the train rows alone (same settings and epochs), its residuals
    on the last 30 % of the validation rows calibrate the band, and the final
    forecaster takes those calibration scores. The band is then, if anything,
    a little wide (the twin saw fewer rows). Without ``interval`` there is one fit.
    """

    epochs: int
    say: Any = output.write

    def __call__(self, config: dict[str, Any], data: pipelines.Prepared) -> Any:
        """Fit the final forecaster of ``config`` on ``data.train`` + ``data.val``."""
        kwargs = {**pipelines.fit_kwargs(config, epochs=self.epochs), "callbacks": []}
        scores = None
        if config["evaluation"]["interval"] is not None:
            twin = pipelines.build_forecaster(config)
            twin.fit(data.train, validation=data.val, **{**kwargs, "verbose": 0})
            scores = twin.calibration_scores_
        rows = pd.concat([data.train, data.val])
        self.say(
            f"refit on train + val: {len(rows)} rows {rows.index[0].date()} .. "
            f"{rows.index[-1].date()}, {_count(self.epochs, 'epoch')}, no early stopping"
        )
        fc = pipelines.build_forecaster(config)
        fc.fit(rows, validation=None, **kwargs)
        fc.calibration_scores_ = scores
        return fc


@dataclass
class TuneResult:
    """What ``rnncast tune`` leaves behind."""

    study: Any
    storage: str
    folder: Path | None = None
    best_config: dict[str, Any] | None = None
    final: pipelines.RunResult | None = None
    note: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    final_epochs: int | None = None


def tune(
    config: dict[str, Any],
    trials: int,
    *,
    timeout: float | None = None,
    folds: int | None = None,
    storage: str | None = None,
    study: str | None = None,
    out: str | Path = "runs",
    worker: bool = False,
    say: Any = output.write,
) -> TuneResult:
    """Search ``config["tune"]``, then refit the best config and score it once on the test part.

    Args:
        config: A loaded config (:func:`rnncast.cli.config.load_config`) with a ``[tune]`` section.
        trials: Trials of the study in all (shared by every worker of a shared study).
        timeout: Stop starting trials after this many seconds.
        folds: Score trials by a walk-forward over train + validation with this many
            folds instead of by the validation loss.
        storage: SQLAlchemy URL of the study database; default ``study.db`` in the folder.
        study: Study name (default: the config's name); an existing study is continued.
        out: Parent of the tuning folder ``<out>/<stamp>-<name>-tune/``.
        worker: Only add trials to the study: no folder, refit, test score or report.
        say: Where progress lines go.

    Returns:
        A :class:`TuneResult`.
    """
    optuna = require_optuna()
    _check_request(config, trials, folds, worker, storage)
    space = parse_space(config)
    data = pipelines.prepare(config)  # the test part stays in `data`, away from the objective
    say(f"data: {data.source}; searching on train {len(data.train)} + val {len(data.val)} rows")
    if worker:  # unseeded: seeded workers would propose the same settings
        return _search(optuna, config, space, data, (trials, timeout, folds), storage, study, say)
    with pipelines.reserved_run_path(out, f"{config['name']}-tune") as folder:
        folder.mkdir(parents=True)
        url = storage or f"sqlite:///{(folder / 'study.db').absolute()}"
        seed = config["training"]["seed"]
        try:
            result = _search(
                optuna, config, space, data, (trials, timeout, folds), url, study, say, seed
            )
        except BaseException:
            if not any(folder.iterdir()):  # nothing to resume from: leave no empty folder
                folder.rmdir()
            raise
        result.folder = folder
        return _finish(optuna, result, config, folds, say)


def _check_request(
    config: dict[str, Any], trials: int, folds: int | None, worker: bool, storage: str | None
) -> None:
    if not config["tune"]:
        raise ConfigError(
            "the config has no [tune] section to search; add one, e.g.\n[tune]\n"
            "units = [32, 64]\nlearning_rate = { low = 1e-4, high = 1e-2, log = true }"
        )
    if not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"--trials must be a whole number >= 1, got {trials!r}.")
    if folds is not None and folds < 1:
        raise ConfigError(f"--folds must be >= 1, got {folds!r}.")
    if worker and not storage:
        raise ConfigError(
            "--worker adds trials to a shared study: pass --storage URL (and --study NAME)."
        )
    rescaling = [k for k in config["tune"] if setting(k) in RESCALING]
    if rescaling and not folds:
        raise ConfigError(
            f"tune.{rescaling[0]} changes the scale of the validation loss, so trials could not "
            "be compared; pass --folds K to score them in price units, or remove it."
        )


def open_storage(optuna: Any, url: str) -> Any:
    """An Optuna RDB storage for a SQLAlchemy URL (SQLite waits up to 60 s for a lock).

    Workers that start together race to create the tables of a new database:
    the loser retries a few times, by then the tables exist.

    Raises:
        ConfigError: the URL is not a database URL or its driver is missing.
    """
    url = with_driver(url)
    engine: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine = {"connect_args": {"timeout": 60}}
    for attempt in range(1, 6):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S
                )
        except ImportError as err:
            raise ConfigError(
                f"--storage {_safe(url)} needs a database driver ({str(err).rstrip('.')}); "
                "for PostgreSQL: pip install psycopg2-binary."
            ) from err
        except Exception as err:  # sqlalchemy's ArgumentError, OperationalError, ...
            if attempt < 5 and type(err).__name__ in ("IntegrityError", "OperationalError"):
                time.sleep(0.5 * attempt)
                continue
            raise ConfigError(
                f"--storage {_safe(url)}: cannot open the study database ({type(err).__name__}: "
                f"{str(err).splitlines()[0]}); pass a SQLAlchemy URL such as "
                "sqlite:///study.db or postgresql://user@host:5432/db."
            ) from err
    raise AssertionError("unreachable")


def with_driver(url: str) -> str:
    """A PostgreSQL URL without a driver gets the installed one (psycopg2, else psycopg 3).

    SQLAlchemy 2.0 reads ``postgresql://`` as psycopg2 and 2.1 as psycopg 3; this
    picks whichever is installed, so either works.

    Example:
        >>> with_driver("sqlite:///study.db")
        'sqlite:///study.db'
    """
    import importlib.util

    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgresql", "postgres"):
        return url
    for module, driver in (("psycopg2", "psycopg2"), ("psycopg", "psycopg")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://{rest}"
    return f"postgresql://{rest}"


def _safe(url: str) -> str:
    """The URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//")[-1]:
        return url
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':')[0]}:***@{tail}"


def _search(
    optuna: Any,
    config: dict[str, Any],
    space: dict[str, Param],
    data: pipelines.Prepared,
    limits: tuple[int, float | None, int | None],
    url: str,
    name: str | None,
    say: Any,
    seed: int | None = None,
) -> TuneResult:
    """Add trials to the study until it holds ``trials`` or ``timeout`` passes."""
    trials, timeout, folds = limits
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        storage=open_storage(optuna, url),
        study_name=name or config["name"],
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
        direction="minimize",
        load_if_exists=True,
    )
    _same_objective(study, folds)
    started = time.perf_counter()
    study.optimize(
        Objective(config, space, data.train, data.val, folds),
        n_trials=trials,
        timeout=timeout,
        catch=(FitError, DataError),
        callbacks=[optuna.study.MaxTrialsCallback(trials, states=None), _progress(say)],
    )
    return TuneResult(study, url, timings={"search_s": time.perf_counter() - started})


def objective_name(folds: int | None) -> str:
    """What the trials minimise, in words (stored with the study)."""
    return f"walk-forward RMSE, {folds} folds" if folds else "validation loss"


def _same_objective(study: Any, folds: int | None) -> None:
    name = objective_name(folds)
    stored = study.user_attrs.get("objective")
    if stored is None:
        study.set_user_attr("objective", name)
    elif stored != name:
        raise ConfigError(
            f"study {study.study_name!r} minimises the {stored}, not the {name}; pass the "
            "same --folds as its other workers, or a new --study name."
        )


def _progress(say: Any) -> Any:
    def report(study: Any, trial: Any) -> None:
        params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        seconds = trial.duration.total_seconds() if trial.duration else float("nan")
        state = trial.state.name.lower()
        if state == "complete":
            outcome = f"{trial.value:.5g}"
        else:
            outcome = f"{state}: {trial.user_attrs.get('error', '')}".rstrip(": ")
        say(f"trial {trial.number}: {outcome} ({params}) {seconds:.1f}s")

    return report


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _finish(
    optuna: Any, result: TuneResult, config: dict[str, Any], folds: int | None, say: Any
) -> TuneResult:
    from rnncast.cli.tune_report import write_best, write_tune_report

    study = _settled(optuna, result.study, say)
    finished = [t for t in study.trials if t.state.is_finished()]
    complete = [t for t in finished if t.state.name == "COMPLETE"]
    if not complete:
        raise FitError(
            f"none of the {len(finished)} trials finished (pruned or failed); see "
            "the trial lines above, widen the search space or raise training.epochs."
        )
    best = study.best_trial
    best_config = apply_params(config, best.params)
    best_config["name"] = f"{config['name']}-best"
    write_best(best_config, result.folder / "best.toml")
    result.note = (
        f"best of {len(finished)} trials chosen on validation; refitted on train+validation; "
        f"test scored once ({len(finished)} configurations were tried)"
    )
    result.final_epochs = best.user_attrs.get("best_epoch") or best_config["training"]["epochs"]
    say(
        f"best: trial {best.number} ({objective_name(folds)} {best.value:.5g}); refitting once "
        f"on train + validation for {_count(result.final_epochs, 'epoch')}"
    )
    begun = time.perf_counter()
    result.final = pipelines.run(
        best_config,
        out=result.folder,
        say=say,
        notes=(result.note,),
        fit=Refit(result.final_epochs, say),
    )
    result.timings["final_s"] = time.perf_counter() - begun
    result.best_config = best_config
    write_tune_report(result, objective_name(folds))
    return result


def _settled(optuna: Any, study: Any, say: Any) -> Any:
    """The study once no other worker has a trial running (stale ones are failed)."""
    deadline = time.monotonic() + WAIT_FOR_WORKERS_S
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    if running:
        say(f"waiting for {len(running)} running trial(s) of other workers")
    while running and time.monotonic() < deadline:
        time.sleep(2)
        optuna.storages.fail_stale_trials(study)
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    return study


def print_result(result: TuneResult) -> None:
    """The command's results on stdout: the best trial, the verdict and the files."""
    study = result.study
    finished = [t for t in study.trials if t.state.is_finished()]
    counts = pd.Series([t.state.name.lower() for t in finished]).value_counts().to_dict()
    print(f"study {study.study_name!r} in {_safe(result.storage)}: {len(finished)} trials {counts}")
    complete = [t for t in finished if t.state.name == "COMPLETE"]
    if complete:
        best = study.best_trial
        print(f"best trial {best.number}: {best.value:.6g} {best.params}")
    if result.final is not None and result.final.verdict is not None:
        print(result.final.verdict.console_line())
        print(f"best config: {result.folder / 'best.toml'}")
        print(f"final run: {result.final.folder / 'report.html'}")
        print(f"tuning report: {result.folder / 'tune.html'}")


def add_options(sub: Any) -> None:
    """The ``rnncast tune`` options beside the pipeline ones (--config, --set, --out ...)."""
    sub.add_argument(
        "--trials", type=int, default=20, help="trials of the study in all (default 20)"
    )
    sub.add_argument("--timeout", type=float, help="stop starting trials after SECONDS")
    sub.add_argument(
        "--folds", type=int, help="score trials by a K-fold walk-forward on train+validation"
    )
    sub.add_argument(
        "--storage",
        help="SQLAlchemy URL of the study, e.g. postgresql://user@host/db "
        "(default: study.db in the tuning folder)",
    )
    sub.add_argument("--study", help="study name; workers with the same one share it")
    sub.add_argument(
        "--worker",
        action="store_true",
        help="only add trials to a shared --storage study (no refit, no test, no report)",
    )


def command(args: Any, config: dict[str, Any]) -> None:
    """``rnncast tune``: run :func:`tune` with the parsed options and print the results."""
    result = tune(
        config,
        args.trials,
        timeout=args.timeout,
        folds=args.folds,
        storage=args.storage,
        study=args.study,
        out=args.out,
        worker=args.worker,
    )
    print_result(result)
