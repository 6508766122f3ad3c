"""ONNX export of pruned models, run by onnxruntime against PyTorch."""

import pytest
import torch
from torch import nn

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
onnx = pytest.importorskip("onnx")

import biogrn  # noqa: E402
from biogrn.integrations.export import export_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning")


def conv_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))


@pytest.mark.parametrize("gate", ["mask", "hill"])
@pytest.mark.parametrize("genes", ["connection", "unit"])
def test_a_pruned_model_exports_and_onnxruntime_agrees(tmp_path, gate, genes):
    torch.manual_seed(0)
    model = conv_net()
    reg = biogrn.regulate(
        model,
        gate=gate,
        genes=genes,
        start_epoch=0,
        epochs=2,
        policy="target",
        target_sparsity=0.5,
        initial_sparsity=0.5,
    )
    reg.update()
    model = reg.remove()
    pruned = int((model[0].weight == 0).sum() + (model[4].weight == 0).sum())
    assert reg.sparsity() >= 0.5 and pruned > 0
    path = tmp_path / "model.onnx"
    difference = export_onnx(model, torch.randn(5, 1, 8, 8), path)
    assert difference < 1e-5
    graph = onnx.load(str(path)).graph
    weights = [onnx.numpy_helper.to_array(i) for i in graph.initializer]
    assert sum(int((w == 0).sum()) for w in weights if w.ndim >= 2) >= pruned  # the zeros travel as zeros
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    other_batch = torch.randn(17, 1, 8, 8)  # the batch axis is dynamic
    got = session.run(None, {"input": other_batch.numpy()})[0]
    torch.testing.assert_close(torch.from_numpy(got), model.eval()(other_batch).detach(), rtol=1e-4, atol=1e-5)


def test_a_model_still_gated_is_refused_and_nothing_is_written(tmp_path):
    model = conv_net()
    biogrn.regulate(model, gate="hill")
    with pytest.raises(ValueError, match="still carry a gene gate; export the model reg.remove"):
        export_onnx(model, torch.randn(2, 1, 8, 8), tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())
