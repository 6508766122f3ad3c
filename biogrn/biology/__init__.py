"""Biological structure: connectome allow-masks, Dale's law, synaptic noise, Hebbian plasticity.

- `_connectome`: allow-masks from edge lists, sparse adjacencies, graphs, and generators
  (random, laminar, distance-dependent).
- `_synapses`: Dale's law with graded inhibition, fixed masks and synaptic noise as
  parametrizations.
- `_plasticity`: BCM plasticity with a sliding threshold.
"""

from biogrn.biology._connectome import (
    distance_mask,
    laminar_mask,
    mask_from_edge_list,
    mask_from_graph,
    mask_from_sparse,
    random_mask,
)
from biogrn.biology._plasticity import HebbianRule
from biogrn.biology._synapses import DaleSign, FixedMask, SynapticNoise, apply_dale, apply_noise, dale_signs

__all__ = [
    "DaleSign",
    "FixedMask",
    "HebbianRule",
    "SynapticNoise",
    "apply_dale",
    "apply_noise",
    "dale_signs",
    "distance_mask",
    "laminar_mask",
    "mask_from_edge_list",
    "mask_from_graph",
    "mask_from_sparse",
    "random_mask",
]
