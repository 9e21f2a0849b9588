"""Exercise 10: the dense (fully connected) layer.

    y = x @ W + b        x: (N, I)   W: (I, O)   b: (O,)   y: (N, O)
                         y[n, o] = sum_i x[n, i] W[i, o] + b[o]

Derive dL/dx (N, I), dL/dW (I, O) and dL/db (O,) given gy = dL/dy, (N, O).
It is exercise 4 (the product) and exercise 5 (b is broadcast over the N
rows of the batch) in one layer.

    python -m lessons.exercises check dense
"""
import minigrad as mg

from .checker import Case, sizes


class Dense(mg.Function):
    def forward(self, x, W, b):
        return x @ W + b

    def backward(self, gy):
        raise NotImplementedError("x and W as in the matmul exercise; b was used once per row of the batch")


def cases(rng):
    """Three different sizes, a batch of one, one input feature, one output."""
    n, i, o = sizes(rng, 3)
    for batch, inp, out in [(n, i, o), (1, i, o), (n, 1, o), (n, i, 1)]:
        yield Case(rng.standard_normal((batch, inp)), rng.standard_normal((inp, out)), rng.standard_normal(out))
