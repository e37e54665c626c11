"""Adagrad, Adadelta, Adamax, Nadam, Keras's base arguments and the extra schedules.

Keras 3 (torch backend) is the oracle: each optimizer's variables must agree
with Keras's after every one of 20 steps on the same float32 gradients, to
1e-6 relative (tensor-wise). Measured: bit-identical for Adagrad, Adadelta,
Adamax and Nadam with constant rates; up to 2e-7 with weight decay, clipping
or a schedule (float32 rounding of the rate).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnncast import optimizers
from rnncast.exceptions import ConfigError
from rnncast.optimizers import schedules

keras = pytest.importorskip("keras")
K = keras.optimizers
KS = keras.optimizers.schedules
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SHAPES = [(3, 4), (5,), (2, 3, 2)]
STEPS = 20
RTOL = 1e-6


def to_numpy(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def problem(seed: int, scale: float = 1.0) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    init = [rng.uniform(-1, 1, shape).astype("float32") for shape in SHAPES]
    grads = [
        [(scale * rng.normal(size=shape)).astype("float32") for shape in SHAPES]
        for _ in range(STEPS)
    ]
    return init, grads


def run_rnncast(opt, init, grads) -> list[list[np.ndarray]]:
    params = [torch.nn.Parameter(torch.tensor(w)) for w in init]
    opt.build(params)
    trajectory = []
    for step_grads in grads:
        for param, grad in zip(params, step_grads, strict=True):
            param.grad = torch.tensor(grad)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


def run_keras(opt, init, grads) -> list[list[np.ndarray]]:
    variables = [keras.Variable(w) for w in init]
    trajectory = []
    for step_grads in grads:
        opt.apply_gradients(
            zip([keras.ops.convert_to_tensor(g) for g in step_grads], variables, strict=True)
        )
        trajectory.append([to_numpy(v).copy() for v in variables])
    return trajectory


def worst_relative(expected, actual) -> float:
    """Largest tensor-wise relative error ``max|a - e| / max|e|`` over all steps and variables.

    Relative to the tensor's scale rather than element by element: an element
    that passes near zero carries the float32 rounding of its larger neighbours.
    """
    worst = 0.0
    for want, got in zip(expected, actual, strict=True):
        for w, g in zip(want, got, strict=True):
            worst = max(worst, float(np.abs(g - w).max() / np.abs(w).max()))
    return worst


CASES: dict[str, tuple[Callable, Callable]] = {
    "adagrad": (lambda: K.Adagrad(0.1), lambda: optimizers.Adagrad(0.1)),
    "adagrad_default": (lambda: K.Adagrad(), lambda: optimizers.Adagrad()),
    "adagrad_zero_accumulator": (
        lambda: K.Adagrad(0.05, initial_accumulator_value=0.0, epsilon=1e-3),
        lambda: optimizers.Adagrad(0.05, initial_accumulator_value=0.0, epsilon=1e-3),
    ),
    "adadelta": (lambda: K.Adadelta(1.0), lambda: optimizers.Adadelta(1.0)),
    "adadelta_default": (lambda: K.Adadelta(), lambda: optimizers.Adadelta()),
    "adadelta_rho_eps": (
        lambda: K.Adadelta(0.5, rho=0.8, epsilon=1e-4),
        lambda: optimizers.Adadelta(0.5, rho=0.8, epsilon=1e-4),
    ),
    "adamax": (lambda: K.Adamax(0.01), lambda: optimizers.Adamax(0.01)),
    "adamax_default": (lambda: K.Adamax(), lambda: optimizers.Adamax()),
    "adamax_betas": (
        lambda: K.Adamax(0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-3),
        lambda: optimizers.Adamax(0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-3),
    ),
    "nadam": (lambda: K.Nadam(0.01), lambda: optimizers.Nadam(0.01)),
    "nadam_default": (lambda: K.Nadam(), lambda: optimizers.Nadam()),
    "nadam_betas": (
        lambda: K.Nadam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-4),
        lambda: optimizers.Nadam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-4),
    ),
    "nadam_weight_decay_clip": (
        lambda: K.Nadam(0.01, weight_decay=0.1, clipnorm=0.5),
        lambda: optimizers.Nadam(0.01, weight_decay=0.1, clipnorm=0.5),
    ),
    "adagrad_schedule": (
        lambda: K.Adagrad(KS.InverseTimeDecay(0.1, 2, 0.5)),
        lambda: optimizers.Adagrad(schedules.InverseTimeDecay(0.1, 2, 0.5)),
    ),
    "adamax_polynomial": (
        lambda: K.Adamax(KS.PolynomialDecay(0.01, 10, 0.001, power=2.0)),
        lambda: optimizers.Adamax(schedules.PolynomialDecay(0.01, 10, 0.001, power=2.0)),
    ),
    "nadam_piecewise": (
        lambda: K.Nadam(KS.PiecewiseConstantDecay([4, 9], [0.01, 0.003, 0.001])),
        lambda: optimizers.Nadam(schedules.PiecewiseConstantDecay([4, 9], [0.01, 0.003, 0.001])),
    ),
    "sgd_warmup_from_zero": (
        lambda: K.SGD(KS.PolynomialDecay(0.0, 10, 0.1, power=1.0), momentum=0.9),
        lambda: optimizers.SGD(schedules.PolynomialDecay(0.0, 10, 0.1, power=1.0), momentum=0.9),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_trajectory_matches_keras_for_20_steps(name):
    keras_factory, rnncast_factory = CASES[name]
    init, grads = problem(seed=len(name))
    keras_opt, opt = keras_factory(), rnncast_factory()
    expected = run_keras(keras_opt, init, grads)
    actual = run_rnncast(opt, init, grads)
    assert worst_relative(expected, actual) < RTOL
    assert int(to_numpy(keras_opt.iterations)) == opt.iterations == STEPS
    moved = max(float(np.abs(a - b).max()) for a, b in zip(actual[-1], init, strict=True))
    assert moved > 1e-5  # the comparison is not vacuous (Adadelta at lr=0.001 is slow)


@pytest.mark.parametrize("name", ["adagrad", "adadelta", "adamax", "nadam"])
@pytest.mark.parametrize("scale", [1e-5, 1e3])
def test_small_and_large_gradients_match_keras(name, scale):
    keras_factory, rnncast_factory = CASES[name]
    init, grads = problem(seed=7, scale=scale)
    expected = run_keras(keras_factory(), init, grads)
    assert worst_relative(expected, run_rnncast(rnncast_factory(), init, grads)) < RTOL


def test_nadam_resumes_after_loading_state():
    """Nadam's momentum product is rebuilt from ``iterations`` after a reload."""
    init, grads = problem(seed=3)
    straight = run_rnncast(optimizers.Nadam(0.01), init, grads)

    first = optimizers.Nadam(0.01)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in init]
    first.build(params)
    for step_grads in grads[:8]:
        for param, grad in zip(params, step_grads, strict=True):
            param.grad = torch.tensor(grad)
        first.step()
    resumed = optimizers.Nadam(0.01)
    resumed.build(params)
    resumed.load_state_tensors(first.state_tensors(), first.iterations)
    for step_grads in grads[8:]:
        for param, grad in zip(params, step_grads, strict=True):
            param.grad = torch.tensor(grad)
        resumed.step()
    for want, got in zip(straight[-1], params, strict=True):
        np.testing.assert_array_equal(got.detach().numpy(), want)


def test_adagrad_accumulator_starts_at_initial_value():
    opt = optimizers.Adagrad(initial_accumulator_value=0.25)
    opt.build([torch.nn.Parameter(torch.zeros(2, 3))])
    np.testing.assert_array_equal(opt.slots["accumulator"][0].numpy(), np.full((2, 3), 0.25))


# -- names, defaults, config ------------------------------------------------------
NEW = ["adagrad", "adadelta", "adamax", "nadam"]


@pytest.mark.parametrize("name", NEW)
def test_get_by_name_has_keras_defaults(name):
    opt = optimizers.get(name)
    assert type(opt) is optimizers.OPTIMIZERS[name]
    keras_config = K.get(name).get_config()
    for key, value in opt.get_config().items():
        want = keras_config[key]
        if isinstance(value, float):
            assert want == pytest.approx(value, rel=1e-6), key
        else:
            assert want == value, key


CONFIGS: dict[str, Callable[[], optimizers.Optimizer]] = {
    "adagrad": lambda: optimizers.Adagrad(0.2, initial_accumulator_value=0.5, clipvalue=1.0),
    "adadelta": lambda: optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6, weight_decay=0.01),
    "adamax": lambda: optimizers.Adamax(beta_1=0.8, global_clipnorm=2.0),
    "nadam": lambda: optimizers.Nadam(schedules.InverseTimeDecay(0.01, 5, 0.5), beta_2=0.99),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_serialize_round_trip_and_keras_accepts_config(name):
    opt = CONFIGS[name]()
    spec = json.loads(json.dumps(optimizers.serialize(opt)))
    clone = optimizers.deserialize(spec)
    assert type(clone) is type(opt) and clone.get_config() == opt.get_config()
    init, grads = problem(seed=1)
    np.testing.assert_array_equal(
        run_rnncast(opt, init, grads[:5])[-1][0], run_rnncast(clone, init, grads[:5])[-1][0]
    )
    config = {k: v for k, v in spec["config"].items() if k != "learning_rate"}
    keras_config = getattr(K, spec["class_name"])(**config).get_config()
    for key, value in config.items():
        assert keras_config[key] == (pytest.approx(value) if isinstance(value, float) else value)


# -- Keras's base arguments ------------------------------------------------------------
@pytest.mark.parametrize("cls", [optimizers.Adam, optimizers.SGD, optimizers.Nadam])
def test_learning_rate_zero_is_accepted_like_keras(cls):
    opt = cls(learning_rate=0.0)
    assert float(to_numpy(getattr(K, cls.__name__)(learning_rate=0.0).learning_rate)) == 0.0
    init, grads = problem(seed=2)
    final = run_rnncast(opt, init, grads[:3])[-1]
    for before, after in zip(init, final, strict=True):
        np.testing.assert_array_equal(after, before)


def test_keras2_lr_is_refused_naming_learning_rate():
    with pytest.raises(ValueError):
        K.Adam(lr=0.1)  # Keras 3 refuses it too
    with pytest.raises(ConfigError, match=r"lr=.*learning_rate=0\.1"):
        optimizers.Adam(lr=0.1)


def test_keras2_decay_is_ignored_with_a_warning_like_keras():
    with pytest.warns(UserWarning, match="decay"):
        keras_opt = K.SGD(0.1, decay=0.5)
    with pytest.warns(UserWarning, match=r"decay=0\.5.*InverseTimeDecay"):
        opt = optimizers.SGD(0.1, decay=0.5)
    init, grads = problem(seed=4)
    assert worst_relative(run_keras(keras_opt, init, grads), run_rnncast(opt, init, grads)) < RTOL
    assert "decay" not in opt.get_config()


def test_decay_none_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.Adam(decay=None)


def test_inverse_time_decay_reproduces_keras2_decay():
    """The replacement the warning names: Keras 2's lr / (1 + decay * iterations)."""
    schedule = schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
    assert [schedule(t) for t in range(4)] == pytest.approx([0.1 / (1 + 0.5 * t) for t in range(4)])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"use_ema": True}, r"use_ema=True.*not supported"),
        ({"ema_momentum": 0.9}, r"ema_momentum=0\.9.*use_ema"),
        ({"ema_overwrite_frequency": 10}, r"ema_overwrite_frequency=10"),
        ({"loss_scale_factor": 128.0}, r"loss_scale_factor=128\.0.*float32"),
        ({"gradient_accumulation_steps": 4}, r"gradient_accumulation_steps=4.*batch_size"),
        ({"learning_rte": 0.1}, r"not recognized: learning_rte"),
        ({"learning_rate": -1e-3}, r"learning_rate.*>= 0"),
        ({"learning_rate": "fast"}, r"learning_rate.*'fast'"),
    ],
)
@pytest.mark.parametrize("cls", [optimizers.Adam, optimizers.Adagrad, optimizers.SGD])
def test_unsupported_keras_arguments_raise_config_error(cls, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        cls(**kwargs)


def test_keras_defaults_of_unsupported_arguments_are_accepted():
    opt = optimizers.Nadam(
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name="my_nadam",
    )
    assert opt.name == "my_nadam"


# -- schedules ------------------------------------------------------------------------------
SCHEDULES: dict[str, tuple[Callable, Callable]] = {
    "inverse_time": (
        lambda: KS.InverseTimeDecay(0.1, 10, 0.5),
        lambda: schedules.InverseTimeDecay(0.1, 10, 0.5),
    ),
    "inverse_time_staircase": (
        lambda: KS.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
        lambda: schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
    ),
    "polynomial": (
        lambda: KS.PolynomialDecay(0.1, 100),
        lambda: schedules.PolynomialDecay(0.1, 100),
    ),
    "polynomial_power": (
        lambda: KS.PolynomialDecay(0.1, 100, end_learning_rate=0.01, power=0.5),
        lambda: schedules.PolynomialDecay(0.1, 100, end_learning_rate=0.01, power=0.5),
    ),
    "polynomial_cycle": (
        lambda: KS.PolynomialDecay(0.1, 50, end_learning_rate=0.001, power=2.0, cycle=True),
        lambda: schedules.PolynomialDecay(0.1, 50, end_learning_rate=0.001, power=2.0, cycle=True),
    ),
    "polynomial_warmup": (
        lambda: KS.PolynomialDecay(0.0, 10, end_learning_rate=0.01),
        lambda: schedules.PolynomialDecay(0.0, 10, end_learning_rate=0.01),
    ),
    "piecewise": (
        lambda: KS.PiecewiseConstantDecay([10, 100], [0.1, 0.01, 0.001]),
        lambda: schedules.PiecewiseConstantDecay([10, 100], [0.1, 0.01, 0.001]),
    ),
    "piecewise_one_boundary": (
        lambda: KS.PiecewiseConstantDecay([50], [1e-3, 1e-4]),
        lambda: schedules.PiecewiseConstantDecay([50], [1e-3, 1e-4]),
    ),
}
SCHEDULE_STEPS = [0, 1, 2, 5, 9, 10, 11, 49, 50, 51, 99, 100, 101, 149, 150, 151, 1000, 5000]


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_values_match_keras(name):
    keras_factory, rnncast_factory = SCHEDULES[name]
    keras_schedule, schedule = keras_factory(), rnncast_factory()
    expected = [float(to_numpy(keras_schedule(step))) for step in SCHEDULE_STEPS]
    actual = [schedule(step) for step in SCHEDULE_STEPS]
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_config_round_trip_and_keras_names(name):
    schedule = SCHEDULES[name][1]()
    config = json.loads(json.dumps(schedule.get_config()))
    clone = schedules.deserialize_schedule(config)
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert [clone(s) for s in SCHEDULE_STEPS] == [schedule(s) for s in SCHEDULE_STEPS]
    keras_schedule = getattr(KS, config["class_name"])(**config["config"])
    assert float(to_numpy(keras_schedule(7))) == pytest.approx(schedule(7), rel=1e-6)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: schedules.PolynomialDecay(0.1, 0), "decay_steps"),
        (lambda: schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01]), "one more value"),
        (lambda: schedules.PiecewiseConstantDecay([20, 10], [0.1, 0.01, 0.001]), "increasing"),
    ],
)
def test_invalid_schedules_raise_config_error(factory, match):
    with pytest.raises(ConfigError, match=match):
        factory()
