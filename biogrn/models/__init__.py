"""Reference architectures: the seed listing's MLP and a BioNIC-style network for images."""

from biogrn.models._reference import bionic, mlp

__all__ = ["bionic", "mlp"]
