"""Boolean models through pyboolnet (the `boolean` extra): `.bnet` rules and published models.

pyboolnet is imported only when a Boolean model is read, and quietly: it warns at import about
graph-drawing programs (Graphviz) that nothing here uses.
"""

from __future__ import annotations

import importlib
import logging
from contextlib import contextmanager

__all__ = ["bnet_primes", "pyboolnet"]


@contextmanager
def _pyboolnet_logging(level: int):
    logger = logging.getLogger("pyboolnet")
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def pyboolnet(module: str):
    # pyboolnet warns at import about graph-drawing programs (Graphviz) that nothing here uses
    with _pyboolnet_logging(logging.ERROR):
        try:
            return importlib.import_module(f"pyboolnet.{module}")
        except ImportError:
            raise ImportError("Boolean models need pyboolnet: pip install 'biogrn[boolean]'") from None


def bnet_primes(text: str) -> dict | None:
    """Prime implicants of `.bnet` text, or None where pyboolnet's BNetToPrime rejects it."""
    file_exchange = pyboolnet("file_exchange")
    with _pyboolnet_logging(logging.CRITICAL):  # a rejection becomes a DataError naming the line
        try:
            return file_exchange.bnet2primes(text)
        except Exception:
            return None
