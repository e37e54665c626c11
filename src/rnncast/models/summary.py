"""The Keras-style ``model.summary()`` table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnncast.layers.base import show_shape

if TYPE_CHECKING:
    from rnncast.models.sequential import Sequential


def render_summary(model: Sequential) -> str:
    """The summary as text: one row per layer, then total / trainable / non-trainable counts.

    Example output (Keras 3 prints the same numbers)::

        Model: "sequential"
        ┏━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━┓
        ┃ Layer (type)         ┃ Output Shape   ┃  Param # ┃
        ...
         Total params: 31,901 (124.61 KB)
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.HEAVY_HEAD, show_lines=True)
    table.add_column("Layer (type)", no_wrap=True)
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right", no_wrap=True)
    shape = model.built_input_shape
    trainable = frozen = 0
    for layer in model.layers:
        if model.built:
            shape = layer.compute_output_shape(shape)
            layer_trainable, layer_frozen = layer.param_counts()
            trainable, frozen = trainable + layer_trainable, frozen + layer_frozen
            table.add_row(
                f"{layer.name} ({layer.kind})",
                show_shape(shape),
                f"{layer_trainable + layer_frozen:,}",
            )
        else:
            table.add_row(f"{layer.name} ({layer.kind})", "?", "0 (unbuilt)")
    console = Console(width=100, color_system=None, legacy_windows=False)
    drawn = "".join(segment.text for segment in console.render(table))  # no styles: plain text
    totals = [
        f" {label} params: {count:,} ({readable_size(count * 4)})"
        for label, count in (
            ("Total", trainable + frozen),
            ("Trainable", trainable),
            ("Non-trainable", frozen),
        )
    ]
    return "\n".join([f'Model: "{model.name}"', drawn.rstrip("\n"), *totals])


def readable_size(n_bytes: float) -> str:
    """Keras's memory size format: ``127604`` -> ``'124.61 KB'``."""
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} GB"
