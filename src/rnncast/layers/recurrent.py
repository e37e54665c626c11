"""SimpleRNN, LSTM and GRU with Keras's arguments, defaults and parameter counts, fused in torch.

Weights live in a ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` module so the default
configuration runs on PyTorch's fused CPU kernels (no Python loop over
timesteps). Keras has one bias vector per SimpleRNN or LSTM gate set where torch has two
(``bias_ih`` and ``bias_hh``): the second is re-registered as a constant zero
buffer, which keeps the fused kernel, is never trained, and makes parameter
counts equal Keras's. Non-default activations and ``recurrent_dropout > 0``
fall back to an exact but slower loop over timesteps on the same weights.

Keras's ``unroll`` and ``use_cudnn`` are accepted and change nothing: the
fused kernels (cuDNN on a GPU) run whenever the configuration allows them,
and the loop is always exact. ``stateful=True`` carries the final state
``h`` (and ``c`` for an LSTM) over to the next batch, through the fused
kernels too, until :meth:`Recurrent.reset_states`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from rnncast._internal.checks import positive_int
from rnncast.exceptions import ConfigError, ShapeError
from rnncast.layers import activations, initializers
from rnncast.layers.base import Layer, Shape, assign, to_numpy


class Recurrent(Layer):
    """Shared machinery of :class:`LSTM`, :class:`GRU` and :class:`SimpleRNN` (not used directly).

    Keras arguments shared by all three (see :class:`LSTM` for the others):

    Args:
        seed: Seed of this layer's own dropout-mask stream (as in Keras);
            ``None`` draws the masks from torch's global generator, which
            ``fit`` seeds from the model's seed.
        return_state: Also return the final state: ``layer(x)`` gives
            ``[output, h, c]`` for an LSTM and ``[output, h]`` for a GRU or
            SimpleRNN, as in Keras. Not allowed inside a ``Sequential``.
        stateful: Start each batch from the previous batch's final state
            (detached from the graph) instead of zeros, until
            :meth:`reset_states`. Needs a fixed batch size, as in Keras:
            ``Input(batch_shape=(32, 60, 1))``, ``Input(shape=(60, 1),
            batch_size=32)`` or ``batch_size=32`` / ``batch_input_shape=(32,
            60, 1)`` on the first layer; without one, the first batch fixes it.
            A batch of another size raises ``ShapeError``.
        unroll: Accepted for Keras compatibility; no effect (the fused
            kernels and the exact loop give the same numbers).
        use_cudnn: ``"auto"``, ``True`` or ``False``; accepted, no effect:
            torch picks cuDNN itself for the fused kernels on a GPU.
        batch_size: The fixed batch size of a stateful first layer (Keras 2's
            ``batch_input_shape=(32, 60, 1)`` also works).
    """

    input_rank = 2
    gates: ClassVar[int] = 4
    state_count: ClassVar[int] = 1
    module_class: ClassVar[type[nn.RNNBase]] = nn.LSTM

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        recurrent_initializer: str = "orthogonal",
        bias_initializer: str = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        go_backwards: bool = False,
        input_shape: Shape | None = None,
        name: str | None = None,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        seed: int | None = None,
        return_state: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        use_cudnn: str | bool = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            input_shape=input_shape,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self._set_weight_options(
            kernel=(kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_regularizer, recurrent_constraint),
            bias=(bias_regularizer, bias_constraint),
        )
        self.units = positive_int(units, "units")
        self.activation = activations.check(activation)
        self.recurrent_activation = activations.check(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.check(kernel_initializer)
        self.recurrent_initializer = initializers.check(recurrent_initializer)
        self.bias_initializer = initializers.check(bias_initializer)
        self.dropout = _rate(dropout, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout")
        self.return_sequences = bool(return_sequences)
        self.go_backwards = bool(go_backwards)
        self._act = activations.get(activation)
        self._recurrent_act = activations.get(recurrent_activation)
        self.return_state, self.stateful, self.unroll = (
            bool(return_state),
            bool(stateful),
            bool(unroll),
        )
        self.use_cudnn, self.seed = _use_cudnn(use_cudnn), _seed(seed)
        self.states: list[torch.Tensor] | None = None  # stateful: each (batch, units)
        self.state_batch_size = self.batch_size  # fixed batch size of a stateful layer
        self._generator: torch.Generator | None = None

    @property
    def fused(self) -> bool:
        """True when the layer runs on torch's fused kernel.

        That is the case with the default activations and no recurrent dropout;
        otherwise a Python loop over timesteps is used.
        """
        return (
            self.activation == "tanh"
            and self.recurrent_activation == "sigmoid"
            and self.recurrent_dropout == 0
        )

    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        features = input_shape[-1]
        if features is None:
            raise ConfigError(f"layer {self.name!r} needs a known number of input features.")
        self.rnn = self.module_class(
            int(features), self.units, batch_first=True, bias=self.use_bias
        )
        if self.use_bias and not self.has_recurrent_bias:
            _make_constant_zero(self.rnn, "bias_hh_l0")
        kernel = initializers.initialize(
            self.kernel_initializer, (int(features), self.gates * self.units), generator
        )
        recurrent = initializers.initialize(
            self.recurrent_initializer, (self.units, self.gates * self.units), generator
        )
        self._assign_keras([kernel.numpy(), recurrent.numpy(), *self._initial_bias(generator)])
        self.states = None
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.return_sequences:
            return (input_shape[0], self.units)
        return (self.units,)

    def forward(
        self, x: torch.Tensor, initial_state: Any = None
    ) -> torch.Tensor | list[torch.Tensor]:  # x: (batch, timesteps, features)
        """Outputs for ``x``; with ``return_state``, ``[output, *final_states]`` as in Keras.

        ``initial_state`` (a tensor or a list: ``[h, c]`` for an LSTM, ``[h]``
        otherwise, each ``(batch, units)``) replaces the zero (or stateful)
        start state, as Keras's ``layer(x, initial_state=...)``.
        """
        if self.go_backwards:
            x = x.flip(1)
        if self.training and self.dropout > 0:
            mask = _mask(x[:, 0], self.dropout, self._dropout_generator(x))
            x = x * mask[:, None, :]  # one mask for every timestep
        state = self._start_state(x, initial_state)  # None = zeros
        if self.fused:
            hx = None if state is None else _torch_state(state)
            sequence, final = self.rnn(x, hx)  # (batch, timesteps, units)
            states = [s[0] for s in (final if isinstance(final, tuple) else (final,))]
        else:
            sequence, states = self._loop(x, state)
        if self.stateful:
            self.states = [s.detach() for s in states]  # carried over, not backpropagated
        output = sequence if self.return_sequences else sequence[:, -1]  # (batch, [t,] units)
        return [output, *states] if self.return_state else output

    def reset_states(self) -> None:
        """Set a stateful layer's carried state back to zeros (Keras's ``reset_states``)."""
        self.states = None

    def reset_state(self) -> None:
        """Keras 3's name of :meth:`reset_states`."""
        self.reset_states()

    def _start_state(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor] | None:
        if initial_state is not None:
            return self._given_state(x, initial_state)
        if not self.stateful:
            return None
        batch = x.shape[0]
        self.state_batch_size = self.state_batch_size or batch
        if batch != self.state_batch_size:
            size = self.state_batch_size
            raise ShapeError(
                f"layer {self.name!r} ({self.kind}) is stateful with the fixed batch size {size} "
                f"but got a batch of {batch} samples; give fit/predict/evaluate batch_size="
                f"{size} and a number of samples divisible by {size} (drop the remainder, "
                f"e.g. x[: len(x) // {size} * {size}])."
            )
        if self.states is None or self.states[0].device != x.device:
            return None
        if self.states[0].is_inference() and not torch.is_inference_mode_enabled():
            self.states = [s.clone() for s in self.states]  # left by predict; usable in fit
        return self.states

    def _given_state(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        given = initial_state if isinstance(initial_state, list | tuple) else [initial_state]
        states = [torch.as_tensor(s, dtype=x.dtype, device=x.device) for s in given]
        expected = (x.shape[0], self.units)
        if len(states) != self.state_count or any(tuple(s.shape) != expected for s in states):
            raise ShapeError(
                f"layer {self.name!r} ({self.kind}) needs initial_state as {self.state_count} "
                f"tensor(s) of shape {expected}, got shapes {[tuple(s.shape) for s in states]}."
            )
        return states

    def _dropout_generator(self, x: torch.Tensor) -> torch.Generator | None:
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != x.device:
            self._generator = torch.Generator(x.device).manual_seed(self.seed)
        return self._generator

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": self.activation,
            "recurrent_activation": self.recurrent_activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "recurrent_initializer": self.recurrent_initializer,
            "bias_initializer": self.bias_initializer,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "go_backwards": self.go_backwards,
            "return_state": self.return_state,
            "stateful": self.stateful,
            "unroll": self.unroll,
            **({} if self.seed is None else {"seed": self.seed}),
            **({} if self.use_cudnn == "auto" else {"use_cudnn": self.use_cudnn}),
            **self._weight_options_config("kernel", "recurrent", "bias"),
            **super().get_config(),
        }

    def _keras_weight(self, weight: str) -> torch.Tensor | None:
        order = self._torch_gate_order()
        if weight in ("kernel", "recurrent"):
            torch_weight = self.rnn.weight_ih_l0 if weight == "kernel" else self.rnn.weight_hh_l0
            return _gates(torch_weight, order, inverse=True).T  # (inputs, gates * units)
        if weight != "bias" or not self.use_bias:
            return None
        bias = _gates(self.rnn.bias_ih_l0, order, inverse=True)  # (gates * units,)
        if self.has_recurrent_bias:
            return torch.stack([bias, _gates(self.rnn.bias_hh_l0, order, inverse=True)])
        return bias

    def _assign_keras_weight(self, weight: str, value: torch.Tensor) -> None:
        order = self._torch_gate_order()
        if weight in ("kernel", "recurrent"):
            target = self.rnn.weight_ih_l0 if weight == "kernel" else self.rnn.weight_hh_l0
            target.copy_(_gates(value.T, order))
        elif self.has_recurrent_bias:
            self.rnn.bias_ih_l0.copy_(_gates(value[0], order))
            self.rnn.bias_hh_l0.copy_(_gates(value[1], order))
        else:
            self.rnn.bias_ih_l0.copy_(_gates(value, order))

    def keras_weights(self) -> list[np.ndarray]:
        order = self._torch_gate_order()
        weights = [
            _reorder(to_numpy(self.rnn.weight_ih_l0), order, inverse=True).T,
            _reorder(to_numpy(self.rnn.weight_hh_l0), order, inverse=True).T,
        ]
        if self.use_bias:
            weights.append(self._keras_bias(order))
        return weights

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        features, width = self.rnn.input_size, self.gates * self.units
        shapes = [(features, width), (self.units, width)]
        if self.use_bias:
            shapes.append((2, width) if self.has_recurrent_bias else (width,))
        self._expect_weights(weights, shapes)
        self._assign_keras(weights)

    # -- subclass hooks ---------------------------------------------------
    has_recurrent_bias: ClassVar[bool] = False

    def _torch_gate_order(self) -> list[int]:
        """Keras gate block index for each torch gate block."""
        return list(range(self.gates))

    def _initial_bias(self, generator: torch.Generator | None) -> list[np.ndarray]:
        if not self.use_bias:
            return []
        shape = (
            (2, self.gates * self.units) if self.has_recurrent_bias else (self.gates * self.units,)
        )
        return [initializers.initialize(self.bias_initializer, shape, generator).numpy()]

    def _loop(
        self, x: torch.Tensor, state: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(sequence (batch, timesteps, units), final states)`` by an exact Python loop."""
        raise NotImplementedError

    def _zero_or(self, x: torch.Tensor, state: list[torch.Tensor] | None) -> list[torch.Tensor]:
        if state is not None:
            return list(state)
        return [x.new_zeros(x.shape[0], self.units) for _ in range(self.state_count)]

    # -- helpers ------------------------------------------------------------
    def _assign_keras(self, weights: list[np.ndarray]) -> None:
        order = self._torch_gate_order()
        assign(self.rnn.weight_ih_l0, _reorder(np.asarray(weights[0]).T, order))
        assign(self.rnn.weight_hh_l0, _reorder(np.asarray(weights[1]).T, order))
        if not self.use_bias:
            return
        bias = np.asarray(weights[2])
        if self.has_recurrent_bias:
            assign(self.rnn.bias_ih_l0, _reorder(bias[0], order))
            assign(self.rnn.bias_hh_l0, _reorder(bias[1], order))
        else:
            assign(self.rnn.bias_ih_l0, _reorder(bias, order))

    def _keras_bias(self, order: list[int]) -> np.ndarray:
        bias_ih = _reorder(to_numpy(self.rnn.bias_ih_l0), order, inverse=True)
        if not self.has_recurrent_bias:
            return bias_ih
        return np.stack([bias_ih, _reorder(to_numpy(self.rnn.bias_hh_l0), order, inverse=True)])

    def _recurrent_mask(self, h: torch.Tensor) -> torch.Tensor | None:
        if self.training and self.recurrent_dropout > 0:
            return _mask(h, self.recurrent_dropout, self._dropout_generator(h))
        return None


class LSTM(Recurrent):
    """Long Short-Term Memory layer (Hochreiter 1997), Keras's ``keras.layers.LSTM``.

    Defaults are Keras's: tanh / sigmoid activations, ``glorot_uniform``
    kernel, ``orthogonal`` recurrent kernel, zero bias with the forget-gate
    bias set to 1 (``unit_forget_bias=True``), and one bias vector per gate
    set, so ``LSTM(50)`` on one feature has 10,400 parameters as in Keras.

    ``dropout`` drops input features with one mask per sample that is the same
    at every timestep (Keras's behaviour), in training only. With the default
    activations and ``recurrent_dropout=0`` the layer runs on
    ``torch.nn.LSTM``'s fused kernel; other settings use an exact but slower
    loop over timesteps.

    Args:
        units: Size of the hidden state.
        activation: Cell and output activation (default ``"tanh"``).
        recurrent_activation: Gate activation (default ``"sigmoid"``).
        use_bias: Use a bias vector.
        kernel_initializer: Initializer of the input kernel.
        recurrent_initializer: Initializer of the recurrent kernel.
        bias_initializer: Initializer of the bias.
        unit_forget_bias: Add 1 to the forget-gate bias at initialisation.
        dropout: Fraction of input features dropped while training.
        recurrent_dropout: Fraction of the recurrent state dropped while training.
        return_sequences: Return the whole sequence ``(batch, timesteps,
            units)`` instead of the last output ``(batch, units)``; needed
            when another recurrent layer follows.
        go_backwards: Process the sequence backwards (and return it reversed).
        input_shape: ``(timesteps, features)`` for a first layer.
        name: Layer name (default ``lstm``, ``lstm_1``, ...).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Penalties
            (:mod:`rnncast.regularizers`) on Keras's ``kernel`` ``(features,
            4 * units)``, ``recurrent_kernel`` ``(units, 4 * units)`` and ``bias``.
        activity_regularizer: Penalty on the output, divided by the batch size.
        kernel_constraint, recurrent_constraint, bias_constraint: Projections
            (:mod:`rnncast.constraints`) on the same Keras-layout weights,
            applied after each optimizer step.
        seed, return_state, stateful, unroll, use_cudnn, batch_size: Keras's
            arguments, described in :class:`Recurrent` (``unroll`` and
            ``use_cudnn`` have no effect; ``stateful`` needs a fixed batch size).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense
        >>> model = Sequential([LSTM(50, return_sequences=True, input_shape=(60, 1)),
        ...                     LSTM(50), Dense(25), Dense(1)])
        >>> model.count_params()
        31901
    """

    gates = 4
    state_count = 2
    module_class = nn.LSTM

    def __init__(
        self, units: int, *args: Any, unit_forget_bias: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(units, *args, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}

    def _initial_bias(self, generator: torch.Generator | None) -> list[np.ndarray]:
        biases = super()._initial_bias(generator)
        if biases and self.unit_forget_bias:
            biases[0][self.units : 2 * self.units] = 1.0  # gate order i, f, c, o
        return biases

    def _loop(
        self, x: torch.Tensor, state: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        steps = x.shape[1]
        inputs = nn.functional.linear(
            x, self.rnn.weight_ih_l0, self.rnn.bias_ih_l0 if self.use_bias else None
        )
        h, c = self._zero_or(x, state)  # each (batch, units)
        mask = self._recurrent_mask(h)
        outputs = []
        for t in range(steps):
            recurrent = (h if mask is None else h * mask) @ self.rnn.weight_hh_l0.T
            i, f, g, o = (inputs[:, t] + recurrent).chunk(4, dim=1)  # each (batch, units)
            c = self._recurrent_act(f) * c + self._recurrent_act(i) * self._act(g)
            h = self._recurrent_act(o) * self._act(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), [h, c]  # (batch, timesteps, units)


class GRU(Recurrent):
    """Gated Recurrent Unit (Cho et al. 2014), Keras's ``keras.layers.GRU``.

    Same arguments and defaults as :class:`LSTM` plus ``reset_after=True``
    (Keras's default, the formula of ``torch.nn.GRU``: the reset gate is
    applied after the recurrent matrix product, with separate input and
    recurrent biases). ``reset_after=False`` is Keras's older variant and
    runs on the slower loop. Keras stores gates as (update, reset, new);
    torch as (reset, update, new): weights are reordered when imported.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import GRU, Dense
        >>> Sequential([GRU(50, input_shape=(60, 1)), Dense(1)]).count_params()
        8001
    """

    gates = 3
    module_class = nn.GRU

    def __init__(self, units: int, *args: Any, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, *args, **kwargs)
        self.reset_after = bool(reset_after)

    @property
    def has_recurrent_bias(self) -> bool:  # type: ignore[override]
        return self.reset_after

    @property
    def fused(self) -> bool:
        return super().fused and self.reset_after

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}

    def _torch_gate_order(self) -> list[int]:
        return [1, 0, 2]  # torch (r, z, n) <- Keras (z, r, h)

    def _loop(
        self, x: torch.Tensor, state: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        steps = x.shape[1]
        bias_ih = self.rnn.bias_ih_l0 if self.use_bias else None
        bias_hh = self.rnn.bias_hh_l0 if self.use_bias and self.reset_after else None
        x_r, x_z, x_n = nn.functional.linear(x, self.rnn.weight_ih_l0, bias_ih).chunk(3, dim=2)
        w_r, w_z, w_n = self.rnn.weight_hh_l0.chunk(3, dim=0)  # each (units, units)
        b_r, b_z, b_n = bias_hh.chunk(3) if bias_hh is not None else (None, None, None)
        (h,) = self._zero_or(x, state)  # (batch, units)
        mask = self._recurrent_mask(h)
        outputs = []
        for t in range(steps):
            h_in = h if mask is None else h * mask
            r = self._recurrent_act(x_r[:, t] + nn.functional.linear(h_in, w_r, b_r))
            z = self._recurrent_act(x_z[:, t] + nn.functional.linear(h_in, w_z, b_z))
            if self.reset_after:
                n = self._act(x_n[:, t] + r * nn.functional.linear(h_in, w_n, b_n))
            else:
                n = self._act(x_n[:, t] + nn.functional.linear(r * h_in, w_n))
            h = z * h + (1 - z) * n
            outputs.append(h)
        return torch.stack(outputs, dim=1), [h]  # (batch, timesteps, units)


class SimpleRNN(Recurrent):
    """Fully connected recurrent layer, Keras's ``keras.layers.SimpleRNN``.

    ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``
    with Keras's weights ``[kernel (features, units), recurrent_kernel
    (units, units), bias (units,)]`` and defaults (tanh, ``glorot_uniform``,
    ``orthogonal``, zero bias), so ``SimpleRNN(50)`` on one feature has 2,600
    parameters as in Keras. With ``tanh`` and no recurrent dropout it runs on
    ``torch.nn.RNN``'s fused kernel; otherwise on an exact loop.

    Args:
        units: Size of the hidden state.
        activation: Activation of the state (default ``"tanh"``).
        use_bias: Use a bias vector.
        kernel_initializer: Initializer of the input kernel.
        recurrent_initializer: Initializer of the recurrent kernel.
        bias_initializer: Initializer of the bias.
        dropout: Fraction of input features dropped while training (one mask
            per sample for every timestep).
        recurrent_dropout: Fraction of the recurrent state dropped while training.
        return_sequences: Return ``(batch, timesteps, units)`` instead of the
            last output ``(batch, units)``.
        go_backwards: Process the sequence backwards.
        input_shape: ``(timesteps, features)`` for a first layer.
        name: Layer name (default ``simple_rnn``, ...).

        seed, return_state, stateful, unroll, use_cudnn, batch_size: as for
            :class:`LSTM` (see :class:`Recurrent`).

    Raises:
        ConfigError: for a bad value or an unsupported Keras argument.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import SimpleRNN, Dense
        >>> model = Sequential([SimpleRNN(50, return_sequences=True, input_shape=(60, 1)),
        ...                     SimpleRNN(50), Dense(1)])
        >>> model.output_shape, model.count_params()
        ((None, 1), 7701)
    """

    gates = 1
    module_class = nn.RNN

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        recurrent_initializer: str = "orthogonal",
        bias_initializer: str = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        go_backwards: bool = False,
        input_shape: Shape | None = None,
        name: str | None = None,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            return_sequences=return_sequences,
            go_backwards=go_backwards,
            input_shape=input_shape,
            name=name,
            **kwargs,
        )

    @property
    def fused(self) -> bool:
        return self.activation == "tanh" and self.recurrent_dropout == 0

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["recurrent_activation"]
        return config

    def _loop(
        self, x: torch.Tensor, state: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        steps = x.shape[1]
        inputs = nn.functional.linear(
            x, self.rnn.weight_ih_l0, self.rnn.bias_ih_l0 if self.use_bias else None
        )  # (batch, timesteps, units)
        (h,) = self._zero_or(x, state)  # (batch, units)
        mask = self._recurrent_mask(h)
        outputs = []
        for t in range(steps):
            recurrent = (h if mask is None else h * mask) @ self.rnn.weight_hh_l0.T
            h = self._act(inputs[:, t] + recurrent)  # (batch, units)
            outputs.append(h)
        return torch.stack(outputs, dim=1), [h]  # (batch, timesteps, units)


def _make_constant_zero(module: nn.RNNBase, name: str) -> None:
    """Turn parameter ``name`` of a torch RNN into a zero buffer the fused kernel still reads."""
    zeros = torch.zeros_like(getattr(module, name)).detach()
    del module._parameters[name]
    module.register_buffer(name, zeros, persistent=False)
    module._init_flat_weights()


def _reorder(array: np.ndarray, order: list[int], inverse: bool = False) -> np.ndarray:
    """Permute gate blocks along axis 0 (``order[i]`` = source block of block ``i``)."""
    blocks = np.split(np.asarray(array), len(order), axis=0)
    if inverse:
        order = list(np.argsort(order))
    return np.concatenate([blocks[i] for i in order], axis=0)


def _gates(tensor: torch.Tensor, order: list[int], inverse: bool = False) -> torch.Tensor:
    """:func:`_reorder` on a tensor, keeping the autograd graph (for regularizers)."""
    if order == sorted(order):
        return tensor
    if inverse:
        order = [int(i) for i in np.argsort(order)]
    blocks = tensor.chunk(len(order), dim=0)
    return torch.cat([blocks[i] for i in order], dim=0)


def _mask(
    like: torch.Tensor, rate: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Inverted-dropout mask shaped like ``like``: 0 or ``1/(1-rate)``."""
    return torch.empty_like(like).bernoulli_(1 - rate, generator=generator) / (1 - rate)


def _torch_state(state: list[torch.Tensor]) -> Any:
    """Keras-style states, each (batch, units), as torch's hx: (1, batch, units) or a pair."""
    layered = [s.unsqueeze(0).contiguous() for s in state]  # each (1, batch, units)
    return tuple(layered) if len(layered) == 2 else layered[0]


def _use_cudnn(value: Any) -> str | bool:
    if isinstance(value, bool) or (isinstance(value, str) and value == "auto"):
        return value
    raise ConfigError(f'use_cudnn={value!r} must be "auto", True or False (it has no effect).')


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"seed={value!r} must be an integer (or None).")
    return int(value)


def _rate(value: float, name: str) -> float:
    if not 0 <= float(value) < 1:
        raise ConfigError(f"{name} must be in [0, 1), got {value!r}.")
    return float(value)
