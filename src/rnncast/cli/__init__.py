"""The ``rnncast`` command line: configs, pipelines, the HTML report, plots and the benchmark."""

from rnncast.cli.main import main

__all__ = ["main"]
