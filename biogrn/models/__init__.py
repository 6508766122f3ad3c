"""Reference architectures: the seed listing's MLP and a BioNIC-style network for images."""

from biogrn.models._reference import Residual, bionic, cnn1d, cnn1d_length, mlp

__all__ = ["Residual", "bionic", "cnn1d", "cnn1d_length", "mlp"]
