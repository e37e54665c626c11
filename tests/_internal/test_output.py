"""Library text goes through one redirectable writer, never straight to print."""

import ast
import io
from pathlib import Path

import numpy as np
import pytest

import rnncast as rc
from rnncast._internal import output
from rnncast.callbacks import EarlyStopping, TerminateOnNaN
from rnncast.layers import GRU, Dense

SRC = Path(__file__).resolve().parents[2] / "src" / "rnncast"


def test_write_follows_sys_stdout_until_redirected(capsys):
    output.write("one")
    buffer, inner = io.StringIO(), io.StringIO()
    with output.redirect(buffer):
        output.write("two", end="")
        with output.redirect(inner):
            output.write("three")
        output.write("four")
    output.write("five")
    assert capsys.readouterr().out == "one\nfive\n"
    assert buffer.getvalue() == "twofour\n" and inner.getvalue() == "three\n"


def test_redirect_is_undone_by_an_exception():
    with pytest.raises(KeyError), output.redirect(io.StringIO()):
        raise KeyError("x")
    assert output.stream() is __import__("sys").stdout


def _model():
    model = rc.Sequential([GRU(3, input_shape=(4, 1)), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    return model


def test_fit_evaluate_and_callbacks_write_through_the_redirect(capsys):
    x = np.linspace(0, 1, 40, dtype="float32").reshape(10, 4, 1)
    y = x[:, -1, :]
    buffer = io.StringIO()
    with output.redirect(buffer):
        model = _model()
        model.fit(
            x,
            y,
            epochs=3,
            verbose=2,
            validation_data=(x, y),
            callbacks=[
                EarlyStopping(patience=0, min_delta=10.0, restore_best_weights=True, verbose=1)
            ],
        )
        model.evaluate(x, y, verbose=1)
        stop = TerminateOnNaN()
        stop.set_model(model)
        stop.on_train_batch_end(0, {"loss": float("nan")})
    text = buffer.getvalue()
    assert capsys.readouterr().out == ""
    assert text.startswith("Epoch 1/3\n1/1 - ") and "Epoch 2/3" in text
    assert "Epoch 2: early stopping" in text and "Restoring model weights" in text
    assert "Batch 0: invalid loss, terminating training" in text
    assert text.count("val_loss: ") == 2 and text.count("\nloss: ") == 1  # 2 epochs, evaluate


def test_no_print_calls_in_library_code():
    calls = []
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts or path.name == "output.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name == "print":
                    calls.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert calls == []
