"""Forecasting helpers on statsmodels' series, and the forecasting study end to end."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from biogrn.data import SERIES, lagged, load_series
from biogrn.runs import forecast_errors, seasonal_naive


@pytest.mark.parametrize(("name", "length"), [("sunspots", 309), ("elnino", 61 * 12)])
def test_series_ship_with_statsmodels(name, length):
    series = load_series(name)
    assert series.shape == (length,) and np.isfinite(series).all()


def test_co2_is_monthly_without_gaps():
    series = load_series("co2")
    assert np.isfinite(series).all() and 500 < len(series) < 540 and series[-1] > series[0]


def test_lagged_windows_and_seasonal_naive_by_hand():
    series = np.arange(10.0)
    x, y = lagged(series, 3)
    assert x.shape == (7, 3) and x[0].tolist() == [0, 1, 2] and y[0] == 3 and y[-1] == 9
    assert seasonal_naive(series, 4, 6).tolist() == [2, 3, 4, 5]
    assert forecast_errors([1, 2, 3], [2, 2, 5]) == {"mae": 1.0, "rmse": float(np.sqrt(5 / 3))}
    with pytest.raises(ValueError, match="start: 2 must be at least the period 4"):
        seasonal_naive(series, 4, 2)
    with pytest.raises(ValueError, match="series: 'ftse'"):
        load_series("ftse")
    assert set(SERIES) == {"sunspots", "co2", "elnino"}


def test_forecasting_study_compares_the_three_models(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "forecasting", Path(__file__).parents[2] / "simulations" / "forecasting.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--series", "sunspots", "--seeds", "0", "--epochs", "60", "--out", str(tmp_path)]) == 0
    result = xr.load_dataset(tmp_path / "forecasting.nc")
    assert list(result["model"].values) == ["seasonal naive", "dense MLP", "regulated MLP"]
    naive = result.sel(series="sunspots", model="seasonal naive", seed=0)
    series = load_series("sunspots")
    split = int(0.8 * len(series))
    assert np.isclose(float(naive["mae"]), np.abs(series[split:] - series[split - 11 : -11]).mean())
    assert float(result.sel(series="sunspots", model="regulated MLP", seed=0)["sparsity"]) > 0
    assert "| sunspots | regulated MLP |" in capsys.readouterr().out
