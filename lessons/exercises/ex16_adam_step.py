"""Exercise 16: one update of the Adam optimizer.

For a parameter p with gradient g, at step t = 1, 2, 3, ... (m and v start at 0):

    m = beta1 m + (1 - beta1) g          a running mean of the gradient
    v = beta2 v + (1 - beta2) g^2        a running mean of its square, element by element
    m_hat = m / (1 - beta1^t)            the bias correction: started at 0, m and v are too small
    v_hat = v / (1 - beta2^t)            by exactly these factors (at t = 1, m = (1 - beta1) g)
    p = p - lr m_hat / (sqrt(v_hat) + eps)

    p, g, m, v: one shape S

No derivative to take this time: write ``Adam.step(param, grad)``, one update
from the formula. It keeps m, v and t on ``self`` for the next call, and
returns the new parameter as a new array (the one passed in stays as it was).
The checker runs a few steps with random gradients and compares every
parameter with what minigrad's optim.Adam computes from the same gradients.
The classic mistake is in the bias correction: left out, or with t counted
from 0.

    python -m lessons.exercises check adam_step
"""
import numpy as np

import minigrad as mg
from minigrad import optim

from .checker import Case, sizes


class Adam:
    """Adam's state for one parameter: the running means m and v, and the step count t."""

    def __init__(self, shape, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.m, self.v, self.t = np.zeros(shape), np.zeros(shape), 0

    def step(self, param, grad):
        raise NotImplementedError("count the step first (t is 1 in the first update), then m, v, their bias "
                                  "corrected m_hat and v_hat, and return param - lr * m_hat / (sqrt(v_hat) + eps)")


def cases(rng):
    """Three steps on a matrix; PyTorch's defaults; betas far from the defaults; one step on a vector; ten steps
    with a large lr. Each case is (starting parameter, the gradients of the steps stacked)."""
    n, d = sizes(rng, 2)
    for shape, steps, options in [((n, d), 3, dict(lr=0.1)), ((n, d), 3, {}),
                                  ((d, n), 4, dict(lr=0.05, betas=(0.5, 0.8), eps=1e-6)),
                                  ((n,), 1, dict(lr=0.01)), ((d, 1), 10, dict(lr=0.5, betas=(0.8, 0.99)))]:
        yield Case(rng.standard_normal(shape), rng.standard_normal((steps, *shape)), **options)


def expected_steps(case):
    """The parameter after each step, as minigrad's optim.Adam computes it."""
    param, grads = case.inputs
    reference = mg.Tensor(param.copy(), requires_grad=True)
    optimizer = optim.Adam([reference], **case.options)
    after = []
    for grad in grads:
        reference.grad = mg.Tensor(grad.copy())
        optimizer.step()
        after.append(reference.numpy().copy())
    return after


def step_factors(case):
    """What typical mistakes make of the first update, as a multiple of the right one (g is the same sign
    everywhere in it: lr * m_hat / sqrt(v_hat) is lr * sign(g) at t = 1, up to eps)."""
    beta1, beta2 = case.options.get("betas", (0.9, 0.999))
    return [((1 - beta1) / np.sqrt(1 - beta2), ("bias-correction",),
             "(1 - beta1) / sqrt(1 - beta2), as when m and v are used without their bias correction: divide m by "
             "1 - beta1^t and v by 1 - beta2^t"),
            (1 / np.sqrt(1 - beta2), ("bias-correction",),
             "1 / sqrt(1 - beta2), as when m is bias-corrected but v is not: v_hat = v / (1 - beta2^t)"),
            (1 - beta1, ("bias-correction",),
             "1 - beta1, as when v is bias-corrected but m is not: m_hat = m / (1 - beta1^t)"),
            (np.sqrt(1 + beta2) / (1 + beta1), ("bias-correction",),
             "sqrt(1 + beta2) / (1 + beta1), as when the correction uses t + 1: t is 1 in the first update")]
