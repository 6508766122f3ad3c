"""Pruned models out to ONNX (`pip install biogrn[export]`), checked against PyTorch.

    model = reg.remove()                                  # bake mask and gate into plain weights
    export_onnx(model, example_batch, "model.onnx")      # written atomically, checked by onnxruntime

The export goes through torch.export and `torch.onnx.export` (the dynamo exporter), with the
batch axis dynamic. Pruned weights are exact zeros in the graph's initializers: an ONNX runtime
or a sparse-aware compiler sees the sparsity. The exported graph is run by onnxruntime on the
example and compared with PyTorch's output before the file is moved into place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from biogrn.core import atomic_write
from biogrn.regulation import gated_modules

__all__ = ["export_onnx"]


def export_onnx(
    model: nn.Module, example: torch.Tensor, path: str | Path, rtol: float = 1e-4, atol: float = 1e-5
) -> float:
    """Export `model` (in eval mode) for inputs like `example` (batch first) and check it.

    Returns:
        The largest absolute difference between onnxruntime's and PyTorch's outputs on `example`.

    Raises:
        ValueError: the model still carries a gene gate (call `reg.remove()` first), or the
            exported graph's output differs from PyTorch's beyond `rtol` and `atol` (no file is
            written then).
    """
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(f"export_onnx needs onnx and onnxruntime: pip install 'biogrn[export]' ({error})") from None

    gated = gated_modules(model)
    if gated:
        raise ValueError(f"model: {', '.join(gated)} still carry a gene gate; export the model reg.remove() returns")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = model(example).detach().cpu().numpy()
        batch = torch.export.Dim("batch", min=1)

        def write(tmp: Path) -> None:
            program = torch.onnx.export(
                model,
                (example,),
                dynamo=True,
                dynamic_shapes=({0: batch},),
                input_names=["input"],
                output_names=["output"],
            )
            program.save(str(tmp))
            session = onnxruntime.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
            got = session.run(None, {"input": example.detach().cpu().numpy()})[0]
            if not np.allclose(got, expected, rtol=rtol, atol=atol):
                raise ValueError(
                    f"{path}: the exported graph's output differs from PyTorch's by up to "
                    f"{np.abs(got - expected).max():.3g}; nothing written"
                )
            difference[0] = float(np.abs(got - expected).max())

        difference = [0.0]
        atomic_write(path, write)
        return difference[0]
    finally:
        model.train(was_training)
