"""Pooling layers: no parameters, only a window size and a stride."""
from .. import functional as F
from ..ops.pool import pool_options
from .module import Module


class AvgPool2D(Module):
    """The mean of each kernel_size window (N, C, H, W) -> (N, C, (H - kh) // sh + 1, (W - kw) // sw + 1).

    ``stride`` defaults to ``kernel_size`` (windows side by side), as PyTorch's torch.nn.AvgPool2d; no padding.
    """

    def __init__(self, kernel_size, stride=None):
        self.kernel_size, self.stride = pool_options("AvgPool2D", kernel_size, stride)

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"{self!r}: input must be 4-D (N, C, H, W), got shape {x.shape}")
        return F.avg_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self):
        kernel = self.kernel_size[0] if self.kernel_size[0] == self.kernel_size[1] else self.kernel_size
        stride = self.stride[0] if self.stride[0] == self.stride[1] else self.stride
        return f"kernel_size={kernel}, stride={stride}"
