"""The regulator under DistributedDataParallel: two processes (gloo), different data per rank.

On the CPU, and on a GPU where there is one: both processes on `cuda:0`, gloo carrying the CUDA
tensors (its all-reduce and broadcast take them; NCCL refuses two ranks on one GPU).

Every policy, both gates: gene state, masks, tau, sigma, history and weights are bitwise equal on
the two ranks after several updates (compared with all_gather); on the stored-zeros path a 2-rank
run equals a 1-rank run on the same global batch (masks equal, weights within float tolerance).
"""

import subprocess
import sys
import textwrap

import pytest
import torch

WORKER = textwrap.dedent(
    """
    import copy, os, sys
    import torch, torch.distributed as dist
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel
    import biogrn

    rank, world, init, device = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], torch.device(sys.argv[4])
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    CASES = [("paper", "mask"), ("paper", "hill"), ("target", "mask"), ("magnitude", "mask"), ("set", "mask"),
             ("rigl", "mask"), ("listing", "mask"), ("paper", "hebbian"), ("target", "movement"),
             ("target", "hill-movement"), ("movement", "mask")]
    B, EPOCHS, STEPS = 8, 4, 6

    def flat_state(reg, model):  # on the CPU: gloo gathers CPU tensors only
        taus = [t for update in reg.history for t in update["tau"]]
        parts = [reg.genes.y.flatten().double().cpu(), reg.mask.double().cpu(), torch.tensor(taus, dtype=torch.float64),
                 torch.tensor([reg.sigma, float(len(reg.history))], dtype=torch.float64)]
        parts += [p.detach().flatten().double().cpu() for p in model.parameters()]
        return torch.cat(parts)

    for policy, gate in CASES:
        drive = {"hebbian": "hebbian", "movement": "movement", "hill-movement": "movement"}.get(gate, "taylor")
        gate = {"hebbian": "mask", "movement": "mask", "hill-movement": "hill"}.get(gate, gate)
        settings = dict(policy=policy, gate=gate, drive=drive, integrate_every=3, start_epoch=0, epochs=EPOCHS,
                        target_sparsity=0.5, drop_fraction=0.3, tau_sigmas=0.0, seed=7)
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).to(device)
        reference = copy.deepcopy(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
        reg = biogrn.regulate(model, optimizer=optimizer, **settings)  # before DDP wraps the model
        ddp = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
        ref_optimizer = torch.optim.Adam(reference.parameters(), lr=0.02)
        ref_reg = biogrn.regulate(reference, optimizer=ref_optimizer, **settings)
        for epoch in range(EPOCHS):
            for step in range(STEPS):
                g = torch.Generator().manual_seed(1000 * epoch + step)
                x, y = torch.randn(world * B, 16, generator=g), torch.randint(0, 4, (world * B,), generator=g)
                x, y = x.to(device), y.to(device)
                local = slice(rank * B, (rank + 1) * B)
                optimizer.zero_grad()
                nn.functional.cross_entropy(ddp(x[local]), y[local]).backward()
                optimizer.step()
                reg.step()
                ref_optimizer.zero_grad()
                nn.functional.cross_entropy(reference(x), y).backward()
                ref_optimizer.step()
                ref_reg.step()
            metrics = [0.5 + 0.1 * r + 0.01 * epoch for r in range(world)]
            reg.epoch_end(metrics[rank])
            ref_reg.epoch_end(sum(metrics) / world)
        state = flat_state(reg, model)
        gathered = [torch.empty_like(state) for _ in range(world)]
        dist.all_gather(gathered, state)
        histories = [None] * world
        dist.all_gather_object(histories, reg.history)
        name = f"{policy}/{gate}/{drive}"
        bits = [g.view(torch.int64) for g in gathered]  # bitwise: NaN taus (baselines) compare equal too
        assert all(torch.equal(bits[0], other) for other in bits[1:]), f"{name}: ranks differ"
        assert all(repr(h) == repr(histories[0]) for h in histories[1:]), f"{name}: histories differ"
        assert reg.sparsity() > 0, f"{name}: nothing was pruned"
        # the movement policy keeps pruned weights under a gate; the other mask-gated runs store zeros
        stored_zeros = gate == "mask" and policy not in ("listing", "movement") and drive in ("taylor", "movement")
        if stored_zeros:  # the drive reads DDP's averaged gradient: the global batch's
            assert torch.equal(reg.mask, ref_reg.mask), f"{name}: masks differ from the 1-rank run"
            for p, q in zip(model.parameters(), reference.parameters()):
                torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5, msg=f"{name}: weights")
            assert reg.bytes_reduced == 0, f"{name}: the stored-zeros path sends nothing"
        else:
            assert reg.bytes_reduced > 0, f"{name}: rank-local records were not reduced"
        reg.remove()
        ref_reg.remove()
        del ddp  # DDP's reducer holds the process group: release it before the group is destroyed
    dist.barrier()  # no rank tears gloo down while the other still talks to it
    dist.destroy_process_group()
    print("ok", rank, flush=True)
    # Every check has passed. Leave without the interpreter's finalisation: gloo's C++ threads can
    # still be torn down there and abort the process after a clean destroy_process_group (seen
    # here once in about ten runs, "terminate called without an active exception" after "ok";
    # pytorch/pytorch#190489 and the abandoned #179291 describe the same teardown).
    os._exit(0)
    """
)


@pytest.mark.parametrize(
    "device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"))]
)
def test_every_rank_holds_the_same_genes_masks_and_history_under_ddp(tmp_path, device):
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    init = tmp_path / "rendezvous"
    processes = [
        subprocess.Popen(
            [sys.executable, "-X", "faulthandler", str(worker), str(rank), "2", str(init), device],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    report = "\n".join(
        f"rank {rank}: exit {p.returncode}\nstdout: {out[-1000:]}\nstderr: {err[-3000:]}"
        for rank, (p, (out, err)) in enumerate(zip(processes, outputs))
    )
    for rank, (process, (out, _)) in enumerate(zip(processes, outputs)):
        assert process.returncode == 0 and f"ok {rank}" in out, report


def test_a_layer_sharded_by_fsdp2_is_refused_by_name_and_the_others_may_be_regulated(tmp_path):
    import torch.distributed as dist
    from torch import nn
    from torch.distributed.fsdp import fully_shard

    import biogrn

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'one'}", rank=0, world_size=1)
    try:
        model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
        fully_shard(model[0])
        with pytest.raises(ValueError, match=r"layers: 0.weight is sharded across ranks \(FSDP2's fully_shard\)"):
            biogrn.regulate(model)
        reg = biogrn.regulate(model, layers=["2"])
        assert [t.name for t in reg.tensors] == ["2.weight"]
    finally:
        dist.destroy_process_group()


def test_on_one_process_nothing_is_reduced():
    from torch import nn

    import biogrn

    model = nn.Sequential(nn.Linear(4, 6))
    reg = biogrn.regulate(model, gate="hill", integrate_every=1)
    model(torch.randn(3, 4)).sum().backward()
    reg.step()
    assert reg.bytes_reduced == 0 and reg.sync.world_size == 1
