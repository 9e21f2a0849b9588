import minigrad as mg

from .. import ex14_bce_with_logits


class BCEWithLogits(ex14_bce_with_logits.BCEWithLogits):
    # -(t (1 - p) + (1 - t) (-p)) = p - t per element; the mean brings 1/(N*D)
    def backward(self, gy):
        return gy * mg.Tensor((self.probs - self.target) / self.probs.size)
