"""One onnxruntime session helper for the export tests (tests/ is on sys.path via conftest.py)."""

from __future__ import annotations

import pytest

ort = pytest.importorskip("onnxruntime")


def one_thread_session(path):
    """An onnxruntime session on one thread (its spinning threads crawl on a busy machine)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
