"""Shared ground of every layer: errors, validation rules, memory estimates, atomic files, random
streams, tables, the reading boundary, segment reductions, scratch buffers, sparse indices.

Nothing here imports another part of biogrn.
"""

from biogrn.core._atomic import atomic_write, remove_stale_temporaries
from biogrn.core._errors import CheckpointError, ConfigError, DataError, DivergedError, cause, format_validation_error
from biogrn.core._memory import available_bytes, format_bytes, require_memory
from biogrn.core._nonzero import sparse_nonzero
from biogrn.core._parameters import stored_parameter
from biogrn.core._reading import Reading, check_hdf5, inside_root, npy_bytes, read_text, reading
from biogrn.core._scratch import Scratch
from biogrn.core._segments import mask_bits, segment_counts, segment_nonzero, segment_sums
from biogrn.core._streams import stream_seed
from biogrn.core._tables import missing_columns, quoted, read_table, refuse_repeated_names
from biogrn.core._validation import STRICT, Section, Seed

__all__ = [
    "STRICT",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DivergedError",
    "Reading",
    "Scratch",
    "Section",
    "Seed",
    "atomic_write",
    "available_bytes",
    "cause",
    "check_hdf5",
    "format_bytes",
    "format_validation_error",
    "inside_root",
    "mask_bits",
    "missing_columns",
    "npy_bytes",
    "quoted",
    "read_table",
    "read_text",
    "reading",
    "refuse_repeated_names",
    "remove_stale_temporaries",
    "require_memory",
    "segment_counts",
    "segment_nonzero",
    "segment_sums",
    "sparse_nonzero",
    "stored_parameter",
    "stream_seed",
]
