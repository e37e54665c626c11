"""The leak-free data pipeline: validate, split by time, cut windows, scale.

Example:
    >>> import rnncast as rc
    >>> frame = rc.datasets.load_sample("AAPL")
    >>> train, val, test = rc.data.chronological_split(frame, val=0.15, test=0.15)
    >>> win = rc.data.Windowizer(lookback=60, features=["close"], target="close")
    >>> X_train, y_train = win.fit_transform(train)
    >>> X_train.shape[1:], y_train.shape[1:]
    ((60, 1), (1,))
"""

from rnncast._internal.windows import Windows, window_view
from rnncast.data.calendar import next_trading_days, non_sessions
from rnncast.data.scalers import Scaler
from rnncast.data.split import Split, chronological_split
from rnncast.data.targets import TARGET_TRANSFORMS
from rnncast.data.validation import validate
from rnncast.data.windowizer import Windowizer

__all__ = [
    "TARGET_TRANSFORMS",
    "Scaler",
    "Split",
    "Windowizer",
    "Windows",
    "chronological_split",
    "next_trading_days",
    "non_sessions",
    "validate",
    "window_view",
]
