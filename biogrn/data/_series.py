"""Time series for forecasting with regulated models: real series that ship inside statsmodels.

- `load_series(name)`: `sunspots` (yearly sunspot activity 1700-2008, cycle 11), `co2` (Mauna Loa
  weekly CO2 1958-2001, gaps interpolated, averaged per month, cycle 12), `elnino` (monthly sea
  surface temperatures 1950-2010, cycle 12).
- `lagged(series, lags)`: one-step-ahead examples: the previous `lags` values predict the next.

simulations/forecasting.py compares a gene-regulated MLP, the same MLP dense, and the seasonal
naive forecast on the held-out tail of each series (one-step-ahead forecasts from observed
history).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["SERIES", "lagged", "load_series"]

SERIES = {"sunspots": 11, "co2": 12, "elnino": 12}
"""Each series and its seasonal period (in its own time steps)."""


def load_series(name: str) -> np.ndarray:
    """The named series as a float64 array, oldest first.

    Raises:
        ValueError: an unknown name.
    """
    try:
        import statsmodels.api as sm
    except ImportError as error:
        raise ImportError("the series ship with statsmodels: pip install 'biogrn[timeseries]'") from error
    if name == "sunspots":
        return sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(np.float64)
    if name == "co2":
        weekly = sm.datasets.co2.load_pandas().data["co2"].interpolate()
        return weekly.resample("MS").mean().dropna().to_numpy(np.float64)
    if name == "elnino":
        table = sm.datasets.elnino.load_pandas().data
        return table.drop(columns="YEAR").to_numpy(np.float64).reshape(-1)
    raise ValueError(f"series: {name!r} is unknown; choose from {sorted(SERIES)}")


def lagged(series: np.ndarray, lags: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`x[i] = series[i : i + lags]`, `y[i] = series[i + lags]` (float32)."""
    if not 1 <= lags < len(series):
        raise ValueError(f"lags: {lags} must be in 1..{len(series) - 1}")
    windows = np.lib.stride_tricks.sliding_window_view(series, lags + 1).astype(np.float32)  # a writable copy
    return torch.from_numpy(windows[:, :-1].copy()), torch.from_numpy(windows[:, -1].copy())
