from .. import ex05_broadcast_sum


def unbroadcast(grad, shape):
    """Sum grad down to shape: over the axes broadcasting added in front, then over the size-1 axes."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape)))) if grad.ndim > len(shape) else grad
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


class BroadcastSum(ex05_broadcast_sum.BroadcastSum):
    # dz/da = dz/db = 1; each element's gradient sums gy over every place broadcasting used it
    def backward(self, gy):
        a, b = self.inputs
        return unbroadcast(gy, a.shape), unbroadcast(gy, b.shape)
