"""Exercise 1: the elementwise product.

    z = a * b            a, b, z: one shape S (any shape, a 0-d scalar too)

Derive dL/da and dL/db given gy = dL/dz, shape S. Each z[i] depends only on
a[i] and b[i], so both gradients are elementwise products too; each has the
shape of its input.

How to write any backward here: ``self.inputs`` holds the input Tensors (read
their arrays as ``.data``), ``self.output`` the output Tensor, and anything the
forward saved on ``self`` is still there. Return one gradient per input, in
the forward's order, each an ``mg.Tensor`` of the input's shape and dtype.
Tensor ops (``gy * b``) or NumPy on ``.data`` wrapped in ``mg.Tensor(...)``:
the checker accepts both.

    python -m lessons.exercises check mul
"""
import minigrad as mg

from .checker import Case, sizes


class Mul(mg.Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        raise NotImplementedError("if a[i] moves by h, z[i] moves by h times what? Then L moves by gy[i] times that")


def cases(rng):
    """An ordinary shape, a batch of one, a size-1 axis, three axes, a 0-d scalar."""
    n, d = sizes(rng, 2)
    for shape in [(n, d), (1, d), (n, 1), (2, n, d), ()]:
        yield Case(rng.standard_normal(shape), rng.standard_normal(shape))
