"""Keras-style progress output for ``fit`` and ``evaluate``.

``verbose=1`` draws a bar per epoch (``70/70 ━━━━━━━━━━ 2s 25ms/step - loss: 0.0123``)
when the output is a terminal, and one line per epoch otherwise, so CI logs
stay readable; ``verbose=2`` always writes one line per epoch; ``0`` is silent.
"""

from __future__ import annotations

import time
from typing import TextIO

from rnncast._internal import output

_WIDTH = 20
_REFRESH = 0.1  # seconds between bar redraws


def resolve_verbose(verbose: int | str, stream: TextIO | None = None) -> int:
    """Map Keras's ``verbose`` ("auto", 0, 1, 2) to 0 (silent), 1 (bar) or 2 (lines)."""
    if verbose == "auto":
        verbose = 1
    if verbose not in (0, 1, 2):
        from rnncast.exceptions import ConfigError

        raise ConfigError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}.")
    stream = stream or output.stream()
    if verbose == 1 and not getattr(stream, "isatty", lambda: False)():
        return 2
    return int(verbose)


def format_logs(logs: dict[str, float]) -> str:
    """``loss: 0.0123 - val_loss: 4.5000e-04``, formatted as Keras's progress bar does."""
    return " - ".join(f"{key}: {_number(value)}" for key, value in logs.items())


def _number(value: float) -> str:
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


class Progress:
    """Progress of one epoch of ``steps`` batches."""

    def __init__(self, steps: int, mode: int, stream: TextIO | None = None) -> None:
        self.steps, self.mode, self.stream = steps, mode, stream or output.stream()
        self.started = time.perf_counter()
        self._drawn = 0.0

    def update(self, step: int, logs: dict[str, float]) -> None:
        """After batch ``step`` (1-based): redraw the bar now and then."""
        if self.mode != 1:
            return
        now = time.perf_counter()
        if now - self._drawn < _REFRESH and step < self.steps:
            return
        self._drawn = now
        elapsed = now - self.started
        eta = elapsed / step * (self.steps - step)
        self.stream.write(
            f"\r{self._count(step)} {self._bar(step)} {_seconds(eta)} - {format_logs(logs)}\x1b[K"
        )
        self.stream.flush()

    def finish(self, logs: dict[str, float]) -> None:
        """The epoch's final line, with timing and every logged value."""
        if self.mode == 0:
            return
        elapsed = time.perf_counter() - self.started
        per_step = f"{elapsed / max(self.steps, 1) * 1e3:.0f}ms/step"
        if self.mode == 1:
            line = (
                f"\r{self._count(self.steps)} {self._bar(self.steps)} {elapsed:.0f}s "
                f"{per_step} - {format_logs(logs)}\x1b[K\n"
            )
        else:
            line = (
                f"{self._count(self.steps)} - {elapsed:.0f}s - {per_step} - {format_logs(logs)}\n"
            )
        self.stream.write(line)
        self.stream.flush()

    def _count(self, step: int) -> str:
        width = len(str(self.steps))
        return f"{step:>{width}}/{self.steps}"

    def _bar(self, step: int) -> str:
        done = round(_WIDTH * step / max(self.steps, 1))
        return "━" * done + " " * (_WIDTH - done)


def _seconds(value: float) -> str:
    return f"{value:.0f}s" if value < 60 else f"{value // 60:.0f}:{value % 60:02.0f}"
