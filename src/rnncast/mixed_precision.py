"""Keras's ``keras.mixed_precision``: dtype policies that switch on mixed precision.

``set_global_policy("mixed_bfloat16")`` (or ``"mixed_float16"``) makes every
model compiled afterwards compute in that dtype under ``torch.autocast``,
while its weights, optimizer slots and the loss stay float32, as in Keras.
``compile(mixed_precision="bf16")`` does the same for one model. With
``"mixed_float16"`` the loss is scaled (``torch.amp.GradScaler``), as
Keras's ``LossScaleOptimizer`` does; bfloat16 has float32's range and needs
no scaling. ``"float32"`` (the default) switches it off.

Only the ``float32`` and the two ``mixed_*`` policies exist in rnncast:
weights are always float32. bfloat16 runs on CPUs and GPUs; float16 needs a
CUDA GPU (PyTorch's CPU LSTM has no float16 kernel).

Example:
    >>> from rnncast import mixed_precision
    >>> mixed_precision.set_global_policy("mixed_bfloat16")
    >>> policy = mixed_precision.global_policy()
    >>> policy.name, policy.compute_dtype, policy.variable_dtype
    ('mixed_bfloat16', 'bfloat16', 'float32')
    >>> mixed_precision.set_global_policy("float32")
"""

from __future__ import annotations

from typing import Any

from rnncast.exceptions import ConfigError

__all__ = [
    "DTypePolicy",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]

POLICIES = {
    "float32": ("float32", "float32"),
    "mixed_bfloat16": ("bfloat16", "float32"),
    "mixed_float16": ("float16", "float32"),
}
# compile(mixed_precision=...) short names and the policy each one means
SHORT_NAMES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16", "fp32": "float32"}


class DTypePolicy:
    """A dtype policy: the dtype a model computes in and the dtype of its weights.

    Args:
        name: ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``
            (``None``: the global policy's name).

    Raises:
        ConfigError: for any other name (rnncast keeps weights in float32).

    Example:
        >>> DTypePolicy("mixed_float16").compute_dtype
        'float16'
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = global_policy().name
        if not isinstance(name, str) or name not in POLICIES:
            raise ConfigError(
                f"dtype policy {name!r} is not supported; use one of {sorted(POLICIES)} "
                "(rnncast keeps weights in float32)."
            )
        self._name = name
        self._compute_dtype, self._variable_dtype = POLICIES[name]

    @property
    def name(self) -> str:
        """The policy's name, e.g. ``"mixed_bfloat16"``."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype layers compute in (``"bfloat16"``, ``"float16"`` or ``"float32"``)."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the weights: always ``"float32"``."""
        return self._variable_dtype

    def get_config(self) -> dict[str, Any]:
        """``{"name": ...}``, as Keras's ``DTypePolicy.get_config``."""
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DTypePolicy:
        """The policy :meth:`get_config` describes."""
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


Policy = DTypePolicy  # Keras's legacy name: keras.mixed_precision.Policy

_GLOBAL: list[DTypePolicy] = []


def set_global_policy(policy: str | DTypePolicy) -> None:
    """Set the policy of models compiled from now on (``keras.mixed_precision.set_global_policy``).

    Args:
        policy: A policy name (``"mixed_bfloat16"``, ``"mixed_float16"``,
            ``"float32"``) or a :class:`DTypePolicy`.

    Raises:
        ConfigError: for an unknown name or another kind of value.
    """
    if isinstance(policy, str):
        policy = DTypePolicy(policy)
    if not isinstance(policy, DTypePolicy):
        raise ConfigError(
            f"set_global_policy takes a policy name such as 'mixed_bfloat16' or a "
            f"DTypePolicy, got {policy!r}."
        )
    _GLOBAL[:] = [policy]


def global_policy() -> DTypePolicy:
    """The global policy (``"float32"`` until :func:`set_global_policy` changes it).

    Example:
        >>> global_policy()
        <DTypePolicy "float32">
    """
    return _GLOBAL[0] if _GLOBAL else DTypePolicy("float32")


set_dtype_policy = set_global_policy  # Keras 3's names (keras.config.set_dtype_policy)
dtype_policy = global_policy


def resolve(mixed_precision: str | DTypePolicy | None) -> DTypePolicy:
    """The policy ``compile(mixed_precision=...)`` means; ``None`` is the global policy.

    Example:
        >>> resolve("bf16").name, resolve(None).name
        ('mixed_bfloat16', 'float32')
    """
    if mixed_precision is None:
        return global_policy()
    if isinstance(mixed_precision, DTypePolicy):
        return mixed_precision
    if isinstance(mixed_precision, str) and mixed_precision in SHORT_NAMES:
        return DTypePolicy(SHORT_NAMES[mixed_precision])
    if isinstance(mixed_precision, str) and mixed_precision in POLICIES:
        return DTypePolicy(mixed_precision)
    raise ConfigError(
        f"mixed_precision={mixed_precision!r} is not supported; use 'bf16', 'fp16', None "
        f"(the global policy) or a policy name {sorted(POLICIES)}."
    )
