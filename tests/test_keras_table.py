"""The compatibility table in docs/keras.md cannot go stale.

The "yes" rows between ``<!-- compat:begin -->`` and ``<!-- compat:end -->`` are
generated from the code: every public class or function of ``rnncast.<module>`` that
``keras.<module>`` also has, the arguments both accept (and the Keras ones rnncast does
not), the model's methods and attributes that Keras's ``Sequential`` also has, and the
names Keras takes as strings (``loss="mse"``, ``activation="relu"``, ...) probed through
rnncast's public API. Nothing is listed by hand, so names added later appear on the
next ``--write``.

The hand-written rows outside the block ("accepted, no effect" and "not supported")
start with Keras code in backticks; the test runs that code on rnncast (``keras.``
read as ``rnncast.``, ``model`` a small compiled model, ``x``/``y`` arrays for it).
"Not supported" code must fail with an rnncast error or a missing name;
"accepted, no effect" code must run.

Regenerate the block in place with::

    PYTHONPATH=src python tests/test_keras_table.py --write
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # before any `import keras`

DOC = Path(__file__).resolve().parents[1] / "docs" / "keras.md"
BEGIN = "<!-- compat:begin -->"
END = "<!-- compat:end -->"
NO_EFFECT = "accepted, no effect"
NOT_SUPPORTED = "not supported"
# Keras's module paths, each compared with rnncast's module of the same path if it exists.
MODULES = (
    "",
    "models",
    "layers",
    "optimizers",
    "optimizers.schedules",
    "losses",
    "metrics",
    "callbacks",
    "utils",
    "backend",
    "regularizers",
    "constraints",
    "mixed_precision",
    "initializers",
    "activations",
    "saving",
)
# Every Keras layer takes these through **kwargs (keras/src/layers/layer.py).
KERAS_LAYER_KWARGS = ("input_shape", "input_dim")
# Base classes and wrappers in Keras's string registries, never passed as strings.
KERAS_INTERNAL_STRINGS = {
    "optimizer",
    "optimizermap",
    "multioptimizer",
    "lossscaleoptimizer",
    "metric",
    "mean_metric_wrapper",
    "loss",
    "initializer",
    "regularizer",
    "constraint",
}


# ---------------------------------------------------------------- introspection
def optional_module(path: str) -> ModuleType | None:
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        return None


def is_api(obj: Any) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)


def rnncast_names(module: ModuleType) -> set[str]:
    """Public classes and functions defined by rnncast in ``module``."""
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    return {
        name
        for name in names
        if is_api(obj := getattr(module, name, None))
        and getattr(obj, "__module__", "").startswith("rnncast")
    }


def keras_names(module: ModuleType) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_") and is_api(getattr(module, n))}


def parameters(obj: Any, method: str = "__init__") -> set[str]:
    """Keyword names ``obj`` (a class: its ``method``; else a function) accepts.

    Follows ``**kwargs`` up the class hierarchy (stopping at torch and ``object``);
    required parameters of a base class are left out, since the subclass fills them.
    """
    if not inspect.isclass(obj):
        return _own_parameters(obj, required=True)[0]
    names: set[str] = set()
    first = True
    for klass in obj.__mro__:
        if klass is object or klass.__module__.startswith("torch"):
            break
        if method not in vars(klass):
            continue
        found, more = _own_parameters(getattr(klass, method), required=first)
        names |= found
        first = False
        if not more:
            break
    return names


def _own_parameters(function: Callable[..., Any], required: bool) -> tuple[set[str], bool]:
    """(named parameters, whether it takes **kwargs) of one function."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return set(), False
    names = {
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name != "self"
        and (required or p.default is not p.empty)
    }
    more = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    return names, more


def keras_parameters(keras: ModuleType, obj: Any) -> set[str]:
    names = parameters(obj)
    if (
        inspect.isclass(obj)
        and issubclass(obj, keras.layers.Layer)
        and not issubclass(obj, keras.Model)
    ):
        names |= set(KERAS_LAYER_KWARGS)
    return names


def model_members(cls: type, package: str, skip: str = "") -> dict[str, Any]:
    """Public attributes defined in ``cls``'s own (``package``) classes, not torch's."""
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        module = klass.__module__
        if module.startswith(package) and not (skip and module.startswith(skip)):
            members.update({k: v for k, v in vars(klass).items() if not k.startswith("_")})
    return members


# ------------------------------------------------------------- string probes
def _model() -> Any:
    from rnncast.layers import LSTM, Dense
    from rnncast.models import Sequential

    return Sequential([LSTM(2, input_shape=(3, 1)), Dense(1)])


def _accepts(build: Callable[[], Any]) -> bool:
    try:
        build()
    except Exception:  # any refusal, typed or not, means "no"
        return False
    return True


def _dense(argument: str) -> Callable[[str], bool]:
    from rnncast.layers import Dense

    return lambda name: _accepts(lambda: Dense(1, **{argument: name}))


def _compile(argument: str) -> Callable[[str], bool]:
    def probe(name: str) -> bool:
        given = {"optimizer": "adam", "loss": "mse", argument: name}
        if argument == "metrics":
            given["metrics"] = [name]
        return _accepts(lambda: _model().compile(**given))

    return probe


# (how Keras spells it, the keras.src module holding its string names, rnncast's probe)
STRING_KINDS = (
    ('compile(optimizer="...")', "optimizers", lambda: _compile("optimizer")),
    ('compile(loss="...")', "losses", lambda: _compile("loss")),
    ('compile(metrics=["..."])', "metrics", lambda: _compile("metrics")),
    ('activation="..."', "activations", lambda: _dense("activation")),
    ('kernel_initializer="..."', "initializers", lambda: _dense("kernel_initializer")),
    ('kernel_regularizer="..."', "regularizers", lambda: _dense("kernel_regularizer")),
    ('kernel_constraint="..."', "constraints", lambda: _dense("kernel_constraint")),
)


def keras_strings(kind: str) -> list[str]:
    """The lower-case names Keras's ``keras.<kind>.get`` resolves."""
    module = optional_module(f"keras.src.{kind}")
    names = getattr(module, "ALL_OBJECTS_DICT", {})
    return sorted(
        n
        for n in names
        if n == n.lower() and not n.startswith("_") and n not in KERAS_INTERNAL_STRINGS
    )


# ------------------------------------------------------------------ the block
def cell(names: Iterable[str], quote: str = "`") -> str:
    names = sorted(names)
    return ", ".join(f"{quote}{n}{quote}" for n in names) if names else "—"


def row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def generate(keras: ModuleType, excluded: set[tuple[str, str]]) -> str:
    """The generated block's Markdown (between the markers)."""
    lines = [
        "<!-- generated by `PYTHONPATH=src python tests/test_keras_table.py --write`; "
        "edit the code, not this block -->",
        "",
        "**Modules, classes and functions.** `keras.X` is `rnncast.X`.",
        "",
        row("Keras", "status", "arguments rnncast takes", "Keras arguments it does not take"),
        row("---", "---", "---", "---"),
    ]
    for path in MODULES:
        ours = optional_module("rnncast" + (f".{path}" if path else ""))
        theirs = optional_module("keras" + (f".{path}" if path else ""))
        if ours is None or theirs is None:
            continue
        for name in sorted(rnncast_names(ours) & keras_names(theirs)):
            if (name, "") in excluded:
                continue
            mine = parameters(getattr(ours, name))
            keras_args = keras_parameters(keras, getattr(theirs, name))
            taken = {a for a in mine & keras_args if (name, a) not in excluded}
            missing = {a for a in keras_args - mine if (name, a) not in excluded}
            label = ".".join(p for p in ("keras", path, name) if p)
            lines.append(row(f"`{label}`", "yes", cell(taken), cell(missing)))
    lines += model_rows(keras, excluded)
    lines += string_rows()
    return "\n".join(lines)


def model_rows(keras: ModuleType, excluded: set[tuple[str, str]]) -> list[str]:
    from rnncast.models import Sequential

    ours = model_members(Sequential, "rnncast")
    theirs = model_members(keras.Sequential, "keras", skip="keras.src.backend")
    lines = [
        "",
        "**Model methods and attributes** (`keras.Sequential`, `rnncast.Sequential`).",
        "",
        row("Keras", "status", "arguments rnncast takes", "Keras arguments it does not take"),
        row("---", "---", "---", "---"),
    ]
    for name in sorted(set(ours) & set(theirs)):
        if (name, "") in excluded:
            continue
        if isinstance(ours[name], classmethod | staticmethod) or inspect.isfunction(ours[name]):
            mine = parameters(Sequential, name)
            keras_args = parameters(keras.Sequential, name)
            taken = {a for a in mine & keras_args if (name, a) not in excluded}
            missing = {a for a in keras_args - mine if (name, a) not in excluded}
            lines.append(row(f"`model.{name}()`", "yes", cell(taken), cell(missing)))
        else:
            lines.append(row(f"`model.{name}`", "yes", "—", "—"))
    return lines


def string_rows() -> list[str]:
    lines = [
        "",
        "**Names given as strings.**",
        "",
        row("Keras", "status", "names rnncast takes", "Keras names it does not take"),
        row("---", "---", "---", "---"),
    ]
    for spelling, kind, make_probe in STRING_KINDS:
        probe = make_probe()
        names = keras_strings(kind)
        taken = [n for n in names if probe(n)]
        if taken:
            missing = set(names) - set(taken)
            lines.append(row(f"`{spelling}`", "yes", cell(taken, '"'), cell(missing, '"')))
    return lines


# ------------------------------------------------------------ the hand rows
def doc_parts(text: str) -> tuple[str, str, str]:
    """(before, generated block, after) of docs/keras.md."""
    head, found, rest = text.partition(BEGIN)
    block, found_end, tail = rest.partition(END)
    assert found and found_end, f"{DOC} needs the markers {BEGIN} and {END}"
    return head, block.strip("\n"), tail


def hand_rows(text: str) -> list[tuple[list[str], str]]:
    """([code in the first cell], status) for each hand-written row with a known status."""
    head, _, tail = doc_parts(text)
    rows = []
    for line in (head + tail).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if "|" in line else []
        if len(cells) >= 2 and cells[1] in (NO_EFFECT, NOT_SUPPORTED):
            rows.append((re.findall(r"`([^`]+)`", cells[0]), cells[1]))
    return rows


def checked_code(snippets: list[str]) -> list[str]:
    """The snippets that are rnncast-checkable code: ``keras.`` or ``model.`` expressions."""
    return [s for s in snippets if s.startswith(("keras.", "model.")) and _parses(s)]


def _parses(code: str) -> bool:
    try:
        ast.parse(code, mode="eval")
    except SyntaxError:
        return False
    return True


def keyword_target(code: str) -> tuple[str, str]:
    """``(callable's last name, its last keyword)`` of the outer call; ``""`` for no keyword.

    The keyword a row is about comes last: ``keras.layers.Input(shape=(3, 1),
    dtype="float32")`` is about ``Input``'s ``dtype``.
    """
    node = ast.parse(code, mode="eval").body
    if not isinstance(node, ast.Call):
        return "", ""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    keywords = [k.arg for k in node.keywords if k.arg]
    return name, keywords[-1] if keywords else ""


def no_effect_targets(text: str) -> set[tuple[str, str]]:
    """What the "accepted, no effect" rows name; the generated block leaves it out."""
    return {
        keyword_target(code)
        for snippets, status in hand_rows(text)
        if status == NO_EFFECT
        for code in checked_code(snippets)
    } - {("", "")}


class RnncastAsKeras:
    """``keras.<path>`` read as ``rnncast.<path>``: a submodule if there is one, else a name."""

    def __init__(self, path: str = "rnncast") -> None:
        self._path = path
        self._module = importlib.import_module(path)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if optional_module(f"{self._path}.{name}") is not None:
            return RnncastAsKeras(f"{self._path}.{name}")
        return getattr(self._module, name)


def run_on_rnncast(code: str) -> Any:
    from rnncast.utils import set_random_seed

    set_random_seed(0)
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    namespace = {
        "keras": RnncastAsKeras(),
        "model": model,
        "x": np.zeros((4, 3, 1), dtype="float32"),
        "y": np.zeros((4, 1), dtype="float32"),
        "np": np,
    }
    return eval(compile(code, "<docs/keras.md>", "eval"), namespace)


def missing_or_refused(error: BaseException) -> bool:
    from rnncast.exceptions import RnncastError

    return isinstance(error, RnncastError | AttributeError | ImportError | NameError)


# ------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_generated_yes_rows_match_the_code(text: str) -> None:
    keras = pytest.importorskip("keras")
    _, block, _ = doc_parts(text)
    expected = generate(keras, no_effect_targets(text))
    assert block == expected, (
        "docs/keras.md's compatibility table is stale; run "
        "`PYTHONPATH=src python tests/test_keras_table.py --write`"
    )


def yes_rows(block: str) -> set[str]:
    return {
        line.split("|")[1].strip()
        for line in block.splitlines()
        if line.startswith("|") and line.split("|")[2].strip() == "yes"
    }


def test_the_block_lists_what_tutorials_use(text: str) -> None:
    """The block is not empty: the names the tutorial scripts use are "yes" rows."""
    _, block, _ = doc_parts(text)
    rows = yes_rows(block)
    for label in (
        "`keras.models.Sequential`",
        "`keras.layers.LSTM`",
        "`keras.layers.Lambda`",
        "`keras.layers.Input`",
        "`keras.optimizers.Adam`",
        "`keras.callbacks.EarlyStopping`",
        "`model.fit()`",
        "`model.predict()`",
        '`compile(loss="...")`',
    ):
        assert label in rows


def test_not_supported_rows_fail_on_rnncast(text: str) -> None:
    status = NOT_SUPPORTED
    found = [snippets for snippets, s in hand_rows(text) if s == status]
    # TensorFlow's own objects (`tf.data.Dataset`) cannot be built here: the one exception
    rows = [checked_code(s) for s in found if not s[0].startswith("tf.")]
    assert rows and all(rows), f"every {status!r} row starts with `keras.` or `model.` code"
    for code in (c for snippets in rows for c in snippets):
        try:
            run_on_rnncast(code)
        except Exception as error:  # the kind is checked just below
            assert missing_or_refused(error), (
                f"{code} is marked {status!r} but fails with {error!r}, "
                "not with a missing name or an rnncast error"
            )
        else:
            pytest.fail(f"{code} is marked {status!r} but runs on rnncast; update docs/keras.md")


def without_last_keyword(code: str) -> str:
    tree = ast.parse(code, mode="eval")
    tree.body.keywords = tree.body.keywords[:-1]
    return ast.unparse(tree)


def outcome(code: str, capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    """What running ``code`` returns (arrays as lists, layers as configs) and prints."""
    import torch

    from rnncast.layers import Layer

    capsys.readouterr()
    result = run_on_rnncast(code)  # raises if rnncast refuses it
    if isinstance(result, np.ndarray):
        result = result.tolist()
    elif isinstance(result, Layer) and result.input_rank == 2:
        # A sequence layer is judged by what it computes: same seed, same weights, same input.
        # (Its config differs, as in Keras, which also records e.g. unroll=True.)
        inputs = torch.linspace(-1, 1, 2 * 5 * 3).reshape(2, 5, 3)  # (batch, timesteps, features)
        result = result(inputs).tolist()
    elif hasattr(result, "get_config"):
        result = result.get_config()
    return result, capsys.readouterr().out


def test_no_effect_rows_run_and_change_nothing(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each "accepted, no effect" cell runs, and gives and prints what it gives without
    its last keyword."""
    codes = [
        code
        for snippets, status in hand_rows(text)
        if status == NO_EFFECT
        for code in checked_code(snippets)
    ]
    assert codes
    for code in codes:
        assert keyword_target(code)[1], f"{code}: say which keyword has no effect"
        assert outcome(code, capsys) == outcome(without_last_keyword(code), capsys), code


def test_not_supported_names_are_not_public(text: str) -> None:
    """A "not supported" call without keywords (``keras.layers.Embedding(1000, 8)``) is
    about the name itself: rnncast has no such public name. With keywords it is about
    the last keyword (``GlobalAveragePooling1D(data_format=...)``), checked by running it.
    """
    names = [
        ast.unparse(ast.parse(code, mode="eval").body.func)
        for snippets, status in hand_rows(text)
        if status == NOT_SUPPORTED
        for code in checked_code(snippets)
        if keyword_target(code)[1] == "" and code.startswith("keras.")
    ]
    assert "keras.layers.Embedding" in names
    for name in names:
        try:
            run_on_rnncast(name)
        except Exception as error:
            assert missing_or_refused(error), f"{name}: {error!r}"
        else:
            pytest.fail(f"{name} is marked {NOT_SUPPORTED!r} but rnncast has it")


def test_no_effect_rows_are_not_also_yes(text: str) -> None:
    """An argument marked "accepted, no effect" is not listed as taken by the block."""
    _, block, _ = doc_parts(text)
    for name, argument in no_effect_targets(text):
        for line in block.splitlines():
            cells = line.split("|")
            if len(cells) > 3 and re.search(rf"[.`]{re.escape(name)}(\(\))?`", cells[1]):
                assert argument, f"{name} is both 'yes' and {NO_EFFECT!r}"
                assert f"`{argument}`" not in cells[3], (name, argument)


def test_keyword_target() -> None:
    assert keyword_target("model.predict(x, batch_size=2, verbose=1)") == ("predict", "verbose")
    assert keyword_target("keras.backend.clear_session()") == ("clear_session", "")
    assert keyword_target("keras.layers") == ("", "")


def write() -> None:
    import keras

    text = DOC.read_text(encoding="utf-8")
    head, _, tail = doc_parts(text)
    block = generate(keras, no_effect_targets(text))
    DOC.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}", encoding="utf-8")
    print(f"wrote the compatibility table of {DOC}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: PYTHONPATH=src python tests/test_keras_table.py --write")
    write()
