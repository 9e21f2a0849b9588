"""The matrix product, with its one slow shape taken around NumPy's matmul.

matmul(a, b) computes a @ b. When the inner dimension is 1 every entry of the product is one product
a[..., i, 0] * b[..., 0, j], and NumPy's matmul leaves BLAS for its own loop there: the input gradient of a
Dense layer with one output, gy (64, 1) @ W^T (1, 6272) in W4's discriminator, takes 680 us that way.
``dot`` hands a 2-D one to BLAS (76 us; 104 us for the (6272, 1) @ (1, 64) that Linear's backward computes
when its input is a flattened conv output), and a batched one is the broadcast product a * b. Both give the
same numbers bit for bit: no sum is involved. Tested against ``matmul_reference`` in tests/test_kernels_gemm.py.
"""
from .. import backend


def matmul(a, b):
    """a @ b for arrays of 2 or more dimensions, equal to matmul_reference; an inner dimension of 1 without matmul."""
    if a.shape[-1] != 1 or a.ndim < 2 or b.ndim < 2:
        return a @ b
    xp = backend.get_array_module(a)
    return xp.dot(a, b) if a.ndim == 2 and b.ndim == 2 else xp.multiply(a, b)


def matmul_reference(a, b):
    return a @ b
