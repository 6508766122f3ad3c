"""Forecasting real series with a gene-regulated MLP, the dense MLP and the seasonal naive forecast.

    python simulations/forecasting.py                          # sunspots, co2, elnino; 3 seeds
    python simulations/forecasting.py --series co2 --epochs 300

Each series is split in time: the last 20% is held out; the models see the earlier part only
(standardised with its mean and deviation). Inputs are the previous `lags` values (two seasonal
periods); forecasts are one step ahead from observed history. The MLP is lags-64-32-1 (ReLU),
Adam lr 1e-3, full-batch; the regulated one attaches biogrn's `paper` policy (pruning after a
third of the epochs, once per 10 steps). Prints MAE and RMSE on the held-out tail (original units)
and writes OUT/forecasting.nc.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import xarray as xr

import biogrn
from biogrn.data import SERIES, lagged, load_series
from biogrn.models import mlp
from biogrn.runs import REGRESSION, forecast_errors, seasonal_naive, train_epoch

MODELS = ("seasonal naive", "dense MLP", "regulated MLP")


def fit_mlp(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, regulated: bool):
    torch.manual_seed(seed)
    model = mlp([x.shape[1], 64, 32, 1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    regulator = (
        biogrn.regulate(
            model, optimizer=optimizer, epochs=epochs // 10, start_epoch=epochs // 30, integrate_every=5, seed=seed
        )
        if regulated
        else None
    )
    batch = [(x, y)] * 10  # an "epoch" of the regulator is 10 full-batch steps
    for _ in range(epochs // 10):
        loss, _ = train_epoch(model, batch, optimizer, torch.device("cpu"), regulator, objective=REGRESSION)
        if regulator is not None:
            regulator.epoch_end(-loss)
    return model.eval(), (regulator.sparsity() if regulator is not None else 0.0)


def one_series(name: str, seeds: list[int], epochs: int) -> dict:
    series, period = load_series(name), SERIES[name]
    lags = 2 * period
    split = int(0.8 * len(series))
    mean, std = series[:split].mean(), series[:split].std()
    x, y = lagged((series - mean) / std, lags)
    train = slice(0, split - lags)  # targets before the split
    test = slice(split - lags, len(y))  # targets series[split:]
    truth = series[split:]
    results = {"seasonal naive": [forecast_errors(truth, seasonal_naive(series, period, split))] * len(seeds)}
    for label, regulated in (("dense MLP", False), ("regulated MLP", True)):
        runs = []
        for seed in seeds:
            model, sparsity = fit_mlp(x[train], y[train], epochs, seed, regulated)
            with torch.no_grad():
                prediction = model(x[test]).squeeze(1).numpy() * std + mean
            runs.append({**forecast_errors(truth, prediction), "sparsity": sparsity})
        results[label] = runs
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", nargs="+", default=list(SERIES), choices=list(SERIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=600, help="full-batch Adam steps (a multiple of 10)")
    parser.add_argument("--out", default="runs/forecasting")
    args = parser.parse_args(argv)

    table = {name: one_series(name, args.seeds, args.epochs) for name in args.series}
    shape = (len(args.series), len(MODELS), len(args.seeds))
    data = {
        metric: np.array([[[run.get(metric, 0.0) for run in table[s][m]] for m in MODELS] for s in args.series])
        for metric in ("mae", "rmse", "sparsity")
    }
    result = xr.Dataset(
        {k: (("series", "model", "seed"), v.reshape(shape)) for k, v in data.items()},
        coords={"series": args.series, "model": list(MODELS), "seed": args.seeds},
    )
    Path(args.out).mkdir(parents=True, exist_ok=True)
    result.to_netcdf(Path(args.out) / "forecasting.nc", engine="netcdf4")
    print(f"one-step-ahead forecasts of the last 20% of each series; {len(args.seeds)} seeds, {args.epochs} steps\n")
    print("| series | model | MAE | RMSE | sparsity |\n|---|---|---|---|---|")
    for s in args.series:
        for m in MODELS:
            cell = result.sel(series=s, model=m)
            spread = (lambda v: float(v.std(ddof=1))) if len(args.seeds) > 1 else (lambda v: 0.0)
            print(
                f"| {s} | {m} | {float(cell['mae'].mean()):.3f} ± {spread(cell['mae']):.3f} | "
                f"{float(cell['rmse'].mean()):.3f} ± {spread(cell['rmse']):.3f} | "
                f"{100 * float(cell['sparsity'].mean()):.1f}% |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
