"""ResNet-18 pruned by unit genes, compacted through Torch-Pruning: size, CPU latency, accuracy.

    python simulations/benchmarks/resnet_compaction.py [--width 64] [--epochs 8] [--target 0.5] [--threads 2]

Trains on digits (upsampled to `--size` pixels, one channel; the data that ships offline) with
the same seed and batches: a dense ResNet-18, and one regulated with unit genes (the `target`
policy, one gene per output channel of every convolution, batch norms gated with their units).
The regulated model is baked (`Regulator.remove`) and its silent channels removed
(`biogrn.integrations.channels.compact_channels`). For each variant: test accuracy, stored
parameters, bytes of its state_dict, and CPU latency at batch 1 and 64 (median over interleaved
rounds, so machine noise hits every variant alike), with ratios to the dense model; how many
test predictions the masked and the compacted model share; and the cost of a training step with
the regulator attached against dense (interleaved blocks of `integrate_every` steps).
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from efficiency import latencies, print_table
from regulator_overhead import interleaved_step_times, train_step
from torch import nn

import biogrn
from biogrn.data import digits
from biogrn.integrations.channels import compact_channels
from biogrn.models import resnet18


def images(split, shape: tuple[int, ...], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = split.tensors
    x = x.reshape(-1, *shape)
    return nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False), y


def train(model, data, epochs: int, seed: int, regulate: dict | None):
    x, y = data
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    reg = biogrn.regulate(model, optimizer=opt, epochs=epochs, **regulate) if regulate is not None else None
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        for batch in torch.randperm(len(y), generator=generator).split(64):
            train_step(model, opt, reg, x[batch], y[batch])
        schedule.step()
        if reg is not None:
            reg.epoch_end()
        sparsity = f", unit sparsity {reg.sparsity():.1%}" if reg is not None else ""
        print(f"  epoch {epoch + 1}/{epochs}: {time.perf_counter() - start:.0f} s{sparsity}", flush=True)
    return model, opt, reg


@torch.inference_mode()
def predictions(model, x) -> torch.Tensor:
    return torch.cat([model(chunk).argmax(dim=1) for chunk in x.split(256)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=64, help="stem width (64: ResNet-18's 11.2 M parameters)")
    parser.add_argument("--size", type=int, default=32, help="image side the 8x8 digits are upsampled to")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--target", type=float, default=0.5, help="target share of pruned channels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--step-rounds", type=int, default=3, help="interleaved rounds of training-step timing")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    splits = digits(seed=args.seed)
    train_data, test_data = (images(part, splits.image_shape, args.size) for part in (splits.train, splits.test))
    regulated = {
        "genes": "unit",
        "policy": "target",
        "target_sparsity": args.target,
        "start_epoch": 1,
        "end_epoch": max(2, args.epochs - 2),
    }
    trained = {}
    for label, settings in (("dense", None), ("unit genes, masked", regulated)):
        print(f"{label}:", flush=True)
        torch.manual_seed(args.seed)
        trained[label] = train(resnet18(10, 1, args.width), train_data, args.epochs, args.seed, settings)
    # the training step's cost, regulated (at 50% of its units pruned) against dense, interleaved; the
    # timed steps train on, so every state is put back afterwards and the variants below are the trained ones
    saved = copy.deepcopy(
        {label: (m.state_dict(), o.state_dict(), r.state_dict() if r else None) for label, (m, o, r) in trained.items()}
    )
    batch = (train_data[0][:64], train_data[1][:64])
    runs = {label: (*run, *batch) for label, run in trained.items()}
    every = trained["unit genes, masked"][2].config.integrate_every
    steps = interleaved_step_times(runs, every, args.step_rounds, torch.device("cpu"))
    for label, (model, opt, reg) in trained.items():
        model.load_state_dict(saved[label][0])
        opt.load_state_dict(saved[label][1])
        if reg is not None:
            reg.load_state_dict(saved[label][2])
    models = {label: (reg.remove() if reg is not None else model).eval() for label, (model, _, reg) in trained.items()}
    masked = models["unit genes, masked"]
    compact, report = compact_channels(masked, test_data[0][:32])
    models["unit genes, compacted"] = compact

    accuracy, predicted = {}, {}
    for name, model in models.items():
        predicted[name] = predictions(model, test_data[0])
        accuracy[name] = float((predicted[name] == test_data[1]).float().mean())
    same = int((predicted["unit genes, masked"] == predicted["unit genes, compacted"]).sum())
    timing = {b: latencies(models, b, (1, args.size, args.size), args.rounds, args.calls) for b in (1, 64)}

    print(
        f"\nResNet-18 (width {args.width}) on digits at {args.size}x{args.size}, {args.epochs} epochs, seed "
        f"{args.seed}; torch {torch.__version__}, {args.threads} threads; latency: median of {args.rounds} "
        f"interleaved rounds of {args.calls} calls\n"
    )
    print_table(models, accuracy, timing, unit="ms")
    print(
        f"\nmasked and compacted agree on {same} of {len(test_data[1])} test predictions; largest output "
        f"difference on the check batch {report.largest_difference:.2g}"
    )
    dense_step, regulated_step = steps["dense"], steps["unit genes, masked"]
    print(
        f"training step (batch 64): dense {dense_step * 1e3:.0f} ms, regulated {regulated_step * 1e3:.0f} ms "
        f"({regulated_step / dense_step - 1:+.1%}; median of {args.step_rounds} interleaved "
        f"blocks of {every} steps, one integration each, after {2 * every} steps of warm-up)"
    )
    widths = {n: m.out_channels for n, m in masked.named_modules() if isinstance(m, nn.Conv2d)}
    print("channels removed per convolution (of its width):")
    print(", ".join(f"{n} {report.removed.get(n, 0)}/{w}" for n, w in widths.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
