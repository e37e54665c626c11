import datetime
import json
import math

import numpy as np
import pandas as pd

from rnncast._internal.jsonsafe import json_safe


def test_json_safe_makes_plain_data():
    value = {
        "float": np.float32(1.5),
        "nan": float("nan"),
        "inf": np.float64(math.inf),
        "int": np.int64(3),
        "bool": np.bool_(True),
        "none": None,
        "when": pd.Timestamp("2013-03-01"),
        "day": datetime.date(2013, 3, 4),
        pd.Timestamp("2013-03-05"): (1, 2),
        "series": pd.Series([1.0, np.nan], index=pd.bdate_range("2024-01-01", periods=2)),
    }
    safe = json_safe(value)
    assert safe == {
        "float": 1.5,
        "nan": None,
        "inf": None,
        "int": 3,
        "bool": True,
        "none": None,
        "when": "2013-03-01",
        "day": "2013-03-04",
        "2013-03-05": [1, 2],
        "series": {"2024-01-01": 1.0, "2024-01-02": None},
    }
    assert type(safe["int"]) is int and type(safe["bool"]) is bool
    json.dumps(safe, allow_nan=False)
