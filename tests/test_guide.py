"""docs/guide.md runs as written and prints what it shows.

Every ```python block of the guide runs, in order, in one namespace (later
blocks use earlier names), inside a temporary working directory. A block
followed by a line starting with "Output" and a ```text block must print
exactly that text (trailing spaces ignored; a "..." in the text matches
anything, as in doctest). A block whose first line is ``# output varies``
prints numbers that depend on training: it must run and print something, but
its text is an example and is not compared.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import random
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide.md"
VARIES = "# output varies"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", flags=re.DOTALL | re.MULTILINE)
OUTPUT_LABEL = re.compile(r"\A\s*Output\b[^\n]*:\s*\Z")


@dataclass
class Block:
    """One ```python block, its line in the guide and the output it shows (if any)."""

    line: int
    source: str
    expected: str | None = None

    @property
    def varies(self) -> bool:
        return self.source.lstrip().startswith(VARIES)

    @property
    def id(self) -> str:
        return f"line{self.line}"


def parse(text: str) -> list[Block]:
    """The python blocks of ``text``, each with the ``Output ...:`` text block that follows it."""
    fences = list(FENCE.finditer(text))
    blocks: list[Block] = []
    for previous, fence in zip([None, *fences], fences, strict=False):
        language, body = fence.group(1), fence.group(2)
        line = text.count("\n", 0, fence.start()) + 2  # first line inside the fence
        gap = text[previous.end() if previous else 0 : fence.start()]
        if language == "text" and OUTPUT_LABEL.match(gap):
            if previous is None or previous.group(1) != "python":
                raise AssertionError(
                    f"docs/guide.md line {line}: an Output block must follow a python block"
                )
            blocks[-1].expected = body
        elif language == "python":
            blocks.append(Block(line, body, None))
    return blocks


BLOCKS = parse(GUIDE.read_text(encoding="utf-8"))


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _matches(expected: str, got: str) -> bool:
    want, have = _normalise(expected), _normalise(got)
    if want == have:
        return True
    return "..." in want and doctest.OutputChecker().check_output(
        want + "\n", have + "\n", doctest.ELLIPSIS
    )


@dataclass
class Run:
    """What running the guide produced: stdout per block, the first error, the namespace."""

    outputs: dict[int, str]
    error: tuple[int, str] | None
    namespace: dict
    seconds: float
    cpu_seconds: float


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    workdir = tmp_path_factory.mktemp("guide")
    namespace: dict = {"__name__": "__guide__"}
    outputs: dict[int, str] = {}
    error = None
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()  # noqa: NPY002
    threads = torch.get_num_threads()
    # The models are tiny: one thread is as fast, and it avoids OpenMP threads spinning
    # against other processes on a small CI machine (10x slower with 2 threads then).
    torch.set_num_threads(1)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(workdir)
            for block in BLOCKS:
                # pad with newlines so tracebacks give the guide's own line numbers
                code = compile("\n" * (block.line - 1) + block.source, str(GUIDE), "exec")
                buffer = io.StringIO()
                try:
                    with contextlib.redirect_stdout(buffer):
                        exec(code, namespace)
                except Exception:
                    error = (block.line, traceback.format_exc())
                    break
                finally:
                    outputs[block.line] = buffer.getvalue()
    finally:
        torch.set_num_threads(threads)
        random.setstate(states[0])
        np.random.set_state(states[1])  # noqa: NPY002
        torch.set_rng_state(states[2])
    return Run(outputs, error, namespace, time.perf_counter() - wall, time.process_time() - cpu)


def test_guide_has_checked_examples():
    assert len(BLOCKS) >= 20
    checked = [b for b in BLOCKS if b.expected is not None and not b.varies]
    assert len(checked) >= 15, "most examples should show output that the test compares"
    assert all(b.expected is not None for b in BLOCKS if b.varies), (
        f"a '{VARIES}' block should show an example of its output"
    )


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block(run: Run, block: Block):
    if run.error is not None and run.error[0] < block.line:
        pytest.skip(f"an earlier block failed (docs/guide.md line {run.error[0]})")
    if run.error is not None and run.error[0] == block.line:
        pytest.fail(f"docs/guide.md line {block.line} raised:\n{run.error[1]}")
    got = run.outputs[block.line]
    if block.expected is None:
        assert not got.strip(), (
            f"docs/guide.md line {block.line} prints output the guide does not show:\n{got}"
        )
    elif block.varies:
        assert got.strip(), f"docs/guide.md line {block.line} should print something"
    else:
        assert _matches(block.expected, got), (
            f"docs/guide.md line {block.line} printed\n{got}\nbut the guide shows\n{block.expected}"
        )


def test_guide_objects_have_the_expected_structure(run: Run):
    if run.error is not None:
        pytest.skip("the guide did not run to the end")
    ns = run.namespace
    assert ns["model"].count_params() == 31_901
    assert ns["history"].epoch == [0, 1, 2]
    assert set(ns["history"].history) == {"loss", "mae", "val_loss", "val_mae"}
    assert all(np.isfinite(ns["history"].history["val_loss"]))
    report = ns["report"]
    table = report.to_frame()
    assert table.index.tolist() == [
        "model",
        "naive",
        "drift",
        "moving_average",
        "linear_ar",
        "arima",
    ]
    for column in (
        "mase",
        "theils_u",
        "skill_vs_naive_pct",
        "directional_accuracy",
        "directional_p_value",
        "dm_p_value",
    ):
        assert column in table.columns
    assert np.isfinite(table.loc["model", ["mase", "theils_u", "dm_p_value"]].astype(float)).all()
    verdict = str(report.verdict)
    assert "\n" not in verdict and report.verdict.outcome in {"beats", "level", "worse"}
    assert verdict.startswith(
        (
            "model beats naive",
            "model is significantly worse than naive",
            "no evidence of skill: model is level with naive",
        )
    )
    assert "MASE" in verdict and "direction" in verdict
    assert report.lag is not None and report.lag["best_lag"] in range(-3, 4)


def test_guide_links_point_to_existing_docs():
    text = GUIDE.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local, "the guide should link to the other docs"
    missing = [t for t in local if not (GUIDE.parent / t).exists()]
    assert not missing, f"broken links in docs/guide.md: {missing}"
