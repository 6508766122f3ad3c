"""Independent random streams from one user seed.

Seeding two torch generators with the same integer gives them the same stream. The weights of
a model are drawn from the global generator seeded with the run's seed; if the regulator's
generator had the same seed, its "random" sparse start would keep exactly the weights the
initialiser drew smallest (they come from the same uniforms), and a sparse network would start
with almost only negative weights. Every stream therefore gets its own seed, derived from the
user's seed and the stream's name with numpy's `SeedSequence` (a hash designed for this).
"""

from __future__ import annotations

import numpy as np

__all__ = ["stream_seed"]


def stream_seed(seed: int, stream: str) -> int:
    """A 63-bit seed for the named stream, independent of `seed` itself and of other streams."""
    key = [int.from_bytes(stream.encode(), "little") % (2**32)] + list(stream.encode())
    sequence = np.random.SeedSequence(entropy=seed % 2**128, spawn_key=key)
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
