"""2:4 layers from policy "nm" on NVIDIA's sparse tensor cores, against the same layers dense.

    python simulations/benchmarks/semi_structured_speed.py                       # needs CUDA, sm80+
    python simulations/benchmarks/semi_structured_speed.py --widths 4096 --batches 8192 --dtype bfloat16

For each width, an MLP width-width-width-10 is regulated with policy "nm" (2 of every 4
consecutive inputs kept by gene score) on its two hidden layers, trained `--steps` Adam steps on
random data with one update every 10 (so the pattern follows the genes, as in training), and
`reg.remove()` bakes it in. In `--dtype`, `to_semi_structured` then swaps the hidden layers for
the semi-structured format, once with cuSPARSELt (PyTorch's default where it is built in) and
once with CUTLASS. Timed at each batch size, in interleaved rounds (dense, cuSPARSELt, CUTLASS,
then again), each a `torch.utils.benchmark` block median (CUDA-synchronised), the median over
rounds shown: one hidden layer alone (`F.linear`), and the whole forward pass. Also the largest
difference of the 2:4 forward from the dense one, relative to the dense output's largest entry.
"""

from __future__ import annotations

import argparse
import copy
import statistics

import torch
import torch.utils.benchmark as benchmark
from torch import nn
from torch.sparse import SparseSemiStructuredTensor

import biogrn
from biogrn.integrations.semi_structured import first_group_over, to_semi_structured

BACKENDS = {"cuSPARSELt": False, "CUTLASS": True}  # value: SparseSemiStructuredTensor._FORCE_CUTLASS


def nm_pruned(width: int, steps: int, device: torch.device) -> nn.Sequential:
    """An MLP whose hidden layers are 2:4 by gene score after `steps` regulated steps (float32)."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10)
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    reg = biogrn.regulate(model, optimizer=optimizer, policy="nm", start_epoch=0, layers=["0", "2"])
    x, y = torch.randn(256, width, device=device), torch.randint(0, 10, (256,), device=device)
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        reg.step()
        if step % 10 == 9 or step == steps - 1:
            reg.update()
    plain = reg.remove()
    for name in ("0", "2"):
        if first_group_over(plain.get_submodule(name).weight) is not None:
            raise AssertionError(f"layer {name} is not 2:4 after policy 'nm'")
    return plain


def block_median(fn, x) -> float:
    timer = benchmark.Timer(stmt="fn(x)", globals={"fn": fn, "x": x})
    return timer.blocked_autorange(min_run_time=0.2).median


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[1024, 4096, 8192])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 1024, 8192])
    parser.add_argument("--dtype", choices=["float16", "bfloat16"], default="float16")
    parser.add_argument("--steps", type=int, default=30, help="regulated training steps before the pattern is baked")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available() or torch.cuda.get_device_capability() < (8, 0):
        raise SystemExit("semi_structured_speed.py: needs a CUDA device of compute capability 8.0 or newer")
    device, dtype = torch.device("cuda"), getattr(torch, args.dtype)
    print(f"# 2:4 semi-structured against dense on {torch.cuda.get_device_name()}, torch {torch.__version__}, {dtype}")
    print("\n| width | batch | part | dense ms | cuSPARSELt ms | speed-up | CUTLASS ms | speed-up | max rel. diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    for width in args.widths:
        dense = nm_pruned(width, args.steps, device).to(dtype).eval()
        models = {"dense": dense}
        for backend, force_cutlass in BACKENDS.items():
            SparseSemiStructuredTensor._FORCE_CUTLASS = force_cutlass
            try:
                sparse = copy.deepcopy(dense)
                to_semi_structured(sparse, layers=["0", "2"])
                models[backend] = sparse
            except ValueError as error:
                print(f"{backend} unavailable for width {width}: {error}")
            finally:
                SparseSemiStructuredTensor._FORCE_CUTLASS = False
        for batch in args.batches:
            x = torch.randn(batch, width, device=device, dtype=dtype)
            parts = {
                "one hidden layer": {name: model[2] for name, model in models.items()},
                "forward pass": models,
            }
            with torch.inference_mode():
                reference = dense(x).float()
                scale = reference.abs().max()
                worst = max(
                    ((model(x).float() - reference).abs().max() / scale).item()
                    for name, model in models.items()
                    if name != "dense"
                )
                for part, fns in parts.items():
                    rounds = {name: [] for name in fns}
                    for _ in range(args.rounds):
                        for name, fn in fns.items():
                            rounds[name].append(block_median(fn, x))
                    ms = {name: statistics.median(times) * 1e3 for name, times in rounds.items()}
                    cells = []
                    for backend in BACKENDS:
                        if backend in ms:
                            cells += [f"{ms[backend]:.4f}", f"{ms['dense'] / ms[backend]:.2f}x"]
                        else:
                            cells += ["-", "-"]
                    print(f"| {width} | {batch} | {part} | {ms['dense']:.4f} | {' | '.join(cells)} | {worst:.1e} |",
                          flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
