"""The matrix product: its one slow shape taken around NumPy's matmul, and large products cut across the threads.

matmul(a, b) computes a @ b. When the inner dimension is 1 every entry of the product is one product
a[..., i, 0] * b[..., 0, j], and NumPy's matmul leaves BLAS for its own loop there: the input gradient of a
Dense layer with one output, gy (64, 1) @ W^T (1, 6272) in W4's discriminator, takes 680 us that way.
``dot`` hands a 2-D one to BLAS (76 us; 104 us for the (6272, 1) @ (1, 64) that Linear's backward computes
when its input is a flattened conv output), and a batched one is the broadcast product a * b. Both give the
same numbers bit for bit: no sum is involved.

With minigrad's threads (kernels/parallel.py; BLAS then runs on one), a 2-D product of at least
PARALLEL_MACS multiply-adds is cut into one range of rows of the result per thread (of columns, when it
has fewer rows than threads), each part one single-threaded BLAS call writing its own slice. Smaller ones
are not worth the hand-off (~0.1 ms for a round trip to a sleeping thread on the 2-core benchmark VM).
Tested against ``matmul_reference`` in tests/test_kernels_gemm.py.
"""
from functools import partial

import numpy as np

from .. import backend
from . import parallel

PARALLEL_MACS = 1 << 21


def matmul(a, b):
    """a @ b for arrays of 2 or more dimensions, equal to matmul_reference; an inner dimension of 1 without matmul."""
    xp = backend.get_array_module(a)
    if a.shape[-1] == 1 and a.ndim >= 2 and b.ndim >= 2:
        return xp.dot(a, b) if a.ndim == 2 and b.ndim == 2 else xp.multiply(a, b)
    threads = parallel.get_num_threads() if xp is np and a.ndim == 2 and b.ndim == 2 else 1
    if threads == 1 or a.shape[0] * a.shape[1] * b.shape[1] < PARALLEL_MACS:
        return a @ b
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    if a.shape[0] >= threads:
        parts = [partial(np.matmul, a[r0:r1], b, out=out[r0:r1]) for r0, r1 in parallel.split(a.shape[0], threads)]
    else:
        parts = [partial(np.matmul, a, b[:, c0:c1], out=out[:, c0:c1])
                 for c0, c1 in parallel.split(b.shape[1], threads)]
    parallel.run(parts)
    return out


def matmul_reference(a, b):
    return a @ b
