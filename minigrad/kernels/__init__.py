"""The speed: every kernel here computes the same thing as a plain formula beside it, only faster.

minigrad/ops/ is the math a learner reads; where that plain formula is measurably too slow, an op's
Function calls a kernel from this package instead. Each kernel module holds both the fast implementation
and the plain reference it must equal, and tests/test_kernels_*.py compares the two on drawn inputs.
"""
from .activation import leaky_relu, leaky_relu_derivative
from .batchnorm import batch_norm, batch_norm_backward
from .conv import ConvGeometry, col2im, conv2d, conv2d_weight, conv_transpose2d, im2col
from .loss import binary_cross_entropy, sum_of_squares
from .gemm import matmul
from .optim import adam_update, rmsprop_update
