"""Exercise 14: binary cross-entropy on logits, in its stable form.

    p = sigmoid(z)
    L = -mean(t log p + (1 - t) log(1 - p))               the textbook form
      =  mean(max(z, 0) - z t + log(1 + exp(-|z|)))       the same value, as the forward computes it

    z (the logits), t (the targets, in [0, 1], a constant: no gradient): (N, D)   L: () a scalar, the mean
    over all N*D elements

The first form breaks down for large |z|: p rounds to exactly 0 or 1 and a log
of 0 follows; the second never takes the exp of a large number. Derive dL/dz,
(N, D), given gy = dL/dloss (a 0-d Tensor). Differentiate the first form with
d/dz log p = 1 - p and d/dz log(1 - p) = -p: the terms collapse into one short
expression with no log and no division left. The forward keeps p as
``self.probs`` (computed without overflow).

    python -m lessons.exercises check bce_with_logits
"""
import numpy as np

import minigrad as mg

from .checker import Case, sizes


class BCEWithLogits(mg.Function):
    def __init__(self, target):
        self.target = target

    def forward(self, z):
        self.probs = np.exp(-np.logaddexp(0.0, -z))
        return np.mean(np.maximum(z, 0) - z * self.target + np.log1p(np.exp(-np.abs(z))))

    def backward(self, gy):
        raise NotImplementedError("d/dz of -(t log p + (1 - t) log(1 - p)), with dp/dz = p (1 - p), is short: "
                                  "what is it? Then the mean's 1/(N*D) and gy")


def cases(rng):
    """Soft targets; hard 0/1 targets with one logit per sample (a binary classifier); a batch of one; saturated
    logits (|z| from 20 to 40), where p is 0 or 1 to the last bit and a gradient with log p or 1 / p turns nan."""
    n, d = sizes(rng, 2)
    yield Case(2 * rng.standard_normal((n, d)), target=rng.random((n, d)))
    yield Case(2 * rng.standard_normal((n, 1)), target=rng.integers(0, 2, (n, 1)).astype(np.float64))
    yield Case(2 * rng.standard_normal((1, d)), target=rng.random((1, d)))
    yield Case(rng.choice([-1.0, 1.0], (n, d)) * rng.uniform(20, 40, (n, d)),
               target=rng.integers(0, 2, (n, d)).astype(np.float64))
