"""Exercise 8: the leaky ReLU.

    y = x if x > 0 else slope * x                 x, y: one shape S;  slope: a constant (0.2 here)

Derive dL/dx given gy = dL/dy, shape S. The function is piecewise linear:
its derivative is one constant on each side of 0 (the kink at exactly 0 never
occurs in the checks). A boolean mask such as ``x > 0`` on the input's array
picks the side.

    python -m lessons.exercises check leaky_relu
"""
import numpy as np

import minigrad as mg

from .checker import Case, sizes


class LeakyReLU(mg.Function):
    def __init__(self, slope=0.2):
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, self.slope * x)

    def backward(self, gy):
        raise NotImplementedError("the slope of y is 1 where x > 0 and self.slope elsewhere; apply it to gy")


def cases(rng):
    """Both signs in a batch, a batch of one, a size-1 axis, another slope, a 0-d scalar."""
    n, d = sizes(rng, 2)
    for shape, slope in [((n, d), 0.2), ((1, d), 0.2), ((n, 1), 0.2), ((n, d), 0.01), ((), 0.2)]:
        x = rng.standard_normal(shape)
        yield Case(x + np.copysign(0.01, x), slope=slope)  # at least 0.01 from the kink, far beyond eps
