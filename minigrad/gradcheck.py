"""Numerical gradient checks: is an op's backward the derivative of its forward?

The function's outputs are projected on a fixed random vector v, so the check
compares one scalar's gradient, v^T J, computed two ways: by backward, and by
central differences in float64. A wrong Jacobian gives a different v^T J for
almost every v, so one projection suffices.

Small inputs are checked element by element; large ones along a few random
directions (as Chainer's check_backward does). At a kink (relu or |x| at 0,
a tie in max) the left and right difference quotients disagree; there any
value between them is a valid subgradient and is accepted.
"""
import numpy as np

from . import backend
from .autograd import Tensor, grad


class GradcheckError(AssertionError):
    """The analytical gradient disagrees with the numerical one."""


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]


def _projection(outputs, generator):
    """A fixed random weight for every output element (v in v^T J)."""
    weights = []
    for out in outputs:
        v = generator.standard_normal(out.shape)
        weights.append(Tensor(backend.to_device(v.astype(out.dtype), out.device)))
    return weights


def _objective(fn, inputs, weights):
    """L(inputs) = sum_k <v_k, out_k>. Gradients stay on: fn may itself differentiate (gradgradcheck)."""
    outputs = _as_list(fn(*inputs))
    return float(sum(float((backend.to_numpy(o.data) * backend.to_numpy(v.data)).sum())
                     for o, v in zip(outputs, weights)))


def _accept(analytic, left, right, atol, rtol):
    """True where analytic matches the central difference, or lies between one-sided ones at a kink."""
    central = 0.5 * (left + right)
    allowed = atol + rtol * np.abs(central)
    close = np.abs(analytic - central) <= allowed
    kink = np.abs(left - right) > 10 * allowed + 1e-3 * (1 + np.abs(central))
    between = (analytic >= np.minimum(left, right) - allowed) & (analytic <= np.maximum(left, right) + allowed)
    return close | (kink & between), central, allowed


def _numerical_elementwise(fn, inputs, weights, tensor, eps, base):
    """One-sided difference quotients for every element of tensor (left and right)."""
    flat = tensor.data.reshape(-1)
    left, right = np.empty(flat.size), np.empty(flat.size)
    for i in range(flat.size):
        original = flat[i].item()
        flat[i] = original + eps
        up = _objective(fn, inputs, weights)
        flat[i] = original - eps
        down = _objective(fn, inputs, weights)
        flat[i] = original
        right[i], left[i] = (up - base) / eps, (base - down) / eps
    return left.reshape(tensor.shape), right.reshape(tensor.shape)


def _numerical_directional(fn, inputs, weights, tensor, eps, base, direction):
    original = tensor.data
    step = backend.to_device(direction * eps, tensor.device)
    tensor.data = original + step
    up = _objective(fn, inputs, weights)
    tensor.data = original - step
    down = _objective(fn, inputs, weights)
    tensor.data = original
    return (base - down) / eps, (up - base) / eps


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, full_check_limit=2000, directions=3, seed=0):
    """Check ``fn(*inputs)``'s gradients w.r.t. every input that requires grad.

    Returns True, or raises GradcheckError naming the input, the worst
    element, and the expected (numerical) and computed (analytical) values.
    Inputs with more than ``full_check_limit`` elements are checked along
    ``directions`` random directions instead of element by element.
    """
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs "
                            "(float32 rounding swamps the finite differences)")
    generator = np.random.default_rng(seed)
    outputs = _as_list(fn(*inputs))
    weights = _projection(outputs, generator)
    live = [(o, v) for o, v in zip(outputs, weights) if o.requires_grad]
    if live:
        analytic = grad([o for o, _ in live], [inputs[i] for i in checked], grad_outputs=[v for _, v in live])
    else:
        analytic = [Tensor(np.zeros(inputs[i].shape)) for i in checked]
    originals = {i: inputs[i].data for i in checked}
    try:
        for i in checked:  # perturb private copies, never the caller's arrays
            inputs[i].data = inputs[i].data.copy()
        base = _objective(fn, inputs, weights)
        for i, computed in zip(checked, analytic):
            _check_one(fn, inputs, weights, i, backend.to_numpy(computed.data), eps, atol, rtol, base,
                       full_check_limit, directions, generator)
    finally:
        for i, data in originals.items():
            inputs[i].data = data
    return True


def _check_one(fn, inputs, weights, index, computed, eps, atol, rtol, base, full_check_limit, directions,
               generator):
    tensor = inputs[index]
    if tensor.size <= full_check_limit:
        left, right = _numerical_elementwise(fn, inputs, weights, tensor, eps, base)
        ok, expected, allowed = _accept(computed, left, right, atol, rtol)
        if ok.all():
            return
        excess = np.where(ok, -np.inf, np.abs(computed - expected) - allowed)
        worst = np.unravel_index(int(np.argmax(excess)), tensor.shape)
        raise GradcheckError(
            f"gradcheck failed for input {index} (shape {tensor.shape}): {int((~ok).sum())} of {ok.size} elements "
            f"disagree; worst at index {tuple(int(k) for k in worst)}: expected (numerical) "
            f"{expected[worst]:.6g}, got (analytical) {computed[worst]:.6g}, "
            f"difference {abs(computed[worst] - expected[worst]):.3g} > allowed {allowed[worst]:.3g}")
    for d in range(directions):
        direction = generator.standard_normal(tensor.shape)
        left, right = _numerical_directional(fn, inputs, weights, tensor, eps, base, direction)
        ok, expected, allowed = _accept(np.vdot(computed, direction), np.asarray(left), np.asarray(right),
                                        atol * np.sqrt(tensor.size), rtol)
        if not ok:
            raise GradcheckError(
                f"gradcheck failed for input {index} (shape {tensor.shape}) along random direction {d}: "
                f"expected (numerical) directional derivative {float(expected):.6g}, got (analytical) "
                f"{float(np.vdot(computed, direction)):.6g}")


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, full_check_limit=2000, directions=3, seed=0):
    """Check second derivatives: gradcheck of (inputs, v) -> v^T J(inputs), built with create_graph=True."""
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    generator = np.random.default_rng(seed + 1)
    outputs = [o for o in _as_list(fn(*inputs))]
    cotangents = [Tensor(backend.to_device(generator.standard_normal(o.shape).astype(o.dtype), o.device),
                         requires_grad=True) for o in outputs]
    count = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:count], args[count:]
        outs = _as_list(fn(*xs))
        live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        wrt = [xs[i] for i in checked]
        if not live:
            return tuple(Tensor(t.data * 0) for t in wrt)
        return grad([o for o, _ in live], wrt, grad_outputs=[v for _, v in live], create_graph=True)

    return gradcheck(first_derivative, inputs + cotangents, eps, atol, rtol, full_check_limit, directions, seed)
