"""minigrad.nn: Module, Parameter, Sequential, layers, activations and initialisers.

    from minigrad import nn
    model = nn.Sequential(nn.Conv2D(1, 16, 3, stride=2, padding="same"), nn.ReLU(),
                          nn.Flatten(), nn.Dense(16 * 14 * 14, 10))
    nn.init.xavier_uniform_(model[-1].weight)   # another start than PyTorch's default

Layers start from PyTorch's default initialisation (each layer's docstring
says which); call ``nn.init`` functions on ``.weight`` / ``.bias`` after
building a layer to start it otherwise.
"""
from . import init
from .layers import (BatchNorm1D, BatchNorm2D, Conv2D, ConvTranspose2D, Dense, Dropout, Flatten, LeakyReLU, ReLU,
                     Reshape, Sigmoid, Softplus, Tanh)
from .module import Module, Parameter, Sequential
from .pool import AvgPool2D

__all__ = ["AvgPool2D", "BatchNorm1D", "BatchNorm2D", "Conv2D", "ConvTranspose2D", "Dense", "Dropout", "Flatten",
           "LeakyReLU", "Module", "Parameter", "ReLU", "Reshape", "Sequential", "Sigmoid", "Softplus", "Tanh", "init"]
