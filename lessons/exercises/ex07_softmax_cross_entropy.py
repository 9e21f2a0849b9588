"""Exercise 7: softmax followed by cross-entropy, averaged over the batch.

    p[n, :] = softmax(logits[n, :]),   p[n, c] = exp(logits[n, c]) / sum_j exp(logits[n, j])
    L = -1/N sum_n log p[n, labels[n]]

    logits: (N, C)   labels: (N,) integer classes, a constant (no gradient)   L: () a scalar

Derive dL/dlogits, shape (N, C), given gy = dL/dloss (a 0-d Tensor). Write
log p[n, y] = logits[n, y] - log sum_j exp(logits[n, j]) and differentiate
that: the two terms give a one-hot row and the softmax. The forward keeps the
softmax as ``self.probs``.

    python -m lessons.exercises check softmax_cross_entropy
"""
import numpy as np

import minigrad as mg

from .checker import Case, sizes


class SoftmaxCrossEntropy(mg.Function):
    def __init__(self, labels):
        self.labels = labels

    def forward(self, logits):
        shifted = logits - logits.max(axis=1, keepdims=True)  # same softmax, no overflow in exp
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.probs = np.exp(log_probs)
        return -log_probs[np.arange(len(logits)), self.labels].mean()

    def backward(self, gy):
        raise NotImplementedError("d/dlogits[n, c] of log p[n, y] is (1 if c == y else 0) minus what? Then the 1/N")


def cases(rng):
    """A batch, a batch of one, two classes, a single class (the loss is 0, and so is its gradient)."""
    n, c = sizes(rng, 2)
    for batch, classes in [(n, c), (1, c), (n, 2), (n, 1)]:
        yield Case(2 * rng.standard_normal((batch, classes)), labels=rng.integers(0, classes, size=batch))
