import minigrad as mg
import minigrad.functional as F

from .. import ex13_conv_transpose2d
from ..ex11_conv2d import im2col


class ConvTranspose2D(ex13_conv_transpose2d.ConvTranspose2D):
    # sum(conv_transpose2d(x, W) * u) = sum(x * conv2d(u, W)):  gx = conv2d(gy, W);  gW pairs x with gy's patches
    def backward(self, gy):
        x, weight, _ = self.inputs
        n, c = x.shape[:2]
        kh, kw = weight.shape[2:]
        grad_x = F.conv2d(gy, weight, stride=self.stride, padding=self.padding)
        patches = im2col(gy.data, kh, kw, self.stride, self.padding)            # (N, F*kh*kw, H*W)
        grad_weight = (x.data.reshape(n, c, -1) @ patches.transpose(0, 2, 1)).sum(axis=0)
        return grad_x, mg.Tensor(grad_weight.reshape(weight.shape)), gy.sum(axis=(0, 2, 3))
