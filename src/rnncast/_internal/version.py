"""The installed rnncast version, read once from the package metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnncast")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
