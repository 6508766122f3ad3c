"""Reference architectures: the seed listing's MLP, the MNIST-1D paper's 1-D CNN, ResNet-18, BioNIC-style."""

from biogrn.models._reference import BasicBlock, Residual, bionic, cnn1d, cnn1d_kernels, cnn1d_length, mlp, resnet18

__all__ = ["BasicBlock", "Residual", "bionic", "cnn1d", "cnn1d_kernels", "cnn1d_length", "mlp", "resnet18"]
