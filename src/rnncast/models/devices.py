"""Where a model runs: device names, moving a model and its batches, mixed precision.

``compile(device=...)`` takes ``"auto"`` (CUDA, then MPS, then the CPU),
``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"``. The model's weights and
its optimizer's slots move there; the training windows stay on the host and
each batch is copied over when it is cut (from pinned memory with
``non_blocking=True`` on CUDA). On the CPU nothing is copied or pinned, so
CPU training runs exactly as without a device.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> to_device((torch.ones(2, 3), None, None), torch.device("cpu"))[0].shape
    torch.Size([2, 3])
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from rnncast import mixed_precision
from rnncast.exceptions import ConfigError

if TYPE_CHECKING:
    from rnncast.models.sequential import Sequential

CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
_NAME = re.compile(r"^(cpu|cuda|mps)(:\d+)?$")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The ``torch.device`` a device name means; ``"auto"`` picks CUDA, then MPS, then CPU.

    Args:
        device: ``"auto"`` (or ``None``), ``"cpu"``, ``"cuda"``, ``"cuda:1"``,
            ``"mps"`` or a ``torch.device``.

    Raises:
        ConfigError: for an unknown name, or a device this machine does not have.

    Example:
        >>> resolve_device("cpu").type
        'cpu'
        >>> resolve_device("gpu")
        Traceback (most recent call last):
        ...
        rnncast.exceptions.ConfigError: device='gpu' is not a device; use one of auto, cpu, cuda, cuda:N, mps.
    """  # noqa: E501
    if device is None or (isinstance(device, str) and device == "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    name = str(device) if isinstance(device, torch.device) else device
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"device={device!r} is not a device; use one of {', '.join(CHOICES)}.")
    resolved = torch.device(name)
    if resolved.type == "cuda":
        _check_cuda(name, resolved)
    if resolved.type == "mps" and not _mps_available():
        raise ConfigError(
            f"device={name!r} but this machine has no Apple MPS device; "
            "use device='auto' or device='cpu'."
        )
    return resolved


def _check_cuda(name: str, device: torch.device) -> None:
    if not torch.cuda.is_available():
        raise ConfigError(
            f"device={name!r} but CUDA is not available here (no GPU, or a CPU-only "
            "PyTorch build); use device='auto' (CUDA when present, else the CPU) or device='cpu'."
        )
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise ConfigError(
            f"device={name!r} but this machine has {count} CUDA device(s), "
            f"cuda:0..cuda:{count - 1}."
        )


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pins_memory(device: torch.device | None) -> bool:
    """Whether batches for ``device`` are cut into pinned host memory (CUDA only)."""
    return device is not None and device.type == "cuda"


def to_device(
    batch: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None],
    device: torch.device | None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """``(x, y, sample_weight)`` on ``device``; on the CPU (or ``None``) the batch itself.

    The copy is ``non_blocking`` (asynchronous from pinned memory on CUDA).
    """
    if device is None or device.type == "cpu":
        return batch
    return tuple(  # type: ignore[return-value]
        None if t is None else t.to(device, non_blocking=True) for t in batch
    )


def move_model(model: Sequential, device: torch.device) -> None:
    """Move the weights, buffers and optimizer slots of ``model`` to ``device``.

    cuDNN's RNN kernels want each LSTM/GRU's weights in one flat buffer:
    ``flatten_parameters()`` runs every time (torch's ``_apply`` does it after a
    move, but a deep copy, e.g. the Forecaster's copy of a given model, leaves
    the weights apart; on the CPU it returns at once). rnncast's zero
    ``bias_hh`` buffer is part of the flat weights, so the Keras bias layout
    keeps the fused kernel.
    """
    if any(t.device != device for t in (*model.parameters(), *model.buffers())):
        model.to(device)
    for module in model.modules():
        if isinstance(module, nn.RNNBase):
            module.flatten_parameters()
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        optimizer.to(device)


class Precision:
    """Mixed precision of one compiled model: the autocast dtype and, for float16, a loss scaler.

    Args:
        policy: A ``mixed_*`` :class:`rnncast.mixed_precision.DTypePolicy`.
        device: Where the model runs (the loss scaler's device type).
        scale_loss: Scale the loss with ``torch.amp.GradScaler`` (float16 only).
    """

    def __init__(
        self, policy: mixed_precision.DTypePolicy, device: torch.device, scale_loss: bool
    ) -> None:
        self.policy = policy
        self.dtype = getattr(torch, policy.compute_dtype)
        use_scaler = scale_loss and self.dtype == torch.float16
        # 2**15 first, as Keras's LossScaleOptimizer; halved on overflow, doubled after 2000 steps
        scaler = torch.amp.GradScaler(device.type, init_scale=2.0**15) if use_scaler else None
        self.scaler = scaler

    def autocast(self, device_type: str) -> AbstractContextManager[Any]:
        """``torch.autocast`` on ``device_type`` (the input's) in the policy's compute dtype."""
        return torch.autocast(device_type, dtype=self.dtype)

    def __repr__(self) -> str:
        return f"Precision({self.policy.name!r}, scaled={self.scaler is not None})"


def precision_for(
    setting: str | mixed_precision.DTypePolicy | None, device: torch.device, scale_loss: bool
) -> Precision | None:
    """The :class:`Precision` of ``compile(mixed_precision=setting)``; ``None`` for float32.

    Raises:
        ConfigError: for float16 on a CPU (PyTorch's CPU LSTM has no float16 kernel).
    """
    policy = mixed_precision.resolve(setting)
    if policy.compute_dtype == "float32":
        return None
    if policy.compute_dtype == "float16" and device.type == "cpu":
        raise ConfigError(
            f"mixed precision {policy.name!r} (float16) needs a CUDA GPU; on the CPU use "
            "mixed_precision='bf16' (bfloat16), or device='cuda'."
        )
    return Precision(policy, device, scale_loss)


def backward_and_step(model: Sequential, loss: torch.Tensor) -> None:
    """``loss.backward()`` then the optimizer's step, through the loss scaler for float16.

    With a scaler, a step whose gradients hold inf/NaN is skipped and the
    scale shrinks, as ``torch.amp.GradScaler`` does (the optimizer's
    ``param_groups`` lets the scaler unscale rnncast's optimizers).
    """
    precision = model._precision
    scaler = None if precision is None else precision.scaler
    if not loss.requires_grad:  # every weight frozen (trainable=False): count the step only
        model.optimizer.step()
    elif scaler is None:
        loss.backward()
        model.optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(model.optimizer)  # unscale_, then step unless a gradient is inf/NaN
        scaler.update()


def place(model: Sequential, device: str | torch.device | None) -> torch.device:
    """Move a (compiled or loaded) model to ``device`` (``None``: ``"auto"``); returns it.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Dense
        >>> place(Sequential([Dense(1, input_shape=(3,))]), "cpu")
        device(type='cpu')
    """
    target = resolve_device(device)
    move_model(model, target)
    model._device = target
    return target
