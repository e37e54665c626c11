"""Training diagnostics: did the network learn anything beyond the average move?

A recurrent network trained on noisy returns often settles on predicting the
mean of its target: the training loss stays at the target's variance and
every forecast is (almost) the same average move. Its test scores then look
like a cautious forecast, while it learned nothing about the inputs. rnncast
calls a fit "learned only the average move" when, on its own training
windows, the forecasts explain less than ``MIN_R2`` of the target's variance
**and** vary less than ``MAX_SPREAD`` times as much as the target does.

Example:
    >>> import numpy as np
    >>> y = np.random.default_rng(0).normal(size=(500, 1))      # (n, horizon)
    >>> learned_only_the_mean(np.full_like(y, y.mean()) + 1e-4, y)
    True
    >>> learned_only_the_mean(0.5 * y, y)
    False
"""

from __future__ import annotations

import numpy as np

MIN_R2 = 0.01
"""Share of the target's variance a fit must explain on its training windows."""

MAX_SPREAD = 0.1
"""Forecasts whose standard deviation is below this share of the target's barely vary."""


def learned_only_the_mean(predictions: np.ndarray, targets: np.ndarray) -> bool:
    """True when training forecasts ``(n, horizon)`` are (almost) the average of the targets.

    Args:
        predictions: The fitted model's forecasts of its training windows, scaled.
        targets: The scaled training targets, same shape.
    """
    p = np.asarray(predictions, dtype=np.float64)  # (n, horizon)
    y = np.asarray(targets, dtype=np.float64)  # (n, horizon)
    variance = y.var()
    if not variance > 0:
        return False
    r2 = 1 - np.mean((p - y) ** 2) / variance
    spread = p.std() / np.sqrt(variance)
    return bool(r2 < MIN_R2 and spread < MAX_SPREAD)
