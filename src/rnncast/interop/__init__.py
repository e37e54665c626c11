"""Keras interoperability: convert Keras models and read ``.keras`` files (h5py only)."""

from rnncast.interop.keras import from_keras, from_keras_config, load_keras, translate_layer

__all__ = ["from_keras", "from_keras_config", "load_keras", "translate_layer"]
