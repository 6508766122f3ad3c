"""biogrn inside the training loops users already have.

- `lightning`: `GeneRegulation`, a PyTorch Lightning callback (the `lightning` extra).
- `transformers`: `GeneRegulationCallback`, a Hugging Face Trainer callback (the `transformers` extra).
- `export`: `export_onnx`, a pruned model to ONNX, checked by onnxruntime (the `export` extra).
- `channels`: `compact_channels`, silent channels removed from conv nets through Torch-Pruning (the `export` extra).
- `semi_structured`: `to_semi_structured`, 2:4-sparse linear layers onto NVIDIA's sparse tensor cores, checked first.
- `_summary`: what both callbacks log of a regulator each epoch.

Each integration imports its framework only when it is imported itself.
"""

from biogrn.integrations._summary import regulator_summary

__all__ = ["regulator_summary"]
