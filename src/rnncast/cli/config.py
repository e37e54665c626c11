"""Run configuration: TOML files with data, model, forecast, training, evaluation, backtest.

Every key is checked: an unknown key is an error naming it and the nearest
valid one, a wrong type names the key and the expected type, a TOML syntax
error gives the line. ``--set section.key=value`` overrides any key.

Sizes are capped before anything is built (docs/cli.md, "Limits"): numbers
such as ``forecast.days`` have a maximum, every layer's ``units``/``filters``
is at most :data:`MAX_UNITS`, and the model's estimated parameter count at
most :data:`MAX_PARAMETERS`. A relative ``data.csv`` in a config file is read
relative to that file's folder; files may start with a UTF-8 byte-order mark.

Example:
    >>> from rnncast.cli.config import load_config
    >>> config = load_config(overrides=["training.epochs=3", "data.ticker=MSFT"])
    >>> config["training"]["epochs"], config["data"]["ticker"]
    (3, 'MSFT')
"""

from __future__ import annotations

import copy
import difflib
import inspect
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rnncast.data.features import parse_features
from rnncast.exceptions import ConfigError

TUTORIAL_LAYERS = [
    {"type": "LSTM", "units": 50, "return_sequences": True},
    {"type": "LSTM", "units": 50},
    {"type": "Dense", "units": 25, "activation": "relu"},
    {"type": "Dense", "units": 1},
]
BASELINE_NAMES = ["naive", "drift", "moving_average", "linear_ar", "arima"]
MAX_UNITS = 4096  # largest units / filters of one layer
MAX_PARAMETERS = 20_000_000  # largest estimated parameter count of a model (80 MB of float32)
MAX_LAYERS = 100
SIZE_ARGUMENTS = {"units": MAX_UNITS, "filters": MAX_UNITS, "kernel_size": 1024, "n": 10_000}


@dataclass(frozen=True)
class Field:
    """One configuration key: accepted types, default, allowed values, bounds (inclusive)."""

    types: tuple[type, ...]
    default: Any
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    help: str = ""
    maximum: float | None = None


def _f(
    types: type | tuple[type, ...],
    default: Any,
    choices: tuple | None = None,
    minimum: float | None = None,
    help: str = "",
    maximum: float | None = None,
) -> Field:
    kinds = types if isinstance(types, tuple) else (types,)
    return Field(kinds, default, choices, minimum, help, maximum)


WRAPPERS = ("Bidirectional", "TimeDistributed")  # layers whose `layer` is a layer table
OPTIONAL_STR = (str, type(None))
NONE = "none"  # how a config file or --set says None (TOML has no null)
SCHEMA: dict[str, Any] = {
    "name": _f(str, "lstm", help="name of the run folder and report"),
    "data": {
        "ticker": _f(
            OPTIONAL_STR,
            None,
            help="sample ticker (rnncast data list; default AAPL), or the one to pick from csv",
        ),
        "tickers": _f(
            (list, type(None)),
            None,
            help="several tickers: picked from csv, or sample tickers (rnncast data list)",
        ),
        "csv": _f(
            (str, list, type(None)),
            None,
            help="price CSV file, or a list of candidate files (the first that exists)",
        ),
        "csv_fallback": _f(
            OPTIONAL_STR,
            None,
            choices=(None, "sample"),
            help="'sample': the bundled samples when no csv file exists",
        ),
        "date_format": _f(OPTIONAL_STR, None, help="the csv's date format, e.g. %d/%m/%Y"),
        "allow_jumps": _f(bool, False, help="accept one-day moves the data check flags"),
        "features": _f(list, ["close:log_return"], help="inputs: column or column:transform"),
        "target": _f(str, "close", help="column to forecast"),
        "val": _f(float, 0.15, minimum=0.0, maximum=0.9, help="validation fraction"),
        "test": _f(float, 0.15, minimum=0.0, maximum=0.9, help="test fraction"),
        "val_start": _f(OPTIONAL_STR, None, help="first validation date"),
        "test_start": _f(OPTIONAL_STR, None, help="first test date"),
        "fill": _f(OPTIONAL_STR, None, choices=(None, "ffill", "drop"), help="NaN handling"),
    },
    "model": {"layers": _f(list, TUTORIAL_LAYERS, help="layers in Keras vocabulary")},
    "forecast": {
        "lookback": _f(int, 60, minimum=1, maximum=10_000),
        "horizon": _f(int, 1, minimum=1, maximum=1_000),
        "target_transform": _f(
            str, "log_return", choices=("price", "return", "log_return", "diff")
        ),
        "scaler": _f(OPTIONAL_STR, "standard", choices=("minmax", "standard", "robust", None)),
        "strategy": _f(
            str,
            "recursive",
            choices=("direct", "recursive"),
            help="recursive: a one-step model forecasts `days` sessions",
        ),
        "days": _f(int, 5, minimum=1, maximum=1_000, help="next sessions to forecast"),
        "calendar": _f(str, "XNYS", help="exchange-calendars code"),
    },
    "training": {
        "epochs": _f(int, 30, minimum=1, maximum=100_000),
        "batch_size": _f(int, 32, minimum=1, maximum=1_000_000),
        "optimizer": _f(str, "adam", choices=("adam", "adamw", "sgd", "rmsprop")),
        "learning_rate": _f(float, 1e-3, minimum=0.0),
        "loss": _f(str, "mse", choices=("mse", "mae", "huber")),
        "patience": _f(
            int, 5, minimum=0, maximum=100_000, help="early-stopping patience (0: no early stop)"
        ),
        "seed": _f(int, 42, minimum=0, maximum=2**32 - 1),
        "verbose": _f((int, str), "auto", choices=(0, 1, 2, "auto")),
        "device": _f(str, "auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps"),
        "mixed_precision": _f(
            OPTIONAL_STR,
            None,
            choices=(None, "bf16", "fp16"),
            help="autocast dtype (None: float32)",
        ),
    },
    "evaluation": {
        "interval": _f(
            (float, type(None)),
            0.9,
            minimum=0.01,
            maximum=0.999,
            help="prediction-interval coverage",
        ),
        "baselines": _f(list, BASELINE_NAMES),
    },
    "backtest": {
        "folds": _f(int, 10, minimum=1, maximum=10_000),
        "initial_train": _f(
            float, 0.6, minimum=0.0, help="first training part: a fraction, or rows"
        ),
        "refit_every": _f(int, 1, minimum=1, maximum=100_000),
        "window": _f(str, "expanding", choices=("expanding", "rolling")),
        "epochs": _f(
            (int, type(None)),
            5,
            minimum=1,
            maximum=100_000,
            help="epochs per fold (None: training.epochs)",
        ),
        "rule": _f(str, "long_flat", choices=("long_flat", "long_short")),
        "threshold": _f(float, 0.0),
        "cost_bps": _f(float, 5.0, minimum=0.0, maximum=10_000.0),
        "slippage_bps": _f(float, 2.0, minimum=0.0, maximum=10_000.0),
    },
    # the search space of `rnncast tune` (checked by cli/tune_space.py; ignored by run)
    "tune": _f(dict, {}, help="search space of rnncast tune, e.g. units = [32, 64]"),
}


def default_config() -> dict[str, Any]:
    """Every key at its default value."""
    return {
        key: (
            {k: copy.deepcopy(f.default) for k, f in spec.items()}
            if isinstance(spec, dict)
            else copy.deepcopy(spec.default)
        )
        for key, spec in SCHEMA.items()
    }


def load_config(
    source: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Read a TOML config (or the defaults), apply ``--set`` overrides, validate everything.

    Args:
        source: A TOML file, or the name of a packaged config such as ``"gru"``
            (see :func:`packaged_configs`); ``None`` for the defaults.
        overrides: ``section.key=value`` strings, applied in order.

    Raises:
        ConfigError: naming the file, the key and the fix.

    Example:
        >>> load_config("gru")["model"]["layers"][0]["type"]
        'GRU'
    """
    config = default_config()
    where = "config"
    if source is not None:
        where, text = read_config_text(source)
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{where}: TOML syntax error: {err}.") from err
        except RecursionError as err:
            raise ConfigError(f"{where}: values are nested too deeply to be a config.") from err
        _merge(config, raw, where)
        _relative_to_file(config, raw, source, where)
    for override in overrides:
        _apply_override(config, override)
    _check_values(config, where)
    return config


def packaged_configs() -> list[str]:
    """Names of the configs that ship inside the package (``rnncast config list``).

    Example:
        >>> packaged_configs()
        ['bilstm', 'cnn_lstm', 'gru', 'lstm', 'lstm_bn_dropout', 'universe_lstm']
    """
    folder = resources.files("rnncast.cli") / "configs"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def read_config_text(source: str | Path) -> tuple[str, str]:
    """``(label for messages, TOML text)`` of a config file or a packaged config name.

    An existing file wins; otherwise a bare name (no folder, no suffix other
    than ``.toml``) is looked up among :func:`packaged_configs`.

    Example:
        >>> label, text = read_config_text("gru")
        >>> label, text.splitlines()[1]
        ("packaged config 'gru'", 'name = "gru"')
    """
    path = Path(source)
    bare = path.parent == Path(".") and "/" not in str(source) and path.suffix in ("", ".toml")
    if bare and not path.is_file():
        name = path.name.removesuffix(".toml")
        if name in packaged_configs():
            resource = resources.files("rnncast.cli") / "configs" / f"{name}.toml"
            return f"packaged config {name!r}", resource.read_text(encoding="utf-8-sig")
        if not path.suffix:
            raise ConfigError(
                f"no config file or packaged config named {str(source)!r}; packaged configs: "
                f"{', '.join(packaged_configs())} (rnncast config list). For your own, "
                "pass the path of a TOML file, e.g. --config my.toml."
            )
    try:
        return str(path), path.read_text(encoding="utf-8-sig")  # -sig: a BOM is dropped
    except OSError as err:
        raise ConfigError(f"cannot read config {path}: {err.strerror or err}.") from err
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"config {path} is not UTF-8 text (byte {err.start}: {err.reason}); a config "
            "is a TOML text file, e.g. rnncast config show lstm > my.toml."
        ) from err


def _relative_to_file(
    config: dict[str, Any], raw: dict[str, Any], source: str | Path, where: str
) -> None:
    """A relative ``data.csv`` written in a config file is relative to that file's folder."""
    csv = raw.get("data", {}).get("csv") if isinstance(raw.get("data"), dict) else None
    if where.startswith("packaged config"):
        return
    if isinstance(csv, list):
        config["data"]["csv"] = [_beside(path, source) for path in csv]
    elif isinstance(csv, str) and csv != NONE:
        config["data"]["csv"] = _beside(csv, source)


def _beside(path: Any, source: str | Path) -> Any:
    """A relative path string read relative to the config file's folder."""
    if not isinstance(path, str) or not path or Path(path).expanduser().is_absolute():
        return path
    return str(Path(source).parent / path)


def _merge(config: dict[str, Any], raw: dict[str, Any], where: str) -> None:
    for key, value in raw.items():
        spec = _known(key, SCHEMA, where, "")
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a section (table), got {value!r}.")
            for inner, inner_value in value.items():
                _known(inner, spec, where, f"{key}.")
                config[key][inner] = inner_value
        else:
            config[key] = value


def _known(key: str, section: dict[str, Any], where: str, prefix: str) -> Any:
    if key in section:
        return section[key]
    candidates = [f"{prefix}{name}" for name in section] + _all_keys()
    nearest = difflib.get_close_matches(f"{prefix}{key}", candidates, n=1, cutoff=0.5)
    hint = f"; did you mean '{nearest[0]}'?" if nearest else ""
    valid = ", ".join(section)
    raise ConfigError(f"{where}: unknown key '{prefix}{key}'{hint} Valid keys here: {valid}.")


def _all_keys() -> list[str]:
    return [f"{s}.{k}" for s, spec in SCHEMA.items() if isinstance(spec, dict) for k in spec]


def _apply_override(config: dict[str, Any], override: str) -> None:
    """``section.key=value`` with a TOML value (bare words are strings)."""
    if "=" not in override:
        raise ConfigError(
            f"--set {override!r} must look like section.key=value, e.g. training.epochs=5."
        )
    dotted, text = (part.strip() for part in override.split("=", 1))
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        value = text
    section, _, key = dotted.partition(".")
    where = f"--set {dotted}"
    spec = _known(section, SCHEMA, where, "")
    if isinstance(spec, dict):
        _known(key, spec, where, f"{section}.")
        config[section][key] = value
    elif key and spec.types == (dict,):  # [tune]: a table of free keys
        config[section] = {**config[section], key: value}
    elif key:
        raise ConfigError(f"{where}: '{section}' is a plain key, not a section.")
    else:
        config[section] = value


def _check_values(config: dict[str, Any], where: str) -> None:
    for section, spec in SCHEMA.items():
        if isinstance(spec, dict):
            for key, field in spec.items():
                value = config[section][key] = _none(config[section][key], field)
                _check_field(f"{section}.{key}", value, field, where)
        else:
            config[section] = _none(config[section], spec)
            _check_field(section, config[section], spec, where)
    data = config["data"]
    _check_tickers(data, where)
    _resolve_csv(data, where)
    if not all(isinstance(f, str) for f in data["features"]) or not data["features"]:
        raise ConfigError(
            f"{where}: data.features must be a non-empty list of column names or "
            "column:transform specs, e.g. ['close:log_return']."
        )
    try:
        parse_features(data["features"])
    except ConfigError as err:
        raise ConfigError(f"{where}: data.features: {err}") from err
    unknown = [b for b in config["evaluation"]["baselines"] if b not in BASELINE_NAMES]
    if unknown:
        raise ConfigError(
            f"{where}: evaluation.baselines has unknown {unknown}; choose from {BASELINE_NAMES}."
        )
    _check_days(config["forecast"], where)
    layers = config["model"]["layers"]
    if not layers or len(layers) > MAX_LAYERS:
        raise ConfigError(
            f"{where}: model.layers must list 1 to {MAX_LAYERS} layers, got {len(layers)}."
        )
    config["model"]["layers"] = [
        check_layer(spec, f"model.layers[{i}]", where) for i, spec in enumerate(layers)
    ]
    check_size(config, where)
    if config["tune"]:
        from rnncast.cli.tune_space import parse_space

        parse_space(config, where)


def check_config(config: dict[str, Any], where: str = "config") -> dict[str, Any]:
    """Validate a config dict in place (as :func:`load_config` does) and return it.

    Example:
        >>> config = load_config()
        >>> config["forecast"]["lookback"] = 0
        >>> check_config(config)
        Traceback (most recent call last):
        rnncast.exceptions.ConfigError: config: forecast.lookback=0 must be >= 1.
    """
    _check_values(config, where)
    return config


def _check_tickers(data: dict[str, Any], where: str) -> None:
    """``data.tickers``: a non-empty list of symbols, not together with ``data.ticker``."""
    tickers = data["tickers"]
    if tickers is None:
        return
    if not tickers or not all(isinstance(t, str) and t.strip() for t in tickers):
        raise ConfigError(
            f"{where}: data.tickers must be a non-empty list of ticker symbols, e.g. "
            f"['AAPL', 'MSFT'], got {_short(tickers)}."
        )
    if data["ticker"] is not None:
        raise ConfigError(
            f"{where}: data.ticker={data['ticker']!r} picks one series and "
            f"data.tickers={_short(tickers)} several; set only one of them (--ticker or --tickers)."
        )


def _resolve_csv(data: dict[str, Any], where: str) -> None:
    """Resolve a list of candidate ``data.csv`` files and ``data.csv_fallback``.

    ``data.csv`` becomes the first candidate that is a file. When none is (or
    none is given) and ``data.csv_fallback = "sample"``, it becomes None: the
    bundled samples, all of them unless ``data.ticker``/``data.tickers`` picks.
    A single ``csv`` without a fallback is left as it is (read errors name it).
    """
    csv, fallback = data["csv"], data["csv_fallback"]
    if isinstance(csv, list) and (
        not csv or not all(isinstance(p, str) and p.strip() and p != NONE for p in csv)
    ):
        raise ConfigError(
            f"{where}: data.csv must be a file name or a non-empty list of file names (the "
            f"first that exists is read), got {_short(csv)}."
        )
    if not isinstance(csv, list) and fallback is None:
        return
    candidates = csv if isinstance(csv, list) else [csv] if csv is not None else []
    found = next((p for p in candidates if Path(p).expanduser().is_file()), None)
    if found is not None:
        data["csv"] = found
    elif fallback == "sample":
        from rnncast.datasets import available_samples

        data["csv"] = None
        if data["ticker"] is None and data["tickers"] is None:
            data["tickers"] = available_samples()
    else:
        raise ConfigError(
            f"{where}: none of the data.csv files exists ({', '.join(candidates)}); pass "
            '--csv FILE, or set data.csv_fallback = "sample" to use the bundled samples.'
        )


def _check_days(forecast: dict[str, Any], where: str) -> None:
    """A direct model forecasts ``horizon`` sessions: asking for more is an error, not a cut."""
    if forecast["strategy"] == "direct" and forecast["days"] > forecast["horizon"]:
        days, horizon = forecast["days"], forecast["horizon"]
        raise ConfigError(
            f"{where}: forecast.days={days} is more than forecast.horizon={horizon}, and "
            f"strategy='direct' forecasts only horizon sessions. Set forecast.days={horizon}, "
            f"forecast.horizon={days} (with a last layer of {days} units), or "
            "forecast.strategy='recursive'."
        )


def _none(value: Any, field: Field) -> Any:
    """``"none"`` means ``None`` for keys that accept ``None``."""
    return None if value == NONE and type(None) in field.types else value


def _check_field(name: str, value: Any, field: Field, where: str) -> None:
    accepted = field.types + ((int,) if float in field.types else ())
    if (isinstance(value, bool) and bool not in field.types) or not isinstance(value, accepted):
        expected = " or ".join("none" if t is type(None) else t.__name__ for t in field.types)
        raise ConfigError(
            f"{where}: {name} must be {expected}, got {_short(value)} ({type(value).__name__})."
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {name}={value!r} must be a finite number.")
    if field.choices is not None and value not in field.choices:
        raise ConfigError(f"{where}: {name}={value!r} is not one of {field.choices}.")
    if field.minimum is not None and value is not None and value < field.minimum:
        raise ConfigError(f"{where}: {name}={value!r} must be >= {field.minimum}.")
    if field.maximum is not None and value is not None and value > field.maximum:
        raise ConfigError(
            f"{where}: {name}={value!r} must be <= {field.maximum:g} (a documented limit, "
            "docs/cli.md)."
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_layer(spec: Any, name: str, where: str) -> dict[str, Any]:
    """Check one ``{type = "LSTM", units = 50, ...}`` table against the layer's arguments."""
    from rnncast.layers import LAYERS

    if not isinstance(spec, dict) or "type" not in spec:
        raise ConfigError(
            f"{where}: {name} must be a table with a 'type', e.g. "
            '{ type = "LSTM", units = 50 }.'
        )
    kind = spec["type"]
    if not isinstance(kind, str):
        raise ConfigError(
            f'{where}: {name}.type must be a layer name (a string) such as "LSTM", got '
            f"{_short(kind)} ({type(kind).__name__})."
        )
    if kind not in LAYERS:
        nearest = difflib.get_close_matches(str(kind), list(LAYERS), n=1)
        hint = f"; did you mean '{nearest[0]}'?" if nearest else ""
        raise ConfigError(
            f"{where}: {name}.type={kind!r} is not a layer{hint} Layers: {', '.join(LAYERS)}."
        )
    allowed = _layer_arguments(LAYERS[kind])
    for key in spec:
        if key != "type" and key not in allowed:
            nearest = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f"; did you mean '{nearest[0]}'?" if nearest else ""
            raise ConfigError(f"{where}: unknown key '{name}.{key}' for {kind}{hint}")
    _check_sizes(spec, name, where)
    checked = dict(spec)
    if kind in WRAPPERS:
        checked["layer"] = check_layer(spec.get("layer"), f"{name}.layer", where)
    try:
        build_layer(checked)
    except (ConfigError, TypeError, ValueError, ArithmeticError) as err:
        raise ConfigError(f"{where}: {name} ({kind}): {err}") from err
    return checked


def _check_sizes(spec: dict[str, Any], name: str, where: str) -> None:
    for key, limit in SIZE_ARGUMENTS.items():
        value = spec.get(key)
        sizes = value if isinstance(value, list | tuple) else [value]
        for size in sizes:
            if isinstance(size, int) and not isinstance(size, bool) and size > limit:
                raise ConfigError(
                    f"{where}: {name}.{key}={size} is over the limit of {limit} (docs/cli.md, "
                    "Limits); use a smaller layer."
                )


def check_size(config: dict[str, Any], where: str = "config") -> int:
    """Refuse a model whose estimated parameter count is over :data:`MAX_PARAMETERS`.

    The estimate counts the weights of LSTM, GRU, SimpleRNN, Dense and Conv1D
    layers from their widths (``Flatten`` multiplies by ``forecast.lookback``),
    before anything is allocated. Returns the estimate.

    Example:
        >>> check_size(load_config())  # the tutorial LSTM
        31901
    """
    width = len(config["data"]["features"])
    total = 0
    for i, spec in enumerate(config["model"]["layers"]):
        count, width = _parameters(spec, width, config["forecast"]["lookback"])
        total += count
        if total > MAX_PARAMETERS:
            raise ConfigError(
                f"{where}: the model has about {total:,} parameters by model.layers[{i}], over "
                f"the limit of {MAX_PARAMETERS:,} (docs/cli.md, Limits); use fewer units."
            )
    return total


GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


def _parameters(spec: dict[str, Any], width: int, lookback: int) -> tuple[int, int]:
    """``(estimated parameters, output width)`` of one checked layer table."""
    kind, units = spec["type"], spec.get("units") or spec.get("filters")
    if kind in WRAPPERS:
        count, inner = _parameters(spec["layer"], width, lookback)
        doubled = kind == "Bidirectional"
        wide = doubled and spec.get("merge_mode", "concat") == "concat"
        return count * (2 if doubled else 1), inner * (2 if wide else 1)
    if kind == "Flatten":
        return 0, width * lookback
    if not isinstance(units, int):
        return 0, width
    if kind in GATES:
        bias = 2 if kind == "GRU" else 1  # GRU's reset_after keeps two biases
        return GATES[kind] * units * (units + width + bias), units
    kernel = spec.get("kernel_size", 1)
    kernel = kernel[0] if isinstance(kernel, list | tuple) else kernel
    return units * (int(kernel) * width + 1), units


def build_layer(spec: dict[str, Any]) -> Any:
    """An rnncast layer from a checked config table."""
    from rnncast.layers import LAYERS

    arguments = {k: v for k, v in spec.items() if k != "type"}
    if spec["type"] in WRAPPERS:
        arguments["layer"] = build_layer(arguments["layer"])
    return LAYERS[spec["type"]](**arguments)


def _layer_arguments(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            names += [
                p
                for p in inspect.signature(klass.__init__).parameters
                if p not in ("self", "args", "kwargs") and p not in names
            ]
        if klass.__name__ == "Layer":
            break
    return names


def dump_config(config: dict[str, Any]) -> str:
    """The resolved config as TOML text that :func:`load_config` reads back to the same dict.

    TOML has no null: a ``None`` whose default is also ``None`` is left out, any
    other ``None`` is written as ``"none"`` (which :func:`load_config` reads as ``None``).

    Example:
        >>> text = dump_config(load_config(overrides=['name="my run"', "forecast.scaler=none"]))
        >>> text.splitlines()[0], tomllib.loads(text)["forecast"]["scaler"]
        ('name = "my run"', 'none')
        >>> import pathlib, tempfile
        >>> saved = pathlib.Path(tempfile.mkdtemp()) / "run.toml"
        >>> _ = saved.write_text(text)
        >>> load_config(saved) == load_config(overrides=['name="my run"', "forecast.scaler=none"])
        True
    """
    import tomli_w

    text: dict[str, Any] = {}
    for key, spec in SCHEMA.items():
        if isinstance(spec, dict):
            section = {k: _writable(config[key][k], f) for k, f in spec.items()}
            text[key] = {k: v for k, v in section.items() if v is not None}
        elif (value := _writable(config[key], spec)) is not None and value != {}:
            text[key] = value
    return tomli_w.dumps(text)


def _writable(value: Any, field: Field) -> Any:
    if value is None:
        return None if field.default is None else NONE
    if isinstance(value, list):  # layer tables: their None arguments mean "the default"
        return [
            {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item
            for item in value
        ]
    return value
