"""`import rnncast` stays light: heavy libraries load when a function first needs them."""

import subprocess
import sys

HEAVY = ("scipy.stats", "statsmodels", "matplotlib", "jinja2", "keras", "yfinance", "h5py")


def test_import_rnncast_loads_no_heavy_library():
    code = f"import sys, rnncast; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"import rnncast loads {loaded}; import them inside the functions"
