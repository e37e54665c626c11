"""Names and thresholds shared by the evaluation modules, each with the reason for its value."""

ALPHA = 0.05
"""Significance level of every test behind a claim (DM, direction, coverage)."""

MODEL, NAIVE = "model", "naive"
"""Keys of the forecast under test and of the naive forecast (tomorrow = today)."""

MATERIAL_SKILL_PCT = 1.0
"""Smallest MAE improvement over naive, in percent, that counts as a win.

A forecast that nests naive (it can always fall back to the last price) can be
"significantly" better by a hair: Diebold-Mariano is oversized for nested
forecasts (Clark & McCracken 2001), and a copy of yesterday's price that went
through float32 differs from naive by about 1e-7. A win must therefore be both
significant and material: at least 1 % lower MAE than naive.
"""

NAIVE_RTOL = 1e-5
"""Relative distance to the last price within which a forecast counts as naive.

float32 carries about 7 significant digits, so a model that copies the last
price through float32 lands within about 1e-7 of it; 1e-5 leaves margin and is
far below any daily move worth forecasting (a 0.001 % change).
"""

NAIVE_SHARE = 0.5
"""A model whose forecasts equal the last price on at least half the days repeats it."""
