"""Silent channels of a gene-pruned ResNet-18 removed through Torch-Pruning's dependency graph."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

pytest.importorskip("torch_pruning")

import biogrn
from biogrn.integrations.channels import compact_channels
from biogrn.models import resnet18

WIDTH = 4


def stream_writers(net: nn.Sequential) -> list[list[str]]:
    """The layers that add into each stage's residual stream: the stem or shortcut, and each block's conv2."""
    names = {module: name for name, module in net.named_modules()}
    stages, writers = [], [names[net[0]]]
    for i in range(3, 11):
        block = net[i]
        if len(block.shortcut):
            stages.append(writers)
            writers = [names[block.shortcut[0]]]
        writers.append(names[block.conv2])
    return [*stages, writers]


def train_a_little(model, reg, opt, seed):
    generator = torch.Generator().manual_seed(seed)
    for _ in range(3):
        x, y = torch.randn(6, 2, 12, 12, generator=generator), torch.randint(0, 5, (6,), generator=generator)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        reg.step()


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 2**16), st.floats(0.2, 0.8))
def test_resnet18_loses_exactly_its_silent_channels_and_computes_the_same(seed, pruned_share):
    torch.manual_seed(seed)
    net = resnet18(classes=5, channels=2, width=WIDTH)
    convs = {name: m for name, m in net.named_modules() if isinstance(m, nn.Conv2d)}
    generator = torch.Generator().manual_seed(seed)
    allow = {f"{n}.weight": torch.rand(m.out_channels, generator=generator) > pruned_share for n, m in convs.items()}
    first = stream_writers(net)[0]
    for name in first:  # one stage-1 stream channel silent in every layer that writes it
        allow[f"{name}.weight"][1] = False
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    reg = biogrn.regulate(net, optimizer=opt, genes="unit", allow=allow)
    train_a_little(net, reg, opt, seed)
    model = reg.remove().eval()
    example = torch.randn(4, 2, 12, 12)
    small, report = compact_channels(model, example)

    expected = {}
    for writers in stream_writers(net):
        dead = torch.stack([~allow[f"{w}.weight"] for w in writers]).all(dim=0)
        count = int(dead.sum()) - int(bool(dead.all()))  # a layer keeps one channel
        expected.update({w: count for w in writers if count})
    for name in convs:
        if name.endswith("conv1"):
            dead = ~allow[f"{name}.weight"]
            count = int(dead.sum()) - int(bool(dead.all()))
            if count:
                expected[name] = count
    assert report.removed == expected
    assert report.removed[first[0]] >= 1
    assert report.parameters_after < report.parameters_before
    other = torch.randn(7, 2, 12, 12)  # not the batch it was traced and checked on
    with torch.no_grad():
        torch.testing.assert_close(small(other), model(other), rtol=1e-4, atol=1e-5)
    for name, module in small.named_modules():
        if isinstance(module, nn.Conv2d):
            assert module.out_channels == convs[name].out_channels - expected.get(name, 0)


def test_the_classes_stay_and_an_unpruned_model_is_unchanged():
    torch.manual_seed(0)
    model = resnet18(classes=5, channels=2, width=WIDTH).eval()
    small, report = compact_channels(model, torch.randn(2, 2, 12, 12))
    assert report.removed == {} and report.parameters_after == report.parameters_before
    assert small[-1].out_features == 5


def test_a_group_that_maps_zero_to_something_else_is_refused():
    # sigmoid(0) = 1/2: a silent channel before it is not silent after it, so removing it would change the output
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Sigmoid(), nn.Conv2d(4, 3, 3))
    reg = biogrn.regulate(model, genes="unit", allow={"0.weight": torch.tensor([True, False, True, True])})
    model = reg.remove().eval()
    with pytest.raises(ValueError, match="changed the output by up to .*nothing was removed"):
        compact_channels(model, torch.randn(2, 1, 8, 8))


def test_a_gated_model_and_unknown_layers_are_refused():
    model = resnet18(classes=5, channels=2, width=WIDTH)
    with pytest.raises(ValueError, match="keep_layers: \\['nope'\\] are not modules"):
        compact_channels(model, torch.randn(2, 2, 12, 12), keep_layers=["nope"])
    biogrn.regulate(model, genes="unit", gate="hill")
    with pytest.raises(ValueError, match="still carry a gene gate"):
        compact_channels(model, torch.randn(2, 2, 12, 12))


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning")
def test_a_compacted_resnet_exports_to_onnx_and_onnxruntime_agrees(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from biogrn.integrations.export import export_onnx

    torch.manual_seed(1)
    net = resnet18(classes=5, channels=2, width=WIDTH)
    convs = [(n, m) for n, m in net.named_modules() if isinstance(m, nn.Conv2d)]
    allow = {f"{n}.weight": torch.rand(m.out_channels) > 0.5 for n, m in convs}
    model = biogrn.regulate(net, genes="unit", allow=allow).remove().eval()
    small, report = compact_channels(model, torch.randn(3, 2, 12, 12))
    assert report.parameters_after < report.parameters_before
    assert export_onnx(small, torch.randn(3, 2, 12, 12), tmp_path / "small.onnx") < 1e-5


def test_the_callers_model_keeps_its_mode_and_a_changed_output_shape_is_refused():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        model[2].weight[1] = 0
        model[2].bias[1] = 0  # output 1 is silent: removable only when nothing keeps it
    model.train()
    compact_channels(model, torch.randn(5, 3))
    assert model.training
    with pytest.raises(ValueError, match=r"changed the output's shape from \(5, 2\) to \(5, 1\); name the output"):
        compact_channels(model, torch.randn(5, 3), keep_layers=[])
