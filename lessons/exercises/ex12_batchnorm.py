"""Exercise 12: batch normalisation in training mode.

    mean = 1/N sum_n x[n]          var = 1/N sum_n (x[n] - mean)^2       (per feature, over the batch)
    x_hat = (x - mean) / sqrt(var + eps)
    y = gamma * x_hat + beta

    x, x_hat, y: (N, D)   gamma, beta: (D,)   mean, var: (D,)

Derive dL/dx (N, D), dL/dgamma (D,) and dL/dbeta (D,) given gy = dL/dy, (N, D).
gamma and beta are broadcast over the batch (exercise 5). For x, mind that
mean and var depend on every x[n]: changing one sample moves the statistics
of the whole batch. Go through g = dL/dx_hat = gy * gamma, then dL/dvar
and dL/dmean, and collect the three paths from x[n] to L; the result fits in
one line in terms of g, x_hat, inv_std = 1/sqrt(var + eps) and means over the
batch. The forward keeps ``self.x_hat`` and ``self.inv_std`` (D,).

    python -m lessons.exercises check batchnorm
"""
import numpy as np

import minigrad as mg

from .checker import Case, sizes


class BatchNorm(mg.Function):
    def __init__(self, eps=1e-5):
        self.eps = eps

    def forward(self, x, gamma, beta):
        mean = x.mean(axis=0)
        var = x.var(axis=0)  # the biased variance (1/N), as used to normalise in training
        self.inv_std = 1 / np.sqrt(var + self.eps)
        self.x_hat = (x - mean) * self.inv_std
        return gamma * self.x_hat + beta

    def backward(self, gy):
        raise NotImplementedError("beta and gamma as a broadcast sum; for x follow x -> (mean, var) -> x_hat -> y")


def cases(rng):
    """A batch, the smallest batch (2), one feature, and inputs far from zero mean and unit variance."""
    n, d = sizes(rng, 2, low=3)
    for batch, features, scale, shift in [(n, d, 1, 0), (2, d, 1, 0), (n, 1, 1, 0), (n, d, 5, 3)]:
        yield Case(scale * rng.standard_normal((batch, features)) + shift, 1 + 0.5 * rng.standard_normal(features),
                   rng.standard_normal(features))
