"""The search space of ``rnncast tune``: the config's ``[tune]`` section, checked and applied.

Each key of ``[tune]`` names a setting and its candidates:

* a list is a categorical choice: ``units = [32, 64, 128]``;
* a table is a range: ``learning_rate = { low = 1e-4, high = 1e-2, log = true }``
  (a float range), ``lookback = { low = 20, high = 60, step = 10 }`` (an integer
  range: ``low`` and ``high`` both integers).

Model keys change the layers: ``units`` sets the units of every recurrent
layer (LSTM, GRU, SimpleRNN, also inside Bidirectional), ``layers`` the number
of stacked recurrent layers (the first ones are repeated or the extra ones
dropped; all but the last return sequences), ``dropout`` the rate of every
``Dropout`` layer (a model without one gets a ``Dropout`` after each recurrent
layer). Other keys name a config setting: ``lookback``, ``learning_rate``,
``batch_size``, ``epochs``, ``optimizer``, ``patience``, ``loss``, ``scaler``,
``target_transform`` (or their full names, e.g. ``"training.learning_rate"``).
Every candidate (both ends of a range) is checked against the config before
the search starts, so a bad value fails in seconds, not after ten trials.

Example:
    >>> from rnncast.cli.config import load_config
    >>> config = load_config(overrides=["tune.units=[8, 16]", "tune.layers=[1]"])
    >>> space = parse_space(config)
    >>> space["units"].kind, space["units"].choices
    ('categorical', (8, 16))
    >>> layers = apply_params(config, {"units": 8, "layers": 1})["model"]["layers"]
    >>> [(spec["type"], spec.get("units")) for spec in layers]
    [('LSTM', 8), ('Dense', 25), ('Dense', 1)]
"""

from __future__ import annotations

import copy
import difflib
import itertools
from dataclasses import dataclass
from typing import Any

from rnncast.exceptions import ConfigError

MODEL_KEYS = ("units", "layers", "dropout")
SETTINGS = {
    "lookback": "forecast.lookback",
    "learning_rate": "training.learning_rate",
    "batch_size": "training.batch_size",
    "epochs": "training.epochs",
    "optimizer": "training.optimizer",
    "patience": "training.patience",
    "loss": "training.loss",
    "scaler": "forecast.scaler",
    "target_transform": "forecast.target_transform",
}
# the validation loss is measured on the scaled target: these change its scale
RESCALING = ("training.loss", "forecast.scaler", "forecast.target_transform")
RECURRENT = ("LSTM", "GRU", "SimpleRNN")
RANGE_KEYS = ("low", "high", "log", "step")
SCALAR = (bool, int, float, str)


@dataclass(frozen=True)
class Param:
    """One searched setting: ``kind`` is ``categorical``, ``int`` or ``float``."""

    name: str
    kind: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna ``trial`` proposes for this setting."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices or ()))
        if self.kind == "int":
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def ends(self) -> list[Any]:
        """The candidates checked before the search: every choice, or both ends of the range."""
        return list(self.choices) if self.choices is not None else [self.low, self.high]


def parse_space(config: dict[str, Any], where: str = "config") -> dict[str, Param]:
    """The checked search space of ``config["tune"]``.

    Raises:
        ConfigError: an unknown key (with the nearest valid one), an empty list,
            ``low >= high``, a log range that starts at 0 or below, or a candidate the
            config refuses (e.g. ``optimizer = ["adam", "adamm"]``).

    Example:
        >>> from rnncast.cli.config import load_config
        >>> parse_space(load_config(overrides=["tune.lookback={ low = 30, high = 10 }"]))
        Traceback (most recent call last):
        rnncast.exceptions.ConfigError: config: tune.lookback: low=30 must be below high=10.
    """
    table = config.get("tune") or {}
    space = {}
    for name, value in table.items():
        _check_name(name, where)
        space[name] = _param(name, value, where)
    for param in space.values():
        for value in param.ends():
            _check_candidate(config, param.name, value, where)
    return space


def setting(name: str) -> str:
    """The full config name a ``[tune]`` key sets (``units`` and friends stay as they are).

    Example:
        >>> setting("lookback"), setting("training.batch_size"), setting("units")
        ('forecast.lookback', 'training.batch_size', 'units')
    """
    return SETTINGS.get(name, name)


def apply_params(config: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with the sampled ``params`` set, its ``[tune]`` section emptied.

    Example:
        >>> from rnncast.cli.config import load_config
        >>> tuned = apply_params(load_config(), {"lookback": 20, "learning_rate": 0.01})
        >>> tuned["forecast"]["lookback"], tuned["training"]["learning_rate"], tuned["tune"]
        (20, 0.01, {})
    """
    result = copy.deepcopy(config)
    result["tune"] = {}
    layers = result["model"]["layers"]
    if "layers" in params:
        layers = _stack(layers, params["layers"])
    if "units" in params:
        layers = [_with_units(spec, params["units"]) for spec in layers]
    if "dropout" in params:
        layers = _with_dropout(layers, params["dropout"])
    result["model"]["layers"] = layers
    for name, value in params.items():
        if name not in MODEL_KEYS:
            section, key = setting(name).split(".")
            result[section][key] = value
    return result


# ------------------------------------------------------------------ parsing
def _check_name(name: str, where: str) -> None:
    valid = [*MODEL_KEYS, *SETTINGS, *SETTINGS.values()]
    if name in valid:
        return
    nearest = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    hint = f"; did you mean '{nearest[0]}'?" if nearest else "."
    raise ConfigError(
        f"{where}: unknown key 'tune.{name}'{hint} Tunable keys: {', '.join(valid[:12])}."
    )


def _param(name: str, value: Any, where: str) -> Param:
    label = f"{where}: tune.{name}"
    if isinstance(value, list):
        if not value:
            raise ConfigError(f"{label} is an empty list; list at least one candidate.")
        if not all(isinstance(v, SCALAR) for v in value):
            raise ConfigError(f"{label}: candidates must be numbers, strings or booleans.")
        return Param(name, "categorical", choices=tuple(value))
    if isinstance(value, dict):
        return _range(name, value, label)
    raise ConfigError(
        f"{label} must be a list of candidates (e.g. [32, 64]) or a range table "
        f"(e.g. {{ low = 1e-4, high = 1e-2, log = true }}), got {value!r}."
    )


def _range(name: str, value: dict[str, Any], label: str) -> Param:
    unknown = [k for k in value if k not in RANGE_KEYS]
    if unknown or "low" not in value or "high" not in value:
        raise ConfigError(
            f"{label}: a range needs low and high (optional log, step); got keys {list(value)}."
        )
    low, high, log, step = (value.get(k) for k in RANGE_KEYS)
    numbers = [v for v in (low, high, step) if v is not None]
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in numbers):
        raise ConfigError(f"{label}: low, high and step must be numbers.")
    if not isinstance(log or False, bool):
        raise ConfigError(f"{label}: log must be true or false.")
    if low >= high:
        raise ConfigError(f"{label}: low={low} must be below high={high}.")
    if log and low <= 0:
        raise ConfigError(f"{label}: a log range needs low > 0, got low={low}.")
    if log and step is not None:
        raise ConfigError(f"{label}: use either log = true or a step, not both.")
    if step is not None and step <= 0:
        raise ConfigError(f"{label}: step={step} must be positive.")
    kind = "int" if all(isinstance(v, int) for v in numbers) else "float"
    return Param(name, kind, low=low, high=high, log=bool(log), step=step)


def _check_candidate(config: dict[str, Any], name: str, value: Any, where: str) -> None:
    from rnncast.cli.config import check_config

    trial = copy.deepcopy(config)
    trial["tune"] = {}
    try:
        check_config(apply_params(trial, {name: value}), f"{where}: tune.{name}={value!r}")
    except ConfigError as err:
        message = str(err)
        prefix = "" if message.startswith(where) else f"{where}: tune.{name}={value!r}: "
        raise ConfigError(prefix + message) from None


# ------------------------------------------------------------------ layers
def _recurrent(spec: dict[str, Any]) -> bool:
    inner = spec.get("layer") if spec.get("type") == "Bidirectional" else spec
    return isinstance(inner, dict) and inner.get("type") in RECURRENT


def _with_units(spec: dict[str, Any], units: int) -> dict[str, Any]:
    if not _recurrent(spec):
        return spec
    if spec["type"] == "Bidirectional":
        return {**spec, "layer": {**spec["layer"], "units": units}}
    return {**spec, "units": units}


def _sequences(spec: dict[str, Any], value: bool) -> dict[str, Any]:
    if spec["type"] == "Bidirectional":
        return {**spec, "layer": {**spec["layer"], "return_sequences": value}}
    return {**spec, "return_sequences": value}


def _returns(spec: dict[str, Any]) -> bool:
    inner = spec["layer"] if spec["type"] == "Bidirectional" else spec
    return bool(inner.get("return_sequences", False))


def _stack(layers: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The recurrent block (first to last recurrent layer) with ``count`` recurrent layers.

    The block is cut into groups (a recurrent layer and the layers after it,
    up to the next recurrent one). The new block repeats the groups before the
    last one (the last of them again when more are needed) and ends with the
    last group, whose ``return_sequences`` is kept; the others return sequences.
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ConfigError(f"tune.layers must be whole numbers >= 1, got {count!r}.")
    marks = [i for i, spec in enumerate(layers) if _recurrent(spec)]
    if not marks:
        raise ConfigError(
            "tune.layers and tune.units need a recurrent layer (LSTM, GRU, SimpleRNN) in "
            "model.layers; tune other keys for this model."
        )
    starts = [*marks, marks[-1] + 1]
    groups = [layers[a:b] for a, b in itertools.pairwise(starts)]
    head = groups[:-1] or [groups[-1]]
    block = [head[min(i, len(head) - 1)] for i in range(count - 1)]
    block = [[_sequences(g[0], True), *g[1:]] for g in block]
    last = groups[-1]
    block.append([_sequences(last[0], _returns(last[0])), *last[1:]])
    return [*layers[: marks[0]], *(s for g in block for s in g), *layers[marks[-1] + 1 :]]


def _with_dropout(layers: list[dict[str, Any]], rate: float) -> list[dict[str, Any]]:
    if any(spec.get("type") == "Dropout" for spec in layers):
        return [{**s, "rate": rate} if s.get("type") == "Dropout" else s for s in layers]
    result = []
    for spec in layers:
        result.append(spec)
        if _recurrent(spec):
            result.append({"type": "Dropout", "rate": rate})
    return result
