"""Average pooling, NCHW, without padding (PyTorch's avg_pool2d with its defaults).

Each output pixel is the mean of one kh x kw window of the input; windows
start every (sh, sw) pixels. Both directions are a loop over the kh*kw
kernel offsets: offset (i, j) of every window at once is the strided slice
x[:, :, i::sh, j::sw] (cut to the output's size), so no Python loop runs over
pixels.
"""
from .. import backend
from ..autograd import Function
from .conv import int_pair


def _offset_slices(kernel, stride, out_size):
    """(rows, cols) slices picking kernel offset (i, j) of every window, for each of the kh*kw offsets."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_size
    return [(slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw))
            for i in range(kh) for j in range(kw)]


class AvgPool2D(Function):
    # y[n,c,p,q] = 1/(kh*kw) sum_{i,j} x[n,c,sh*p+i,sw*q+j];  gx: each gy spread evenly over its window
    def __init__(self, kernel, stride):
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        h, w = x.shape[2:]
        out_size = ((h - self.kernel[0]) // self.stride[0] + 1, (w - self.kernel[1]) // self.stride[1] + 1)
        window = self.kernel[0] * self.kernel[1]
        return sum(x[:, :, rows, cols] for rows, cols in _offset_slices(self.kernel, self.stride, out_size)) / window

    def backward(self, gy):
        return AvgUnpool2D(self.kernel, self.stride, self.inputs[0].shape)(gy)


class AvgUnpool2D(Function):
    # the adjoint of AvgPool2D: gx[n,c,sh*p+i,sw*q+j] += gy[n,c,p,q] / (kh*kw);  its own gradient is avg_pool2d
    def __init__(self, kernel, stride, in_shape):
        self.kernel, self.stride, self.in_shape = kernel, stride, in_shape

    def forward(self, gy):
        gx = backend.get_array_module(gy).zeros(self.in_shape, dtype=gy.dtype)
        share = gy / (self.kernel[0] * self.kernel[1])
        for rows, cols in _offset_slices(self.kernel, self.stride, gy.shape[2:]):
            gx[:, :, rows, cols] += share  # windows overlap when stride < kernel: their shares add up
        return gx

    def backward(self, ggx):
        return avg_pool2d(ggx, self.kernel, self.stride)


def pool_options(op, kernel_size, stride):
    """(kernel, stride) as pairs, stride defaulting to the kernel (PyTorch's default), or a clear error."""
    kernel = int_pair(op, "kernel_size", kernel_size)
    stride = kernel if stride is None else int_pair(op, "stride", stride)
    for name, value in (("kernel_size", kernel), ("stride", stride)):
        if min(value) < 1:
            raise ValueError(f"{op}: {name} must be positive, got {value}")
    return kernel, stride


def avg_pool2d(x, kernel_size, stride=None):
    """The mean of each kernel_size window of x (N, C, H, W), windows every ``stride`` pixels (default: kernel_size).

    Output (N, C, (H - kh) // sh + 1, (W - kw) // sw + 1): rows and columns the last window does not reach are
    left out, as PyTorch does.
    """
    kernel, stride = pool_options("avg_pool2d", kernel_size, stride)
    if x.ndim != 4:
        raise ValueError(f"avg_pool2d: input must be 4-D (N, C, H, W), got shape {x.shape}")
    if x.shape[2] < kernel[0] or x.shape[3] < kernel[1]:
        raise ValueError(f"avg_pool2d: input of {x.shape[2]}x{x.shape[3]} pixels is smaller than the "
                         f"{kernel[0]}x{kernel[1]} kernel (input shape {x.shape})")
    return AvgPool2D(kernel, stride)(x)
