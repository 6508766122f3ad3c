"""biogrn inside the training loops users already have.

- `lightning`: `GeneRegulation`, a PyTorch Lightning callback (the `lightning` extra).
- `transformers`: `GeneRegulationCallback`, a Hugging Face Trainer callback (the `transformers` extra).
- `_summary`: what both log of a regulator each epoch.

Each integration imports its framework only when it is imported itself.
"""

from biogrn.integrations._summary import regulator_summary

__all__ = ["regulator_summary"]
