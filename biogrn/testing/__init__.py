"""Reference solutions and test instruments, public so that users' tests can reuse them.

- `_reference`: `linear_cascade`, the closed form of Eq. 1 with a constant drive.
- `_host_reads`: `DeviceReads`, the host reads of device state a GPU step would make, counted on the CPU.
"""

from biogrn.testing._host_reads import DeviceReads, optimizer_host_tensors, reachable_tensors
from biogrn.testing._reference import linear_cascade

__all__ = ["DeviceReads", "linear_cascade", "optimizer_host_tensors", "reachable_tensors"]
