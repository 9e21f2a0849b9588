import minigrad as mg

from .. import ex09_dropout


class Dropout(ex09_dropout.Dropout):
    # y = x * mask with a constant mask: dL/dx = gy * mask
    def backward(self, gy):
        return mg.Tensor(gy.data * self.mask)
