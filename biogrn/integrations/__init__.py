"""biogrn inside the training loops users already have.

- `lightning`: `GeneRegulation`, a PyTorch Lightning callback (the `lightning` extra).

Each integration imports its framework only when it is imported itself.
"""
