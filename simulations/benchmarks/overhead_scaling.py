"""How the regulator's added time per step grows with model size, `integrate_every` and `record_every`.

    cd simulations/benchmarks && python overhead_scaling.py                      # CPU: MLPs to 2 M
    python overhead_scaling.py --device cuda --widths 256 1024 3584 7168 --resnet # GPU: to 100 M+, ResNet-18

Each row runs a plain and a regulated copy of the same model in alternating blocks of one
integration interval, after one prune + rewire update of the regulated copy (about 60% pruned),
and prints the median time per step and the ratio. Models: MLPs `width x 3` hidden layers on
1024-dimensional inputs (0.1 M to 100 M+ connections), and with `--resnet` a ResNet-18 (He et al.
2016, CIFAR variant: 3x3 stem, no max-pool) on random 32x32 images, batch 128, every
convolution and linear layer regulated. Random data: this measures cost, not accuracy.
"""

from __future__ import annotations

import argparse

import torch
from regulator_overhead import interleaved_step_times, prune_once
from torch import nn

import biogrn
from biogrn.models import resnet18


def mlp(width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(1024, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))


def overhead(build, x, y, device, repeats: int, **settings) -> tuple[float, float, int]:
    """Median seconds per step, plain and regulated, and the number of regulated connections."""
    every = biogrn.RegulatorConfig(**settings).integrate_every
    runs = {}
    for label in ("plain", "regulated"):
        torch.manual_seed(0)
        model = build().to(device)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        reg = None
        if label == "regulated":
            reg = biogrn.regulate(model, optimizer=opt, **settings)
            prune_once(reg, device, x, y)
        runs[label] = (model, opt, reg, x, y)
    times = interleaved_step_times(runs, every, repeats, device)
    connections = sum(t.original.numel() for t in runs["regulated"][2].tensors)
    return times["plain"], times["regulated"], connections


def row(name: str, connections: int, plain: float, regulated: float) -> str:
    return (f"| {name} | {connections / 1e6:.2f} M | {plain * 1e3:.3f} | {regulated * 1e3:.3f} | "
            f"{(regulated / plain - 1) * 100:+.1f}% |")  # fmt: skip


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--every", type=int, nargs="+", default=[10, 25, 50, 100], help="integrate_every values")
    parser.add_argument("--record", type=int, nargs="+", default=[1, 2, 5], help="record_every values")
    parser.add_argument("--resnet", action="store_true", help="also ResNet-18 on 32x32 images, batch 128")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"# regulator overhead against size and integrate_every on {name}, torch {torch.__version__}")
    x = torch.randn(args.batch, 1024, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)

    header = "| model | regulated connections | plain ms | regulated ms | added |\n|---|---|---|---|---|"
    print(f"\n## against model size (batch {args.batch}, default settings)\n\n{header}")
    for width in args.widths:
        plain, regulated, n = overhead(lambda width=width: mlp(width), x, y, device, args.repeats)
        print(row(f"MLP 1024-{width}-{width}-10", n, plain, regulated), flush=True)
    if args.resnet:
        images = torch.randn(128, 3, 32, 32, device=device)
        labels = torch.randint(0, 10, (128,), device=device)
        plain, regulated, n = overhead(resnet18, images, labels, device, args.repeats)
        print(row("ResNet-18, 32x32, batch 128", n, plain, regulated), flush=True)

    width = args.widths[-1]
    print(f"\n## against integrate_every (MLP 1024-{width}-{width}-10, batch {args.batch})\n")
    print("| integrate_every | gamma_m, gamma_p | plain ms | regulated ms | added |\n|---|---|---|---|---|")
    for every in args.every:
        # keep one RK4 step per interval admissible: h * gamma_max <= 1 (the defaults' 50 x 0.02)
        gamma_m = min(0.02, 1.0 / every)
        settings = dict(integrate_every=every, gamma_m=gamma_m, gamma_p=gamma_m / 2)
        plain, regulated, _ = overhead(lambda: mlp(width), x, y, device, args.repeats, **settings)
        print(f"| {every} | {gamma_m:g}, {gamma_m / 2:g} | {plain * 1e3:.3f} | {regulated * 1e3:.3f} | "
              f"{(regulated / plain - 1) * 100:+.1f}% |", flush=True)  # fmt: skip

    print(f"\n## against record_every (MLP 1024-{width}-{width}-10, batch {args.batch})\n")
    print("| record_every | plain ms | regulated ms | added |\n|---|---|---|---|")
    for record_every in args.record:
        plain, regulated, _ = overhead(lambda: mlp(width), x, y, device, args.repeats, record_every=record_every)
        print(f"| {record_every} | {plain * 1e3:.3f} | {regulated * 1e3:.3f} | {(regulated / plain - 1) * 100:+.1f}% |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
