"""Losses. ``reduction`` is 'mean' (over every element, as PyTorch), 'sum' or 'none'."""
import numpy as np

from .. import backend, kernels
from ..autograd import Function, Tensor
from .activation import log_softmax, sigmoid
from .elementwise import constant_like

REDUCTIONS = ("mean", "sum", "none")


def _check(op, pred, target, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if pred.dtype.kind != "f":
        raise TypeError(f"{op}: the prediction is {pred.dtype}; a loss takes floating-point tensors, as integer "
                        "arithmetic wraps around (uint8: 0 - 255 = 1). Convert it with .float() (images: x.float() / 255)")
    if not isinstance(target, Tensor):
        target = constant_like(target, pred, op)
    if pred.shape != target.shape:
        raise ValueError(f"{op}: prediction has shape {pred.shape} but target has shape {target.shape}")
    return target


def _reduce(values, reduction):
    """Reduce a Tensor or an array the same way."""
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def _scale(reduction, n):
    """The factor d(reduced)/d(element): 1/n for a mean, else 1."""
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0


class MSELoss(Function):
    # mse = mean((p - t)^2):  d/dp = 2 (p - t) / n,  d/dt = -2 (p - t) / n  (without the 1/n for 'sum')
    def __init__(self, reduction):
        self.reduction = reduction

    def forward(self, pred, target):
        diff = pred - target
        if self.reduction == "none":
            return diff * diff
        return kernels.sum_of_squares(diff) * _scale(self.reduction, diff.size)

    def backward(self, gy):
        pred, target = self.inputs
        g = (pred - target) * (gy * (2.0 * _scale(self.reduction, pred.size)))
        need_p, need_t = self.needs_input_grad
        return (g if need_p else None, -g if need_t else None)


def mse_loss(pred, target, reduction="mean"):
    target = _check("mse_loss", pred, target, reduction)
    return MSELoss(reduction)(pred, target)


class BinaryCrossEntropy(Function):
    # bce = -(t log p + (1-t) log(1-p)), logs clamped at -100 as PyTorch;
    # d/dp = (p - t) / (p (1 - p)),  d/dt = log(1-p) - log(p)
    def __init__(self, reduction):
        self.reduction = reduction

    def forward(self, p, t):
        return _reduce(kernels.binary_cross_entropy(p, t), self.reduction)

    def backward(self, gy):
        p, t = self.inputs
        g = gy * _scale(self.reduction, p.size)
        need_p, need_t = self.needs_input_grad
        grad_p = g * (p - t) / (p * (1 - p)).clip(1e-12, None) if need_p else None
        with np.errstate(divide="ignore"):  # at p = 0 or 1 a log is -inf before the clamp, as in forward
            grad_t = g * ((1 - p).log().clip(-100, None) - p.log().clip(-100, None)) if need_t else None
        return grad_p, grad_t


def binary_cross_entropy(prob, target, reduction="mean"):
    """BCE on probabilities in [0, 1] (after a sigmoid)."""
    target = _check("binary_cross_entropy", prob, target, reduction)
    return BinaryCrossEntropy(reduction)(prob, target)


class BinaryCrossEntropyWithLogits(Function):
    # bce(sigmoid(x), t) = max(x, 0) - x t + log(1 + e^-|x|):  d/dx = sigmoid(x) - t,  d/dt = -x
    def __init__(self, reduction):
        self.reduction = reduction

    def forward(self, x, t):
        xp = backend.get_array_module(x)
        loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        return _reduce(loss, self.reduction)

    def backward(self, gy):
        x, t = self.inputs
        g = gy * _scale(self.reduction, x.size)
        need_x, need_t = self.needs_input_grad
        return (g * (sigmoid(x) - t) if need_x else None,
                -g * x if need_t else None)


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """BCE on raw scores: sigmoid and log fused, stable for any logit."""
    target = _check("binary_cross_entropy_with_logits", logits, target, reduction)
    return BinaryCrossEntropyWithLogits(reduction)(logits, target)


def cross_entropy(logits, labels, reduction="mean"):
    """Softmax cross-entropy; labels are integer class indices, shape (N,). 'mean' averages over the batch."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    labels = labels.data if isinstance(labels, Tensor) else labels
    xp = backend.get_array_module(logits.data)
    labels = backend.to_device(np.asarray(labels) if isinstance(labels, (list, int)) else labels, logits.device)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (batch, classes), got shape {logits.shape}")
    if labels.dtype.kind not in "iu" or labels.shape != (logits.shape[0],):
        raise ValueError(f"cross_entropy: labels must be integer class indices of shape ({logits.shape[0]},), "
                         f"got dtype {labels.dtype} and shape {labels.shape}")
    classes = logits.shape[1]
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise ValueError(f"cross_entropy: labels must lie in [0, {classes}), got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    picked = log_softmax(logits, axis=1)[xp.arange(logits.shape[0]), labels]
    return _reduce(-picked, reduction)


def gaussian_kl(mu, logvar, reduction="sum"):
    """KL(N(mu, exp(logvar)) || N(0, 1)) = -1/2 (1 + logvar - mu^2 - exp(logvar)), elementwise.

    'sum' adds every element (the VAE term: sum over latent dimensions and the
    batch), 'mean' averages over every element, 'none' keeps the elements.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"gaussian_kl: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if mu.shape != logvar.shape:
        raise ValueError(f"gaussian_kl: mu has shape {mu.shape} but logvar has shape {logvar.shape}")
    return _reduce(-0.5 * (1 + logvar - mu * mu - logvar.exp()), reduction)
