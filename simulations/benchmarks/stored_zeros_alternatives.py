"""Where the per-step cost of stored zeros goes, and the alternatives to its two passes, side by side.

    cd simulations/benchmarks && python stored_zeros_alternatives.py [--batch 64] [--repeats 8]

With gate `mask` the regulator's step does two multi-tensor passes after `optimizer.step()`:
$\\sum g^2$ from `.grad` and the multiply of the weights by the mask. This script times each pass
alone, both, and the alternatives (stand-ins written here, not biogrn code): recording in a
post-accumulate-grad hook while the gradient is still in cache, and masking the gradient there
instead of the weight (Adam then leaves a pruned weight at zero only because its moments stay
zero). All run in alternating 50-step windows on the same MLP (2.1 M connections, Adam, about
60% pruned); the full regulator (`biogrn`) is timed with them. Then one micro-benchmark that the
gradient-mask variant calls for: `sqrt` over entries that are zero.
"""

from __future__ import annotations

import argparse

import torch
from regulator_overhead import interleaved_step_times, make_model, median_time, prune_once

import biogrn


class StoredZerosStandIn:
    """The regulator's per-step work on fixed random masks (60% pruned), with a choice of where each pass runs.

    Args:
        record: `after` the optimizer step (as biogrn), in a `hook` during backward, or `none`.
        mask: multiply the weights `after` the step (as biogrn), the `gradient` in the hook, or `none`.
    """

    def __init__(self, model: torch.nn.Module, record: str, mask: str):
        self.weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
        self.sums = [torch.zeros_like(w) for w in self.weights]
        generator = torch.Generator().manual_seed(0)
        self.masks = [(torch.rand(w.shape, generator=generator) > 0.6).float() for w in self.weights]
        self.record, self.mask = record, mask
        if record == "hook" or mask == "gradient":
            for weight, total, keep in zip(self.weights, self.sums, self.masks):
                weight.register_post_accumulate_grad_hook(self._hook(total, keep))

    def _hook(self, total: torch.Tensor, keep: torch.Tensor):
        @torch.no_grad()
        def hook(weight: torch.Tensor) -> None:
            if self.record == "hook":
                total.addcmul_(weight.grad, weight.grad)
            if self.mask == "gradient":
                weight.grad.mul_(keep)

        return hook

    @torch.no_grad()
    def step(self) -> None:
        if self.record == "after":
            grads = [w.grad for w in self.weights]
            torch._foreach_addcmul_(self.sums, grads, grads)
        if self.mask == "after":
            torch._foreach_mul_(self.weights, self.masks)


VARIANTS = {
    "plain": None,
    "biogrn (both passes, integration, Python)": "biogrn",
    "record after the step": ("after", "none"),
    "mask the weights after the step": ("none", "after"),
    "both after the step": ("after", "after"),
    "record in the hook, mask the weights after": ("hook", "after"),
    "record in the hook, mask the gradient there": ("hook", "gradient"),
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args(argv)
    device = torch.device("cpu")
    x, y = torch.randn(args.batch, 1024), torch.randint(0, 10, (args.batch,))
    runs = {}
    for label, variant in VARIANTS.items():
        model = make_model(device)
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)
        if variant == "biogrn":
            regulator = biogrn.regulate(model, optimizer=optimizer)
            prune_once(regulator, device)
        else:
            regulator = None if variant is None else StoredZerosStandIn(model, *variant)
        runs[label] = (model, optimizer, regulator, x, y)
    times = interleaved_step_times(runs, biogrn.RegulatorConfig().integrate_every, args.repeats, device)
    print(f"# {torch.get_num_threads()} threads, torch {torch.__version__}, batch {args.batch}\n")
    print("| variant (MLP 1024-1024-1024-10, Adam) | median ms per step | added |\n|---|---|---|")
    for label, t in times.items():
        print(f"| {label} | {t * 1e3:.3f} | {100 * (t / times['plain'] - 1):+.1f}% |")

    n = 2**20
    values = {"random in (0, 1)": torch.rand(n), "all zero": torch.zeros(n)}
    values["60% zero"] = torch.rand(n) * (torch.rand(n) > 0.6)
    out = torch.empty(n)
    print("\n| sqrt of 2^20 float32 (Adam's denominator) | median ms |\n|---|---|")
    for label, v in values.items():
        print(f"| {label} | {median_time(lambda v=v: torch.sqrt(v, out=out), device, 50) * 1e3:.3f} |")


if __name__ == "__main__":
    main()
