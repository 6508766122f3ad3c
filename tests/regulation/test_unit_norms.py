"""A pruned unit is silent after the batch norm that reads it: the norm's gamma and beta carry its gene."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.models import resnet18


class ConvBnNet(nn.Module):
    """conv -> bn -> relu, twice, the second into a residual addition; a Linear head."""

    def __init__(self, width: int = 6):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(2, width, 3, padding=1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width)
        self.head = nn.Linear(width, 3)

    def forward(self, x):
        hidden = torch.relu(self.bn1(self.conv1(x)))
        hidden = torch.relu(self.bn2(self.conv2(hidden)) + hidden)
        return self.head(hidden.mean(dim=(2, 3)))


def norm_outputs(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    seen = {}
    hooks = [
        module.register_forward_hook(lambda _, __, out, name=name: seen.__setitem__(name, out.detach()))
        for name, module in model.named_modules()
        if isinstance(module, nn.BatchNorm2d)
    ]
    model(x)
    for hook in hooks:
        hook.remove()
    return seen


def train(model, reg, opt, steps: int = 4, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = torch.randn(8, 2, 6, 6, generator=generator), torch.randint(0, 3, (8,), generator=generator)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        reg.step()


def test_each_unit_layer_is_paired_with_the_norm_that_reads_it():
    model = ConvBnNet()
    reg = biogrn.regulate(model, genes="unit")
    assert reg.attachment.norms == [model.bn1, model.bn2]
    net = resnet18(classes=4, channels=2, width=4)
    reg = biogrn.regulate(net, genes="unit")
    norms = [n for n in reg.attachment.norms if n is not None]
    assert len(norms) == 20 == sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())  # every conv has its norm


def test_connection_genes_and_norm_free_models_trace_nothing():
    model = ConvBnNet()
    reg = biogrn.regulate(model, genes="connection")
    assert reg.attachment.norms == [None, None, None]
    mlp = biogrn.models.mlp([4, 5, 3])
    assert biogrn.regulate(mlp, genes="unit").attachment.norms == [None]


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(["mask", "hill"]), st.integers(0, 2**16), st.lists(st.booleans(), min_size=6, max_size=6))
def test_a_pruned_unit_is_exactly_zero_after_its_norm_in_training_and_evaluation(gate, seed, keep):
    torch.manual_seed(seed)
    model = ConvBnNet()
    allow = {"conv1.weight": torch.tensor(keep), "conv2.weight": torch.ones(6, dtype=torch.bool)}
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    reg = biogrn.regulate(model, optimizer=opt, genes="unit", gate=gate, allow=allow)
    train(model, reg, opt, seed=seed)
    pruned = ~torch.tensor(keep)
    x = torch.randn(5, 2, 6, 6)
    for mode in (True, False):
        model.train(mode)
        out = norm_outputs(model, x)["bn1"]
        assert torch.count_nonzero(out[:, pruned]) == 0
        if (~pruned).any():
            assert torch.count_nonzero(out[:, ~pruned]) > 0
    plain = reg.remove().eval()
    assert torch.count_nonzero(norm_outputs(plain, x)["bn1"][:, pruned]) == 0  # baked in by remove()
    assert not hasattr(plain.bn1, "parametrizations")


def test_without_the_norm_gate_a_pruned_unit_would_output_the_norms_constant():
    # the reason for the gate: the same pruned unit read by an ungated norm is not silent
    torch.manual_seed(0)
    model = ConvBnNet()
    with torch.no_grad():
        model.conv1.weight[0] = 0
        model.bn1.bias.fill_(0.3)
    assert torch.count_nonzero(norm_outputs(model.eval(), torch.randn(2, 2, 6, 6))["bn1"][:, 0]) > 0


def test_a_regrown_unit_starts_with_a_fresh_norm():
    model = ConvBnNet()
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    reg = biogrn.regulate(model, optimizer=opt, genes="unit")
    train(model, reg, opt)
    with torch.no_grad():
        model.bn1.running_mean.fill_(0.7)
    unit = torch.zeros(reg.genes.n_genes, dtype=torch.bool)
    unit[2] = True  # conv1's unit 2
    reg._apply(unit, torch.zeros_like(unit))  # the regulator's own edit path, as an update takes it
    assert model.bn1.weight[2] == 0 and model.bn1.bias[2] == 0
    assert opt.state[model.bn1.weight]["exp_avg"][2] == 0
    reg._apply(torch.zeros_like(unit), unit)
    assert model.bn1.weight[2] == 1 and model.bn1.bias[2] == 0
    assert model.bn1.running_mean[2] == 0 and model.bn1.running_var[2] == 1
    assert model.bn1.running_mean[3] == pytest.approx(0.7)


def test_a_norm_without_affine_parameters_is_refused():
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3, affine=False), nn.Flatten(), nn.Linear(3, 2))
    with pytest.raises(ValueError, match=r"layers: 0.weight's units are read by a batch norm without affine"):
        biogrn.regulate(model, genes="unit")


class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.bn, self.head = nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Linear(3, 2)

    def forward(self, x):
        if x.sum() > 0:  # data-dependent control flow: torch.fx cannot trace it
            x = -x
        return self.head(self.bn(self.conv(x)).mean(dim=(2, 3)))


def test_an_untraceable_model_is_regulated_with_a_warning_that_names_the_cost():
    with pytest.warns(UserWarning, match="torch.fx cannot trace it .* outputs the norm's constant"):
        reg = biogrn.regulate(Untraceable(), genes="unit")
    assert reg.attachment.norms == [None]
