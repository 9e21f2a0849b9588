"""Exercise 4: the matrix product.

    y = a @ b            a: (N, K)   b: (K, M)   y: (N, M)
                         y[n, m] = sum_k a[n, k] b[k, m]

Derive dL/da, shape (N, K), and dL/db, shape (K, M), given gy = dL/dy,
shape (N, M). Work one element out from the sum, e.g. dL/da[n, k], then
recognise the sum over m as a matrix product. The shapes leave only one way
to multiply gy with the other operand: check each with (p, q) @ (q, r) -> (p, r).

    python -m lessons.exercises check matmul
"""
import minigrad as mg

from .checker import Case, sizes


class MatMul(mg.Function):
    def forward(self, a, b):
        return a @ b

    def backward(self, gy):
        raise NotImplementedError("dL/da[n, k] = sum_m gy[n, m] * (dy[n, m] / da[n, k]); what is dy[n, m]/da[n, k]?")


def cases(rng):
    """Three different sizes; a square product (a transpose keeps its shape there); one row; K = 1; one column."""
    n, k, m = sizes(rng, 3)
    for a_shape, b_shape in [((n, k), (k, m)), ((k, k), (k, k)), ((1, k), (k, m)), ((n, 1), (1, m)),
                             ((n, k), (k, 1))]:
        yield Case(rng.standard_normal(a_shape), rng.standard_normal(b_shape))
