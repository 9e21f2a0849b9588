"""Exercise 6: the mean-squared error.

    L = mean((p - t)^2) = 1/(N*D) sum_{n,d} (p[n, d] - t[n, d])^2      p, t: (N, D)   L: () a scalar

Derive dL/dp and dL/dt, both (N, D), given gy = dL/dloss, a 0-d Tensor (in a
network it is 1; the checker uses other values, so keep it). Count the
constants: one from the square, one from the mean.

    python -m lessons.exercises check mse
"""
import minigrad as mg

from .checker import Case, sizes


class MSE(mg.Function):
    def forward(self, p, t):
        diff = p - t
        return (diff * diff).mean()

    def backward(self, gy):
        raise NotImplementedError("differentiate one term (p[n, d] - t[n, d])^2 / (N*D); t enters with a minus sign")


def cases(rng):
    """A batch, a batch of one, one feature, a single number."""
    n, d = sizes(rng, 2)
    for shape in [(n, d), (1, d), (n, 1), (1, 1)]:
        yield Case(rng.standard_normal(shape), rng.standard_normal(shape))
