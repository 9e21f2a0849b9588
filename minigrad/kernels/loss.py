"""The loss kernels: binary cross-entropy in place, and a sum of squares as one dot product.

Each kernel sits beside its plain reference (``*_reference``), the formula as the textbook writes it;
tests/test_kernels_pointwise.py checks that the two agree.
"""
import numpy as np

from .. import backend


def binary_cross_entropy(p, t):
    """-(t log p + (1 - t) log(1 - p)) per element, each log clamped at -100 (as PyTorch).

    The same numbers as the reference: (t - 1) log(1 - p) - t log p is -(t log p + (1 - t) log(1 - p))
    regrouped, exactly, and neither form cancels when t is 0 or 1. Faster (by ~10% on a 128x784 float32
    batch): nine passes in place in three arrays instead of ten passes that each allocate a new one.
    log(1 - p) rather than log1p(-p) in both forms: NumPy's log1p is a scalar loop, ~5x slower than log,
    and rounding 1 - p first costs at most half an ulp of 1 (6e-8 in float32), in absolute terms.
    """
    xp = backend.get_array_module(p)
    log_p = xp.empty_like(p)  # out= arrays: NumPy would give a 0-d result back as a scalar
    log_q = xp.subtract(1, p, out=xp.empty_like(p))
    with np.errstate(divide="ignore"):  # log 0 = -inf, clamped to -100 next
        xp.log(p, out=log_p)
        xp.log(log_q, out=log_q)
    xp.maximum(log_p, -100, out=log_p)
    xp.maximum(log_q, -100, out=log_q)
    loss = t - 1
    loss *= log_q
    log_p *= t
    loss -= log_p
    return loss


def binary_cross_entropy_reference(p, t):
    xp = backend.get_array_module(p)
    with np.errstate(divide="ignore"):
        log_p = xp.maximum(xp.log(p), -100)
        log_q = xp.maximum(xp.log(1 - p), -100)
    return -(t * log_p + (1 - t) * log_q)


def sum_of_squares(x):
    """sum(x^2) over every element, as the dot product x . x.

    Faster (about 2x on a 100x784 float32 array): BLAS reads x once and writes nothing, where
    ``(x * x).sum()`` writes the squares out and reads them back. The two sum in different orders, so they
    agree to rounding (every term is >= 0: nothing cancels).
    """
    flat = x.reshape(-1)
    return flat @ flat


def sum_of_squares_reference(x):
    return (x * x).sum()
