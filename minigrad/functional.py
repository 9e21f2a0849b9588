"""The F namespace learners import: every op as a plain function.

    import minigrad.functional as F
    h = F.sigmoid(F.linear(x, W, b))
"""
from .ops import (abs, avg_pool2d, binary_cross_entropy, binary_cross_entropy_with_logits, broadcast_to, clip,
                  concatenate, conv2d, conv_transpose2d, cos, cross_entropy, dropout, exp, gaussian_kl, leaky_relu,
                  linear, log, log_softmax, logsumexp, matmul, max, maximum, mean, min, minimum, mse_loss, relu,
                  reshape, sigmoid, sin, softmax, softplus, sqrt, stack, sum, sum_to, tanh, transpose, where)

__all__ = ["abs", "avg_pool2d", "binary_cross_entropy", "binary_cross_entropy_with_logits", "broadcast_to", "clip",
           "concatenate", "conv2d", "conv_transpose2d", "cos", "cross_entropy", "dropout", "exp", "gaussian_kl",
           "leaky_relu", "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min",
           "minimum", "mse_loss", "relu", "reshape", "sigmoid", "sin", "softmax", "softplus", "sqrt", "stack", "sum",
           "sum_to", "tanh", "transpose", "where"]
