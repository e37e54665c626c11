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


def load_model(filepath, compile: bool = True) -> Sequential:
    """Load a model saved with ``model.save(path)`` (Keras's ``keras.models.load_model``).

    Args:
        filepath: The artifact folder, or a ``.keras`` file (written by rnncast or Keras 3).
        compile: Restore the optimizer, loss and metrics too.

    Returns:
        The :class:`Sequential`, ready to predict or resume training.
    """
    from rnncast.saving import load_model as _load_model

    return _load_model(filepath, compile=compile)


def model_from_json(json_string: str) -> Sequential:
    """A model (fresh weights, not compiled) from ``model.to_json()`` (Keras's name).

    Reads the JSON of ``rnncast`` and of Keras 3's ``model.to_json()`` alike.

    Raises:
        ConfigError: for text that is not JSON or not a Sequential model's
            architecture, or a layer rnncast does not have.

    Example:
        >>> from rnncast.layers import Dense
        >>> model = Sequential([Dense(2, input_shape=(3,))])
        >>> model_from_json(model.to_json()).output_shape
        (None, 2)
    """
    import json

    from rnncast.exceptions import ConfigError
    from rnncast.interop.keras import from_keras_config

    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"model_from_json takes the string model.to_json() returns; it is not JSON: {err}"
        ) from None
    return from_keras_config(config)


__all__ = ["Sequential", "load_model", "model_from_json"]
