"""The README's commands and example are the ones CI runs."""

import re
from pathlib import Path

import numpy as np

import rnncast as rc

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)


def test_two_fresh_machine_commands_install_and_run():
    main_job, tests = (block.strip() for block in bash_blocks()[:2])
    assert main_job.startswith("python3 -m venv .venv") and main_job.endswith("rnncast run")
    assert tests.startswith("python3 -m venv .venv") and "pytest" in tests
    assert '"torch==2.13.0"' in main_job and '"torch==2.13.0"' in tests


def test_ci_runs_exactly_the_readme_test_command():
    tests = bash_blocks()[1].strip()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci_lines


def test_python_example_runs(tmp_path, monkeypatch):
    example = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)[0]
    assert "epochs=20" in example
    monkeypatch.chdir(tmp_path)  # it saves models/aapl
    namespace: dict = {}
    exec(compile(example.replace("epochs=20", "epochs=1"), "README.md", "exec"), namespace)
    assert namespace["X_train"].shape == (2230, 60, 1)
    assert namespace["model"].count_params() == 31_901
    X_val = namespace["X_val"]
    np.testing.assert_array_equal(
        namespace["same"].predict(X_val), namespace["model"].predict(X_val)
    )
    prices, val = namespace["prices"][:, 0], namespace["val"]["close"].to_numpy()
    assert np.all(np.abs(prices / val - 1) < 0.5)  # one epoch: price level, not accuracy

    forecaster = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)[1]
    exec(compile(forecaster.replace("epochs=20", "epochs=1"), "README.md", "exec"), namespace)
    assert list(namespace["report"].to_frame().index)[:2] == ["model", "naive"]
    assert namespace["report"].verdict.outcome in {"beats", "level", "worse"}
    assert "naive" in str(namespace["report"].verdict)
    assert isinstance(namespace["fc"], rc.Forecaster) and namespace["fc"].train_info_["rows"] > 0
