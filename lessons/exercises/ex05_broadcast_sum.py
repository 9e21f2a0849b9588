"""Exercise 5: a sum with broadcasting.

    z = a + b            a and b broadcast against each other (NumPy's rules): z has the broadcast shape,
                         e.g. a (N, D) + b (D,) -> z (N, D);  a (N, 1) + b (1, D) -> z (N, D)

Derive dL/da and dL/db given gy = dL/dz (z's shape). Locally dz/da = 1, but
broadcasting used one element of b in many places of z (b[d] in every row
z[:, d]): its gradient is the sum of gy over every place it was used, and must
come back in b's own shape. Axes that broadcasting added in front are summed
away; axes where the input had size 1 are summed with keepdims=True.

    python -m lessons.exercises check broadcast_sum
"""
import minigrad as mg

from .checker import Case, sizes


class BroadcastSum(mg.Function):
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        raise NotImplementedError("start from gy for both, then sum it down to a.shape and to b.shape")


def cases(rng):
    """A row vector added to a matrix, both sides broadcast, no broadcast at all, a scalar, three axes."""
    n, d = sizes(rng, 2)
    for a_shape, b_shape in [((n, d), (d,)), ((n, 1), (1, d)), ((n, d), (n, d)), ((), (n, d)),
                             ((2, 1, d), (n, 1))]:
        yield Case(rng.standard_normal(a_shape), rng.standard_normal(b_shape))
