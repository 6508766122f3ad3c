"""Reference architectures: the seed listing's MLP, the MNIST-1D paper's 1-D CNN, a BioNIC-style image net."""

from biogrn.models._reference import Residual, bionic, cnn1d, cnn1d_kernels, cnn1d_length, mlp

__all__ = ["Residual", "bionic", "cnn1d", "cnn1d_kernels", "cnn1d_length", "mlp"]
