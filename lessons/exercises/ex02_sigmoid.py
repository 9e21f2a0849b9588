"""Exercise 2: the logistic sigmoid.

    y = sigmoid(x) = 1 / (1 + exp(-x))          x, y: one shape S

Derive dL/dx given gy = dL/dy, shape S. Write dsigmoid/dx in terms of y itself:
the forward's result is there as ``self.output``, so backward needs no exp.

    python -m lessons.exercises check sigmoid
"""
import numpy as np

import minigrad as mg

from .checker import Case, sizes


class Sigmoid(mg.Function):
    def forward(self, x):
        return np.exp(-np.logaddexp(0.0, -x))  # 1 / (1 + e^-x) without overflow for very negative x

    def backward(self, gy):
        raise NotImplementedError("differentiate (1 + e^-x)^-1 with the chain rule, then rewrite e^-x using y")


def cases(rng):
    """Values up to about +-6, where sigmoid saturates; a batch of one; a size-1 axis; a 0-d scalar."""
    n, d = sizes(rng, 2)
    for shape in [(n, d), (1, d), (n, 1), ()]:
        yield Case(3 * rng.standard_normal(shape))
