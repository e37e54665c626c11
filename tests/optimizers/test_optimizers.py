"""Optimizers, schedules, losses and metrics: Keras 3 (torch backend) is the oracle.

Every update rule is checked step by step: Keras's optimizer and rnncast's get
the same initial float32 variables and the same sequence of random gradients,
and the variables must agree after every step.

Note: Keras computes Adam's bias correction ``sqrt(1 - beta_2**t) / (1 - beta_1**t)``
in float32, where ``1 - 0.999`` already carries a relative error of about 1e-5;
rnncast does the same, and ``test_adam_bias_correction_in_float32_like_keras``
checks it at a large learning rate where a float64 computation would differ.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnncast import losses, metrics, optimizers
from rnncast.exceptions import ConfigError
from rnncast.optimizers import schedules

keras = pytest.importorskip("keras")
K = keras.optimizers
KS = keras.optimizers.schedules
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SHAPES = [(3, 4), (5,), (2, 3, 2)]
ATOL = 1e-6  # float32 variables of magnitude ~1


def to_numpy(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def same_setting(keras_value, value) -> bool:
    """Equal config values; floats up to Keras's float32 storage of the learning rate."""
    if isinstance(value, float) and isinstance(keras_value, float):
        return keras_value == pytest.approx(value, rel=1e-6)
    return keras_value == value


def gradient_sequence(steps: int, seed: int, scale: float = 1.0) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [
        [(scale * rng.normal(size=shape)).astype("float32") for shape in SHAPES]
        for _ in range(steps)
    ]


def initial_values(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + 1000)
    return [rng.uniform(-1, 1, shape).astype("float32") for shape in SHAPES]


def run_rnncast(
    opt: optimizers.Optimizer, init: list[np.ndarray], grads: list[list[np.ndarray]]
) -> list[list[np.ndarray]]:
    """The variables after every step of ``opt`` (built on fresh parameters)."""
    params = [torch.nn.Parameter(torch.tensor(w)) for w in init]
    opt.build(params)
    trajectory = []
    for step_grads in grads:
        for param, grad in zip(params, step_grads, strict=True):
            param.grad = torch.tensor(grad)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


def run_keras(opt, init: list[np.ndarray], grads: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    variables = [keras.Variable(w) for w in init]
    trajectory = []
    for step_grads in grads:
        opt.apply_gradients(
            zip([keras.ops.convert_to_tensor(g) for g in step_grads], variables, strict=True)
        )
        trajectory.append([to_numpy(v).copy() for v in variables])
    return trajectory


def assert_same_trajectory(
    expected: list[list[np.ndarray]], actual: list[list[np.ndarray]], atol: float = ATOL
) -> float:
    """Compare after every step; returns the largest absolute difference seen."""
    worst = 0.0
    for step, (want, got) in enumerate(zip(expected, actual, strict=True)):
        for index, (w, g) in enumerate(zip(want, got, strict=True)):
            worst = max(worst, float(np.abs(w - g).max()))
            np.testing.assert_allclose(
                g, w, rtol=0, atol=atol, err_msg=f"step {step + 1}, variable {index}"
            )
    return worst


def compare(
    keras_opt,
    rnncast_opt: optimizers.Optimizer,
    *,
    steps: int = 10,
    seed: int = 0,
    scale: float = 1.0,
) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Run both on the same gradients and assert they agree at every step."""
    init, grads = initial_values(seed), gradient_sequence(steps, seed, scale)
    expected = run_keras(keras_opt, init, grads)
    actual = run_rnncast(rnncast_opt, init, grads)
    assert_same_trajectory(expected, actual)
    assert int(to_numpy(keras_opt.iterations)) == rnncast_opt.iterations == steps
    return init, actual


# (keras factory, rnncast factory); each case is built fresh for every test
CASES: dict[str, tuple[Callable, Callable]] = {
    "adam": (lambda: K.Adam(), lambda: optimizers.Adam()),
    "adam_amsgrad": (lambda: K.Adam(amsgrad=True), lambda: optimizers.Adam(amsgrad=True)),
    "adam_weight_decay": (
        lambda: K.Adam(weight_decay=0.01),
        lambda: optimizers.Adam(weight_decay=0.01),
    ),
    "adam_betas_epsilon": (
        lambda: K.Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-3),
        lambda: optimizers.Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-3),
    ),
    "adamw": (lambda: K.AdamW(), lambda: optimizers.AdamW()),
    "adamw_strong_decay": (
        lambda: K.AdamW(weight_decay=0.5),
        lambda: optimizers.AdamW(weight_decay=0.5),
    ),
    "sgd": (lambda: K.SGD(0.1), lambda: optimizers.SGD(0.1)),
    "sgd_default": (lambda: K.SGD(), lambda: optimizers.SGD()),
    "sgd_momentum": (lambda: K.SGD(0.1, momentum=0.9), lambda: optimizers.SGD(0.1, momentum=0.9)),
    "sgd_nesterov": (
        lambda: K.SGD(0.1, momentum=0.9, nesterov=True),
        lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    ),
    "sgd_weight_decay": (
        lambda: K.SGD(0.1, momentum=0.5, weight_decay=0.05),
        lambda: optimizers.SGD(0.1, momentum=0.5, weight_decay=0.05),
    ),
    "rmsprop": (lambda: K.RMSprop(0.01), lambda: optimizers.RMSprop(0.01)),
    "rmsprop_default": (lambda: K.RMSprop(), lambda: optimizers.RMSprop()),
    "rmsprop_momentum": (
        lambda: K.RMSprop(0.01, momentum=0.5),
        lambda: optimizers.RMSprop(0.01, momentum=0.5),
    ),
    "rmsprop_centered": (
        lambda: K.RMSprop(0.01, centered=True),
        lambda: optimizers.RMSprop(0.01, centered=True),
    ),
    "rmsprop_centered_momentum": (
        lambda: K.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
        lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
    ),
}

CLIP_CASES: dict[str, tuple[Callable, Callable]] = {
    "sgd_clipnorm": (lambda: K.SGD(0.1, clipnorm=0.5), lambda: optimizers.SGD(0.1, clipnorm=0.5)),
    "sgd_clipnorm_some_tensors": (
        lambda: K.SGD(0.1, clipnorm=3.0),
        lambda: optimizers.SGD(0.1, clipnorm=3.0),
    ),
    "sgd_clipvalue": (
        lambda: K.SGD(0.1, clipvalue=0.3),
        lambda: optimizers.SGD(0.1, clipvalue=0.3),
    ),
    "sgd_global_clipnorm": (
        lambda: K.SGD(0.1, global_clipnorm=0.7),
        lambda: optimizers.SGD(0.1, global_clipnorm=0.7),
    ),
    "sgd_momentum_clipnorm_decay": (
        lambda: K.SGD(0.1, momentum=0.9, clipnorm=0.5, weight_decay=0.05),
        lambda: optimizers.SGD(0.1, momentum=0.9, clipnorm=0.5, weight_decay=0.05),
    ),
    "adam_clipnorm": (lambda: K.Adam(clipnorm=0.5), lambda: optimizers.Adam(clipnorm=0.5)),
    "adam_clipvalue": (lambda: K.Adam(clipvalue=0.2), lambda: optimizers.Adam(clipvalue=0.2)),
    "adamw_global_clipnorm": (
        lambda: K.AdamW(global_clipnorm=1.0),
        lambda: optimizers.AdamW(global_clipnorm=1.0),
    ),
    "rmsprop_clipvalue": (
        lambda: K.RMSprop(0.01, clipvalue=0.3),
        lambda: optimizers.RMSprop(0.01, clipvalue=0.3),
    ),
    "rmsprop_global_clipnorm": (
        lambda: K.RMSprop(0.01, momentum=0.5, global_clipnorm=0.7),
        lambda: optimizers.RMSprop(0.01, momentum=0.5, global_clipnorm=0.7),
    ),
}

SCHEDULE_CASES: dict[str, tuple[Callable, Callable]] = {
    "sgd_exponential": (
        lambda: K.SGD(KS.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)),
        lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)),
    ),
    "sgd_exponential_staircase": (
        lambda: K.SGD(KS.ExponentialDecay(0.1, 3, 0.5, staircase=True), momentum=0.9),
        lambda: optimizers.SGD(
            schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True), momentum=0.9
        ),
    ),
    "sgd_exponential_weight_decay": (
        lambda: K.SGD(KS.ExponentialDecay(0.1, 3, 0.5), weight_decay=0.2),
        lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, 3, 0.5), weight_decay=0.2),
    ),
    "sgd_cosine": (
        lambda: K.SGD(KS.CosineDecay(0.1, decay_steps=6, alpha=0.1)),
        lambda: optimizers.SGD(schedules.CosineDecay(0.1, decay_steps=6, alpha=0.1)),
    ),
    "sgd_cosine_warmup": (
        lambda: K.SGD(KS.CosineDecay(0.01, 5, warmup_target=0.1, warmup_steps=3)),
        lambda: optimizers.SGD(schedules.CosineDecay(0.01, 5, warmup_target=0.1, warmup_steps=3)),
    ),
    "adam_exponential": (
        lambda: K.Adam(KS.ExponentialDecay(1e-3, 4, 0.3)),
        lambda: optimizers.Adam(schedules.ExponentialDecay(1e-3, 4, 0.3)),
    ),
    "adam_cosine": (
        lambda: K.Adam(KS.CosineDecay(1e-3, 6, alpha=0.1)),
        lambda: optimizers.Adam(schedules.CosineDecay(1e-3, 6, alpha=0.1)),
    ),
    "rmsprop_cosine_warmup": (
        lambda: K.RMSprop(KS.CosineDecay(0.0, 6, warmup_target=0.01, warmup_steps=4), momentum=0.5),
        lambda: optimizers.RMSprop(
            schedules.CosineDecay(0.0, 6, warmup_target=0.01, warmup_steps=4), momentum=0.5
        ),
    ),
}


# -- update rules --------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_update_rule_matches_keras_every_step(name):
    keras_factory, rnncast_factory = CASES[name]
    init, trajectory = compare(keras_factory(), rnncast_factory())
    moved = max(float(np.abs(a - b).max()) for a, b in zip(trajectory[-1], init, strict=True))
    assert moved > 100 * ATOL  # the comparison is not vacuous


@pytest.mark.parametrize("name", list(CLIP_CASES))
def test_gradient_clipping_matches_keras(name):
    keras_factory, rnncast_factory = CLIP_CASES[name]
    compare(keras_factory(), rnncast_factory())


@pytest.mark.parametrize("name", list(SCHEDULE_CASES))
def test_learning_rate_schedule_in_optimizer_matches_keras(name):
    keras_factory, rnncast_factory = SCHEDULE_CASES[name]
    compare(keras_factory(), rnncast_factory(), steps=12)


@pytest.mark.parametrize("name", ["adam", "sgd_momentum", "rmsprop_centered"])
def test_small_and_large_gradients_match_keras(name):
    keras_factory, rnncast_factory = CASES[name]
    for scale in (1e-6, 1e3):
        compare(keras_factory(), rnncast_factory(), seed=3, scale=scale)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_bias_correction_in_float32_like_keras(amsgrad):
    """At a large learning rate the float32 bias correction of Keras becomes visible."""
    compare(
        K.Adam(learning_rate=0.1, amsgrad=amsgrad),
        optimizers.Adam(learning_rate=0.1, amsgrad=amsgrad),
    )


@pytest.mark.parametrize("name", ["sgd_clipnorm", "sgd_clipvalue", "sgd_global_clipnorm"])
def test_clipping_is_active_in_these_cases(name):
    """Without the clip the trajectory differs: the clip cases really exercise clipping."""
    init, grads = initial_values(0), gradient_sequence(10, 0)
    clipped = run_keras(CLIP_CASES[name][0](), init, grads)
    plain = run_rnncast(optimizers.SGD(0.1), init, grads)
    assert (
        max(float(np.abs(a - b).max()) for a, b in zip(clipped[-1], plain[-1], strict=True)) > 0.1
    )


def test_weight_decay_is_applied():
    """AdamW's decay moves the variables far more than the comparison tolerance."""
    init, grads = initial_values(0), gradient_sequence(10, 0)
    decayed = run_keras(K.AdamW(weight_decay=0.5), init, grads)
    plain = run_rnncast(optimizers.Adam(), init, grads)
    assert (
        max(float(np.abs(a - b).max()) for a, b in zip(decayed[-1], plain[-1], strict=True)) > 1e-3
    )


def test_torch_adam_is_not_keras_adam():
    """Why rnncast writes Adam out: torch adds eps to the *corrected* sqrt(v_hat).

    Keras adds ``epsilon`` to the uncorrected ``sqrt(v)`` (its effective epsilon
    is ``eps / sqrt(1 - beta_2**t)``, about 30x larger on the first step), so
    ``torch.optim.Adam(eps=1e-7)`` takes visibly different steps wherever the
    gradients are not much larger than epsilon.
    """
    init, grads = initial_values(5), gradient_sequence(10, 5, scale=1e-6)
    expected = run_keras(K.Adam(learning_rate=1e-3), init, grads)

    params = [torch.nn.Parameter(torch.tensor(w)) for w in init]
    torch_adam = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    worst = 0.0
    for step_grads, want in zip(grads, expected, strict=True):
        for param, grad in zip(params, step_grads, strict=True):
            param.grad = torch.tensor(grad)
        torch_adam.step()
        worst = max(
            worst,
            *(
                float(np.abs(p.detach().numpy() - w).max())
                for p, w in zip(params, want, strict=True)
            ),
        )
    assert worst > 1e-7
    assert worst > 1e-4  # in fact a gross difference here: about 4e-3

    # ... while rnncast's Adam follows Keras on exactly the same gradients
    assert_same_trajectory(expected, run_rnncast(optimizers.Adam(learning_rate=1e-3), init, grads))


# -- schedules -----------------------------------------------------------------
SCHEDULES: dict[str, tuple[Callable, Callable]] = {
    "exponential": (
        lambda: KS.ExponentialDecay(0.01, 100, 0.5),
        lambda: schedules.ExponentialDecay(0.01, 100, 0.5),
    ),
    "exponential_staircase": (
        lambda: KS.ExponentialDecay(0.01, 100, 0.5, staircase=True),
        lambda: schedules.ExponentialDecay(0.01, 100, 0.5, staircase=True),
    ),
    "exponential_slow": (
        lambda: KS.ExponentialDecay(0.1, 7, 0.96),
        lambda: schedules.ExponentialDecay(0.1, 7, 0.96),
    ),
    "cosine": (lambda: KS.CosineDecay(0.01, 1000), lambda: schedules.CosineDecay(0.01, 1000)),
    "cosine_alpha": (
        lambda: KS.CosineDecay(0.01, 100, alpha=0.2),
        lambda: schedules.CosineDecay(0.01, 100, alpha=0.2),
    ),
    "cosine_warmup_from_zero": (
        lambda: KS.CosineDecay(0.0, 100, warmup_target=0.01, warmup_steps=50),
        lambda: schedules.CosineDecay(0.0, 100, warmup_target=0.01, warmup_steps=50),
    ),
    "cosine_warmup_alpha": (
        lambda: KS.CosineDecay(0.001, 100, alpha=0.1, warmup_target=0.01, warmup_steps=10),
        lambda: schedules.CosineDecay(0.001, 100, alpha=0.1, warmup_target=0.01, warmup_steps=10),
    ),
}
STEPS = [0, 1, 2, 5, 9, 10, 11, 49, 50, 51, 99, 100, 101, 109, 110, 111, 500, 999, 1000, 5000]


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_values_match_keras(name):
    keras_factory, rnncast_factory = SCHEDULES[name]
    keras_schedule, schedule = keras_factory(), rnncast_factory()
    expected = [float(to_numpy(keras_schedule(step))) for step in STEPS]
    actual = [schedule(step) for step in STEPS]
    # Keras evaluates in float32: decay_rate ** 70 there is off by ~70 float32 ulps (4e-6),
    # and 1 + cos(pi * 0.999) cancels (absolute error ~6e-11 on a rate of 2.5e-8)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_config_round_trip(name):
    schedule = SCHEDULES[name][1]()
    config = json.loads(json.dumps(schedule.get_config()))
    clone = schedules.deserialize_schedule(config)
    assert type(clone) is type(schedule)
    assert clone.get_config() == schedule.get_config()
    assert [clone(step) for step in STEPS] == [schedule(step) for step in STEPS]
    # the inner config uses Keras's argument names
    keras_schedule = getattr(KS, config["class_name"])(**config["config"])
    assert float(to_numpy(keras_schedule(7))) == pytest.approx(schedule(7), rel=1e-6)


def test_unknown_schedule_lists_valid_ones():
    with pytest.raises(ConfigError, match="ExponentialDecay, CosineDecay, InverseTimeDecay"):
        schedules.deserialize_schedule({"class_name": "CosineDecayRestarts", "config": {}})


def test_optimizer_learning_rate_follows_schedule_by_iterations():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    opt = optimizers.SGD(schedule)
    param = torch.nn.Parameter(torch.zeros(1))
    opt.build([param])
    for step in range(5):
        assert opt.learning_rate == pytest.approx(schedule(step))
        param.grad = torch.ones(1)
        opt.step()


# -- config, get, serialize ------------------------------------------------------
CONFIG_CASES: dict[str, Callable[[], optimizers.Optimizer]] = {
    "adam": lambda: optimizers.Adam(learning_rate=0.01, beta_1=0.8, amsgrad=True, clipnorm=1.0),
    "adamw": lambda: optimizers.AdamW(weight_decay=0.01, global_clipnorm=2.0),
    "sgd": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipvalue=0.5),
    "rmsprop": lambda: optimizers.RMSprop(rho=0.8, momentum=0.5, centered=True, epsilon=1e-6),
    "adam_schedule": lambda: optimizers.Adam(
        schedules.ExponentialDecay(0.01, 10, 0.9), weight_decay=0.001
    ),
    "sgd_schedule": lambda: optimizers.SGD(
        schedules.CosineDecay(0.1, 20, alpha=0.1, warmup_target=0.2, warmup_steps=3)
    ),
}


@pytest.mark.parametrize("name", list(CONFIG_CASES))
def test_serialize_deserialize_round_trip(name):
    opt = CONFIG_CASES[name]()
    spec = json.loads(json.dumps(optimizers.serialize(opt)))  # JSON-safe, as saved
    assert spec["class_name"] == type(opt).__name__
    clone = optimizers.deserialize(spec)
    assert type(clone) is type(opt)
    assert clone.get_config() == opt.get_config()
    # and the clone takes exactly the same steps
    init, grads = initial_values(2), gradient_sequence(6, 2)
    assert_same_trajectory(run_rnncast(opt, init, grads), run_rnncast(clone, init, grads), atol=0)


@pytest.mark.parametrize("name", list(CONFIG_CASES))
def test_config_uses_keras_argument_names(name):
    """Every key of rnncast's config is a Keras constructor argument with the same value."""
    opt = CONFIG_CASES[name]()
    config = opt.get_config()
    keras_class = getattr(K, type(opt).__name__)
    keras_config = keras_class(
        **{k: v for k, v in config.items() if k != "learning_rate"}
    ).get_config()
    for key, value in config.items():
        if key == "learning_rate":
            continue
        assert key in keras_config
        assert same_setting(keras_config[key], value), key


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd", "rmsprop"])
def test_get_by_name_has_keras_defaults(name):
    opt = optimizers.get(name)
    assert type(opt) is optimizers.OPTIMIZERS[name]
    keras_config = K.get(name).get_config()
    for key, value in opt.get_config().items():
        assert same_setting(keras_config[key], value), key


def test_get_is_case_insensitive_and_passes_instances_through():
    assert type(optimizers.get("Adam")) is optimizers.Adam
    assert type(optimizers.get("RMSprop")) is optimizers.RMSprop
    assert type(optimizers.get("ADAMW")) is optimizers.AdamW
    opt = optimizers.SGD(0.3)
    assert optimizers.get(opt) is opt


def test_unknown_optimizer_name_lists_valid_ones():
    with pytest.raises(
        ConfigError,
        match=r"unknown optimizer 'lion'.*adam, adamw, sgd, "
        r"rmsprop, adagrad, adadelta, adamax, nadam",
    ):
        optimizers.get("lion")


def test_deserialize_unknown_class_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"'Lion'.*Adam, AdamW, SGD, RMSprop, Adagrad"):
        optimizers.deserialize({"class_name": "Lion", "config": {}})


def test_learning_rate_setter_for_float_rate():
    opt = optimizers.SGD(0.1)
    param = torch.nn.Parameter(torch.zeros(2))
    opt.build([param])
    opt.learning_rate = 0.5  # what ReduceLROnPlateau does
    assert opt.learning_rate == 0.5
    assert opt.get_config()["learning_rate"] == 0.5
    param.grad = torch.tensor([1.0, -2.0])
    opt.step()
    np.testing.assert_allclose(param.detach().numpy(), [-0.5, 1.0])


def test_learning_rate_setter_refuses_schedule():
    opt = optimizers.Adam(schedules.ExponentialDecay(0.01, 10, 0.5))
    with pytest.raises(ConfigError, match="schedule"):
        opt.learning_rate = 0.001
    assert isinstance(opt._learning_rate, schedules.ExponentialDecay)  # unchanged
    assert opt.learning_rate == pytest.approx(0.01)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"learning_rate": -1e-3},
        {"clipnorm": 1.0, "global_clipnorm": 1.0},
        {"clipnorm": -1.0},
        {"clipvalue": -0.5},
        {"weight_decay": -0.1},
    ],
)
def test_invalid_arguments_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        optimizers.Adam(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"learning_rate": -1e-3}, r"learning_rate must be a number >= 0 .*-0\.001"),
        ({"learning_rate": "fast"}, r"learning_rate must be a number >= 0 .*'fast'"),
        ({"clipnorm": 1.0, "global_clipnorm": 1.0}, "use clipnorm or global_clipnorm, not both"),
        ({"clipvalue": -0.5}, r"clipvalue must be >= 0, got -0\.5"),
        ({"weight_decay": -0.1}, r"weight_decay must be >= 0, got -0\.1"),
    ],
)
def test_invalid_argument_messages_name_the_argument(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        optimizers.Adam(**kwargs)


def test_adagrad_negative_initial_accumulator_message():
    with pytest.raises(ConfigError, match=r"initial_accumulator_value must be >= 0, got -1"):
        optimizers.Adagrad(initial_accumulator_value=-1)


def test_load_state_with_wrong_shape_names_the_slot():
    opt = optimizers.Adam()
    opt.build([torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(ConfigError, match=r"optimizer state 'm/0' is missing or has the wrong"):
        opt.load_state_tensors({"m/0": torch.zeros(3), "v/0": torch.zeros(2)}, iterations=1)


def test_sgd_momentum_out_of_range():
    with pytest.raises(ConfigError, match="momentum"):
        optimizers.SGD(momentum=1.0)


def test_parameter_without_gradient_is_left_alone():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))
    opt = optimizers.Adam(0.1)
    opt.build([a, b])
    a.grad = torch.ones(2)
    opt.step()
    assert opt.iterations == 1
    assert torch.equal(b.detach(), torch.ones(3))
    assert not torch.equal(a.detach(), torch.ones(2))


# -- losses --------------------------------------------------------------------
def loss_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=(17, 3)).astype("float32")
    y_pred = (y_true + rng.normal(scale=1.5, size=y_true.shape)).astype("float32")
    return y_true, y_pred  # errors both below and above Huber's delta


def numpy_huber(error: np.ndarray, delta: float) -> float:
    small = np.abs(error) <= delta
    return float(np.where(small, 0.5 * error**2, delta * (np.abs(error) - 0.5 * delta)).mean())


@pytest.mark.parametrize(
    ("name", "keras_loss", "reference"),
    [
        ("mse", lambda: keras.losses.MeanSquaredError(), lambda e: float((e**2).mean())),
        (
            "mean_squared_error",
            lambda: keras.losses.MeanSquaredError(),
            lambda e: float((e**2).mean()),
        ),
        ("mae", lambda: keras.losses.MeanAbsoluteError(), lambda e: float(np.abs(e).mean())),
        (
            "mean_absolute_error",
            lambda: keras.losses.MeanAbsoluteError(),
            lambda e: float(np.abs(e).mean()),
        ),
        ("huber", lambda: keras.losses.Huber(), lambda e: numpy_huber(e, 1.0)),
    ],
)
def test_losses_match_numpy_and_keras(name, keras_loss, reference):
    y_true, y_pred = loss_data()
    error = y_pred.astype("float64") - y_true.astype("float64")
    value = float(losses.get(name)(torch.tensor(y_true), torch.tensor(y_pred)))
    assert value == pytest.approx(reference(error), rel=1e-6)
    assert value == pytest.approx(float(to_numpy(keras_loss()(y_true, y_pred))), rel=1e-6)


@pytest.mark.parametrize("delta", [0.5, 2.0])
def test_huber_delta_matches_keras(delta):
    y_true, y_pred = loss_data(1)
    value = float(losses.huber(torch.tensor(y_true), torch.tensor(y_pred), delta=delta))
    error = y_pred.astype("float64") - y_true.astype("float64")
    assert value == pytest.approx(numpy_huber(error, delta), rel=1e-6)
    expected = float(to_numpy(keras.losses.Huber(delta=delta)(y_true, y_pred)))
    assert value == pytest.approx(expected, rel=1e-6)


def test_loss_hand_computed_example():
    y_true = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    y_pred = torch.tensor([[1.5], [2.0], [0.0], [4.0]])  # errors 0.5, 0, -3, 0
    assert float(losses.get("mse")(y_true, y_pred)) == pytest.approx((0.25 + 9) / 4)
    assert float(losses.get("mae")(y_true, y_pred)) == pytest.approx(3.5 / 4)
    assert float(losses.get("huber")(y_true, y_pred)) == pytest.approx((0.125 + 2.5) / 4)


def test_loss_get_callable_and_unknown():
    def custom(y_true, y_pred):
        return (y_pred - y_true).abs().max()

    assert losses.get(custom) is custom
    assert losses.name_of(custom) == "custom"
    assert losses.name_of("mse") == "mse"
    with pytest.raises(ConfigError, match=r"unknown loss 'msle'.*mse, mean_squared_error, mae"):
        losses.get("msle")


# -- metrics -------------------------------------------------------------------
BATCH_SIZES = [32, 32, 7, 1, 20]
KERAS_METRICS = {
    "mae": lambda: keras.metrics.MeanAbsoluteError(),
    "mean_absolute_error": lambda: keras.metrics.MeanAbsoluteError(),
    "mse": lambda: keras.metrics.MeanSquaredError(),
    "mean_squared_error": lambda: keras.metrics.MeanSquaredError(),
    "rmse": lambda: keras.metrics.RootMeanSquaredError(),
    "root_mean_squared_error": lambda: keras.metrics.RootMeanSquaredError(),
    "mape": lambda: keras.metrics.MeanAbsolutePercentageError(),
    "mean_absolute_percentage_error": lambda: keras.metrics.MeanAbsolutePercentageError(),
}
NUMPY_METRICS = {
    "mae": lambda t, p: np.abs(p - t).mean(),
    "mse": lambda t, p: ((p - t) ** 2).mean(),
    "rmse": lambda t, p: math.sqrt(((p - t) ** 2).mean()),
    "mape": lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), 1e-7)).mean(),
}
LONG_NAMES = {
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
    "root_mean_squared_error": "rmse",
    "mean_absolute_percentage_error": "mape",
}


def metric_batches(outputs: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    batches = []
    for size in BATCH_SIZES:
        y_true = rng.uniform(50, 150, (size, outputs)).astype("float32")  # price-like levels
        y_pred = (y_true + rng.normal(scale=5 + 10 * len(batches), size=y_true.shape)).astype(
            "float32"
        )  # batches of different quality
        batches.append((y_true, y_pred))
    return batches


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("name", list(KERAS_METRICS))
def test_metric_over_uneven_batches_matches_keras_and_numpy(name, outputs):
    batches = metric_batches(outputs)
    metric, keras_metric = metrics.get(name), KERAS_METRICS[name]()
    assert metric.name == name
    for y_true, y_pred in batches:
        metric.update(torch.tensor(y_true), torch.tensor(y_pred))
        keras_metric.update_state(y_true, y_pred)
    y_true = np.concatenate([t for t, _ in batches]).astype("float64")
    y_pred = np.concatenate([p for _, p in batches]).astype("float64")
    expected = NUMPY_METRICS[LONG_NAMES.get(name, name)](y_true, y_pred)
    assert metric.result() == pytest.approx(expected, rel=1e-6)
    assert metric.result() == pytest.approx(float(to_numpy(keras_metric.result())), rel=1e-6)


def test_rmse_is_root_of_epoch_mse_not_mean_of_batch_rmses():
    batches = metric_batches(1)
    metric = metrics.get("rmse")
    for y_true, y_pred in batches:
        metric.update(torch.tensor(y_true), torch.tensor(y_pred))
    errors = np.concatenate([(p - t).astype("float64") for t, p in batches])
    mean_of_batch_rmses = np.mean(
        [math.sqrt(((p - t).astype("float64") ** 2).mean()) for t, p in batches]
    )
    assert metric.result() == pytest.approx(math.sqrt((errors**2).mean()), rel=1e-6)
    assert abs(metric.result() - mean_of_batch_rmses) > 1.0  # the distinction matters here


def test_mape_clamps_zero_targets_like_keras():
    y_true = np.array([[0.0], [2.0], [-4.0], [1e-9]], dtype="float32")
    y_pred = np.array([[1e-6], [1.0], [-5.0], [0.0]], dtype="float32")
    metric = metrics.get("mape")
    metric.update(torch.tensor(y_true), torch.tensor(y_pred))
    keras_metric = keras.metrics.MeanAbsolutePercentageError()
    keras_metric.update_state(y_true, y_pred)
    expected = 100 * np.mean([1e-6 / 1e-7, 0.5, 0.25, 1e-9 / 1e-7])
    assert metric.result() == pytest.approx(expected, rel=1e-5)
    assert metric.result() == pytest.approx(float(to_numpy(keras_metric.result())), rel=1e-5)


def test_metric_hand_computed_and_reset():
    metric = metrics.get("mae")
    assert math.isnan(metric.result())
    metric.update(torch.tensor([[0.0], [0.0]]), torch.tensor([[1.0], [3.0]]))
    metric.update(torch.tensor([[0.0]]), torch.tensor([[-5.0]]))
    assert metric.result() == pytest.approx(3.0)  # (1 + 3 + 5) / 3, not (2 + 5) / 2
    metric.reset()
    assert math.isnan(metric.result())
    metric.update(torch.tensor([[1.0]]), torch.tensor([[1.5]]))
    assert metric.result() == pytest.approx(0.5)


def test_metric_update_ignores_autograd():
    y_pred = torch.tensor([[1.0], [2.0]], requires_grad=True)
    metric = metrics.get("mse")
    metric.update(torch.zeros(2, 1), y_pred * 2)
    assert metric.result() == pytest.approx((4 + 16) / 2)


def test_unknown_metric_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown metric 'r2'.*mae, mean_absolute_error, mse"):
        metrics.get("r2")
