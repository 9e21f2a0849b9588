"""The ops, one file per family. Each op is a Function with forward and backward side by side."""
from .activation import dropout, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from .conv import conv2d, conv_transpose2d
from .elementwise import abs, add, clip, div, exp, log, maximum, minimum, mul, neg, pow, sqrt, sub, where
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, gaussian_kl,
                   mse_loss)
from .matmul import linear, matmul
from .pool import avg_pool2d
from .reduce import logsumexp, max, mean, min, sum
from .shape import broadcast_to, concatenate, getitem, reshape, stack, sum_to, transpose
