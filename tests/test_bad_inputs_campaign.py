"""A representative slice of the bad-input campaign (benchmarks/bad_inputs.py): no case may
end in a raw traceback, a silent wrong answer, a vague error or a refused valid input."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bad_inputs.py"


def load():
    spec = importlib.util.spec_from_file_location("bad_inputs", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bad_inputs", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_sample_of_every_group_ends_in_clear_errors_or_right_answers():
    campaign = load()
    groups = tuple(g for g in campaign.GROUPS if g != "faults")  # faults: own tests
    cases = campaign.collect(groups, quick=True, cli_cases=False)
    assert len(cases) >= 90
    results = campaign.run(cases)
    bad = [
        f"{r.case.group}: {r.case.name}: {r.outcome}: {r.detail[:200]}"
        for r in results
        if r.outcome not in ("clear", "accepted", "skipped")
    ]
    assert bad == []
    counts = campaign.table(results)
    assert counts["total"]["clear"] > 0 and counts["total"]["accepted"] > 0


def test_the_outcome_check_itself():
    campaign = load()
    error = campaign.Case("g", "n", lambda t: None, names=("lookback|horizon", "42"))
    assert campaign.names_all("lookback must be positive, got 42", error.names)
    assert not campaign.names_all("must be positive, got 42", error.names)
    raise_value = campaign.Case("g", "n", lambda t: int("x"))
    assert campaign.run_case(raise_value).outcome == "traceback"
    silent = campaign.Case("g", "n", lambda t: 1)
    assert campaign.run_case(silent).outcome == "silent"
    cli = campaign.CliResult(1, "", "rnncast: failed: TypeError: x (use --debug for the traceback)")
    assert campaign.classify_cli(error, cli)[0] == "traceback"
