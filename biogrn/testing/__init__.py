"""Reference solutions and hypothesis strategies, public so that users' tests can reuse them."""

from biogrn.testing._reference import linear_cascade

__all__ = ["linear_cascade"]
