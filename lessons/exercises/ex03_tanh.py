"""Exercise 3: the hyperbolic tangent.

    y = tanh(x) = (e^x - e^-x) / (e^x + e^-x)   x, y: one shape S

Derive dL/dx given gy = dL/dy, shape S, in terms of y (``self.output``).

    python -m lessons.exercises check tanh
"""
import numpy as np

import minigrad as mg

from .checker import Case, sizes


class Tanh(mg.Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        raise NotImplementedError("use the quotient rule on (e^x - e^-x) / (e^x + e^-x), then write it with y")


def cases(rng):
    """Ordinary values and saturated ones, a batch of one, a size-1 axis, a 0-d scalar."""
    n, d = sizes(rng, 2)
    for shape in [(n, d), (1, d), (n, 1), ()]:
        yield Case(2 * rng.standard_normal(shape))
