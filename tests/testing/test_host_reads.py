"""DeviceReads: the host reads of device state a GPU step would make, counted on the CPU."""

import torch
from torch import nn

import biogrn
from biogrn.testing import DeviceReads, optimizer_host_tensors, reachable_tensors


def operations(reads: DeviceReads) -> set[str]:
    return {operation for operation, _ in reads.sites}


def test_every_kind_of_read_of_device_state_is_counted_with_its_line():
    state = torch.randn(16)
    with DeviceReads([state]) as reads:
        derived = (state * 2).cumsum(0)  # computed from device state: device state too
        float(derived[-1])
        bool(derived.sum() > 0)
        derived[derived > 0]  # a boolean mask: its nonzeros first
        derived[derived < 0] = 0.0
        derived.tolist()
        derived.cpu()
        torch.unique(derived)
    assert operations(reads) >= {
        "_local_scalar_dense",
        "index (boolean mask)",
        "index_put_ (boolean mask)",
        "tolist",
        "cpu",
        "_unique2",
    }
    assert all(where.endswith(".py:" + where.rsplit(":", 1)[1]) and __file__ in where for _, where in reads.sites)


def test_tensors_outside_the_roots_and_excluded_ones_are_not_device_state():
    state, host = torch.randn(4), torch.tensor(3.0)
    with DeviceReads([state, host], exclude=[host]) as reads:
        float(host)
        float(torch.ones(2).sum())  # a factory tensor that never meets device state
        state.add_(1.0)  # computing on the device reads nothing back
    assert reads.total == 0
    host.grad = torch.tensor(1.0)  # the gradient of an excluded tensor is left out with it
    assert reachable_tensors([state, host], exclude=[host]) == [state]
    assert torch.Tensor.tolist is not None and "counted" not in torch.Tensor.tolist.__name__  # methods restored


def test_adam_keeps_its_step_on_the_host_unless_capturable():
    model = nn.Linear(4, 2)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(3, 4)).sum().backward()
    opt.step()
    assert [t.device.type for t in optimizer_host_tensors(opt)] == ["cpu", "cpu"]  # weight's and bias's
    found = reachable_tensors([model, opt])  # reached through the optimizer, its host steps are left out
    assert not any(t is step for t in found for step in optimizer_host_tensors(opt))
    assert any(t is opt.state[model.weight]["exp_avg_sq"] for t in found)
    opt.param_groups[0]["capturable"] = True  # then the step counter lives on the device with the moments
    assert optimizer_host_tensors(opt) == []


def test_the_regulators_host_check_on_the_cpu_is_seen():
    """The drive's CPU branch reads its layer sums back by design (free on a CPU): the counter sees it."""
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters())
    reg = biogrn.regulate(model, optimizer=opt, integrate_every=2)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(4, 8)).sum().backward()
        opt.step()
        with DeviceReads([reg, model, opt]) as reads:
            reg.step()
    assert reg.drive.host_checks and ("_local_scalar_dense" in operations(reads))
    assert any("regulation/_drive.py" in where for _, where in reads.sites)
