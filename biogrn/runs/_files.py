"""The files of a run directory, named once."""

from __future__ import annotations

__all__ = ["CHECKPOINT_FILE", "CONFIG_FILE", "RECORDS_FILE"]

CONFIG_FILE = "config.json"
"""The run's full configuration, written before training starts."""
CHECKPOINT_FILE = "checkpoint.pt"
"""Everything a killed run needs to continue identically, replaced after every epoch."""
RECORDS_FILE = "records.nc"
"""The records (NetCDF-4), replaced after every epoch; `complete` = 1 once the test split is scored."""
