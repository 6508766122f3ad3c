"""Groups of examples for group-wise evaluation: real ones from a metadata CSV, or a simulated
group shift when a data set has none.

- `read_groups(path, key, group)`: a CSV mapping each example (by file name or row number) to
  its group, e.g. a culture, region or demographic annotation that a user holds.
- `GroupShift`: group-specific transformations of any image data set, so that an
  under-represented group can be studied where no real group labels exist. Everything it
  produces is a *simulation* and is labelled so in the results. Group g has its own fixed
  gamma $\\gamma_g$, contrast $c_g$, brightness offset $b_g$ and horizontal shift $s_g$ pixels:
  $x \\mapsto \\mathrm{clip}(c_g (\\mathrm{shift}_{s_g}(x)^{\\gamma_g} - 0.5) + 0.5 + b_g, 0, 1)$;
  group 0 is the identity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from biogrn.core import DataError, read_table

__all__ = ["GroupShift", "assign_groups", "read_groups"]


def read_groups(path: str | Path, key_column: str, group_column: str = "group") -> dict[str, str]:
    """`{key: group}` from a CSV with a header; keys are compared as strings.

    Raises:
        DataError: a column is missing, a key or group is empty, or a key is given twice (the
            message names the file and the line).
    """
    path = Path(path)
    table = read_table(path, (key_column, group_column))
    keys, groups = table[key_column].str.strip(), table[group_column].str.strip()
    for row in np.flatnonzero((keys == "").to_numpy() | (groups == "").to_numpy()):
        raise DataError(f"{path}: line {row + 2}: empty {key_column if keys.iloc[row] == '' else group_column}")
    duplicated = keys.duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise DataError(f"{path}: line {row + 2}: {key_column} {keys.iloc[row]!r} is given twice")
    return dict(zip(keys, groups))


def assign_groups(keys: list[str], groups: dict[str, str], source: str) -> np.ndarray:
    """The group of every example, looked up by its key.

    Raises:
        DataError: an example's key has no group (the first such key is named).
    """
    missing = [k for k in keys if k not in groups]
    if missing:
        raise DataError(f"{source}: {len(missing)} example(s) have no group; the first key is {missing[0]!r}")
    return np.asarray([groups[k] for k in keys], dtype=object)


class GroupShift:
    """A fixed, seeded appearance shift per group (group 0 unchanged); a simulation.

    Args:
        n_groups: number of groups.
        strength: 0 (no shift) to 1 (gamma in [0.4, 2.5], contrast in [0.5, 1.5], brightness
            offsets within +-0.2, shifts within +-20% of the width).
        seed: the groups' parameters.
    """

    def __init__(self, n_groups: int, strength: float = 1.0, seed: int = 0):
        if n_groups < 1 or not 0 <= strength <= 1:
            raise ValueError(f"GroupShift: n_groups >= 1 and strength in [0, 1]; got {n_groups}, {strength}")
        rng = np.random.default_rng(seed)
        log_gamma = rng.uniform(-1, 1, n_groups) * strength * np.log(2.5)
        self.gamma = np.exp(log_gamma)
        self.contrast = 1 + rng.uniform(-0.5, 0.5, n_groups) * strength
        self.brightness = rng.uniform(-0.2, 0.2, n_groups) * strength
        self.shift = rng.uniform(-0.2, 0.2, n_groups) * strength
        for values, identity in ((self.gamma, 1.0), (self.contrast, 1.0), (self.brightness, 0.0), (self.shift, 0.0)):
            values[0] = identity

    def __call__(self, images: Tensor, groups: Tensor) -> Tensor:
        """Shift `(n, c, h, w)` images in [0, 1], each by its group's parameters."""
        if images.dim() != 4 or len(groups) != len(images):
            raise ValueError(
                f"images (n, c, h, w) and groups (n,): got {tuple(images.shape)} and {tuple(groups.shape)}"
            )
        if groups.min() < 0 or groups.max() >= len(self.gamma):
            raise ValueError(f"groups: ids must be in 0..{len(self.gamma) - 1}")
        out = torch.empty_like(images)
        width = images.shape[-1]
        for g in torch.unique(groups).tolist():  # a loop over groups, each a batched transformation
            chosen = groups == g
            x = torch.roll(images[chosen], round(self.shift[g] * width), dims=-1)
            x = x.clamp(0, 1) ** float(self.gamma[g])
            out[chosen] = (float(self.contrast[g]) * (x - 0.5) + 0.5 + float(self.brightness[g])).clamp(0, 1)
        return out
