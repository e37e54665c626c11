"""Models: the Keras-style ``Sequential`` container and its training loop.

Keras's import paths work here (``keras.models.Sequential`` ->
``rnncast.models.Sequential``).

Example:
    >>> from rnncast.models import Sequential
    >>> from rnncast.layers import LSTM, Dense
    >>> model = Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)])
    >>> model.count_params()
    101
"""

from rnncast.models.sequential import Sequential


def load_model(path, compile: bool = True) -> Sequential:
    """Load a model saved with ``model.save(path)`` (Keras's ``keras.models.load_model``).

    Args:
        path: The artifact folder.
        compile: Restore the optimizer, loss and metrics too.

    Returns:
        The :class:`Sequential`, ready to predict or resume training.
    """
    from rnncast.saving import load_model as _load_model

    return _load_model(path, compile=compile)


__all__ = ["Sequential", "load_model"]
