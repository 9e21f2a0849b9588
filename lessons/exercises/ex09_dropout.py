"""Exercise 9: inverted dropout, with its mask.

    y = x * mask,   mask[i] = 0 with probability p, else 1 / (1 - p)     x, y, mask: one shape S

Scaling the kept elements by 1/(1 - p) keeps the expected value of y equal to
x, so nothing changes at test time. Derive dL/dx given gy = dL/dy, shape S.
The forward keeps the mask (as an array) in ``self.mask``.

Here the mask comes from a generator seeded by ``seed``, so every call with
the same seed drops the same elements. A real dropout layer draws a new mask
each step; the checker needs a fixed one, because central differences run the
forward many times and compare the results.

    python -m lessons.exercises check dropout
"""
import numpy as np

import minigrad as mg

from .checker import Case, sizes


class Dropout(mg.Function):
    def __init__(self, p=0.5, seed=0):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p, self.seed = p, seed

    def forward(self, x):
        keep = np.random.default_rng(self.seed).random(x.shape) >= self.p
        self.mask = keep / (1 - self.p)
        return x * self.mask

    def backward(self, gy):
        raise NotImplementedError("y is x times a constant mask: which elements of gy reach x, scaled by what?")


def cases(rng):
    """p = 0.5 on a batch, a batch of one, p = 0.2 with three axes, nothing dropped (p = 0), most dropped (p = 0.8)."""
    n, d = sizes(rng, 2)
    for shape, p in [((n, d), 0.5), ((1, d), 0.5), ((2, n, d), 0.2), ((n, d), 0.0), ((n, d), 0.8)]:
        yield Case(rng.standard_normal(shape), p=p, seed=int(rng.integers(2**31)))
