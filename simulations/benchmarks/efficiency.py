"""The seed paper's efficiency claims (50% smaller, 35% faster, no accuracy loss), measured.

    python simulations/benchmarks/efficiency.py [--hidden 128 64] [--rounds 30] [--threads 2]

Trains on digits (20 epochs, seed 0): a dense MLP; gene regulation with connection genes (the
`paper` policy, unstructured); gene regulation with unit genes (`target` 50%, structured). The
pruned models are baked into plain weights (`Regulator.remove`) and compacted for inference:
unstructured -> CSR weights (`compact_unstructured`), structured -> smaller dense layers
(`compact_structured`). For each variant: test accuracy, stored parameters, bytes of its
state_dict on disk, and CPU inference latency at batch 1 and 64 (median over interleaved rounds,
so machine noise hits every variant alike), with ratios to the dense model.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time

import torch
from torch.utils.data import DataLoader

from biogrn.regulation import compact_structured, compact_unstructured, count_parameters
from biogrn.runs import Trainer, evaluate, parse_run_config


def trained(config: dict, directory: str) -> torch.nn.Module:
    session = Trainer(parse_run_config(config), directory)
    session.create_directory()
    session.train(quiet=True, figures=False)
    model = session.regulator.remove() if session.regulator is not None else session.model
    return model.eval(), session


def disk_bytes(model: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def latencies(models: dict, batch: int, shape: tuple[int, ...], rounds: int, calls: int) -> dict[str, float]:
    """Median seconds per forward call on a batch of examples of `shape`, models interleaved."""
    x = torch.rand(batch, *shape)
    samples = {name: [] for name in models}
    with torch.inference_mode():
        for model in models.values():
            for _ in range(10):
                model(x)
        for _ in range(rounds):
            for name, model in models.items():
                start = time.perf_counter()
                for _ in range(calls):
                    model(x)
                samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(models: dict, accuracy: dict, timing: dict, unit: str) -> None:
    """The Markdown table of every variant against `dense`: accuracy, parameters, bytes, latency (µs or ms)."""
    scale = {"µs": 1e6, "ms": 1e3}[unit]
    dense_params, dense_bytes = count_parameters(models["dense"]), disk_bytes(models["dense"])
    print(
        "| variant | test acc. | parameters | x dense | bytes on disk | x dense | "
        f"batch 1 ({unit}) | x dense | batch 64 ({unit}) | x dense |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, model in models.items():
        params, size = count_parameters(model), disk_bytes(model)
        t1, t64 = timing[1][name], timing[64][name]
        print(
            f"| {name} | {accuracy[name] * 100:.2f}% | {params:,} | {params / dense_params:.2f} | {size:,} | "
            f"{size / dense_bytes:.2f} | {t1 * scale:.1f} | {t1 / timing[1]['dense']:.2f} | {t64 * scale:.1f} | "
            f"{t64 / timing[64]['dense']:.2f} |"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    base = {"seed": 0, "model": {"hidden": args.hidden}, "training": {"epochs": args.epochs}}
    configs = {
        "dense": {**base, "pruning": "none"},
        "gene, connection genes (paper)": {**base, "regulator": {"policy": "paper"}},
        "gene, unit genes (target 50%)": {
            **base,
            "regulator": {"policy": "target", "genes": "unit", "target_sparsity": 0.5},
        },
    }
    models, accuracy = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for i, (label, config) in enumerate(configs.items()):
            model, session = trained(config, f"{scratch}/{i}")
            loader = DataLoader(session.data.test, batch_size=512)
            if label == "dense":
                models["dense"] = model
            elif "connection" in label:
                models["connection genes, masked dense"] = model
                models["connection genes, CSR"] = compact_unstructured(model)
            else:
                models["unit genes, masked dense"] = model
                models["unit genes, compacted dense"] = compact_structured(model)
        for name, model in models.items():
            accuracy[name] = evaluate(model, loader, torch.device("cpu"))[1]
    features = session.data.n_features

    timing = {b: latencies(models, b, (features,), args.rounds, args.calls) for b in (1, 64)}
    print(
        f"MLP 64-{'-'.join(map(str, args.hidden))}-10 on digits, {args.epochs} epochs, seed 0; "
        f"torch {torch.__version__}, {args.threads} threads; median of {args.rounds} interleaved rounds "
        f"of {args.calls} calls\n"
    )
    print_table(models, accuracy, timing, unit="µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
