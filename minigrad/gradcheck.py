"""Numerical gradient checks: is an op's backward the derivative of its forward?

The function's outputs are projected on a fixed random vector v, so the check
compares one scalar's gradient, v^T J, computed two ways: by backward, and by
central differences in float64. A wrong Jacobian gives a different v^T J for
almost every v, so one projection suffices.

Small inputs are checked element by element; large ones along a few random
directions (as Chainer's check_backward does). At a kink (relu or |x| at 0,
a tie in max) the left and right difference quotients disagree; there any
value between them is a valid subgradient and is accepted. A jump (a step
function, x > 0 at 0) makes them disagree too, but there no gradient exists
and every value between 0 and jump/eps would be "accepted". The two are told
apart by shrinking eps: at a kink the one-sided quotients stay put (they are
the slopes on either side), at a jump they grow as 1/eps. A discontinuity is
reported as such instead of passing.
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


# eps shrinks by this factor to tell a kink (quotients unchanged) from a jump (quotients x SHRINK).
SHRINK = 4


def _accept(analytic, left, right, atol, rtol):
    """True where analytic matches the central difference, or lies between one-sided ones at a kink."""
    central = 0.5 * (left + right)
    allowed = atol + rtol * np.abs(central)
    close = np.abs(analytic - central) <= allowed
    between = (analytic >= np.minimum(left, right) - allowed) & (analytic <= np.maximum(left, right) + allowed)
    return close | (_kink(left, right, atol, rtol) & between), central, allowed


def _kink(left, right, atol, rtol):
    """Where the one-sided quotients disagree by more than rounding: a kink, or a jump."""
    central = 0.5 * (left + right)
    allowed = atol + rtol * np.abs(central)
    return np.abs(left - right) > 10 * allowed + 1e-3 * (1 + np.abs(central))


def _jumps(coarse, fine):
    """Where the gap between one-sided quotients grew when eps shrank: the function jumps there."""
    (left, right), (fine_left, fine_right) = coarse, fine
    return np.abs(fine_right - fine_left) > 0.5 * SHRINK * np.abs(right - left)


def _refine_at_kinks(quotients, atol, rtol, refine, describe):
    """Recompute the one-sided quotients with a smaller eps where they disagree; raise at a jump.

    ``refine(where)`` gives the (left, right) quotients with eps / SHRINK at
    the boolean mask ``where``; ``describe(position, left, right)`` names one
    jump for the error message.
    """
    left, right = quotients
    kink = _kink(left, right, atol, rtol)
    if not kink.any():
        return left, right
    fine_left, fine_right = refine(kink)
    jumps = _jumps((left[kink], right[kink]), (fine_left, fine_right))
    if jumps.any():
        first = int(np.flatnonzero(jumps)[0])
        position = np.flatnonzero(kink.reshape(-1))[first]
        raise GradcheckError(describe(position, left.reshape(-1)[position], right.reshape(-1)[position]))
    left, right = left.copy(), right.copy()
    left[kink], right[kink] = fine_left, fine_right  # the finer look is the truer one near a kink
    return left, right


def _discontinuity(where, left, right, eps):
    return (f"gradcheck: fn is discontinuous at input {where}: the one-sided difference quotients "
            f"{left:.6g} and {right:.6g} grow {SHRINK}x when eps shrinks {SHRINK}x, as at a jump of about "
            f"{abs(right - left) * eps:.3g} in the output, so there is no gradient to check; move that input "
            f"away from the jump")


def _numerical_elementwise(fn, inputs, weights, tensor, eps, base, where=None):
    """One-sided difference quotients (left, right) for every element of tensor, or those of the mask where."""
    flat = tensor.data.reshape(-1)
    positions = range(flat.size) if where is None else np.flatnonzero(where.reshape(-1))
    left, right = np.empty(len(positions)), np.empty(len(positions))
    for k, i in enumerate(positions):
        original = flat[i].item()
        flat[i] = original + eps
        up = _objective(fn, inputs, weights)
        flat[i] = original - eps
        down = _objective(fn, inputs, weights)
        flat[i] = original
        right[k], left[k] = (up - base) / eps, (base - down) / eps
    if where is None:
        return left.reshape(tensor.shape), right.reshape(tensor.shape)
    return left, right


def _numerical_directional(fn, inputs, weights, tensor, eps, base, direction):
    original = tensor.data
    step = backend.to_device(direction * eps, tensor.device)
    tensor.data = original + step
    up = _objective(fn, inputs, weights)
    tensor.data = original - step
    down = _objective(fn, inputs, weights)
    tensor.data = original
    return np.asarray((base - down) / eps), np.asarray((up - base) / eps)


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
        def element(position, left, right):
            where = f"{index}, index {tuple(int(k) for k in np.unravel_index(position, tensor.shape))}"
            return _discontinuity(where, left, right, eps)

        left, right = _refine_at_kinks(
            _numerical_elementwise(fn, inputs, weights, tensor, eps, base), atol, rtol,
            lambda where: _numerical_elementwise(fn, inputs, weights, tensor, eps / SHRINK, base, where), element)
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
        directional_atol = atol * np.sqrt(tensor.size)
        left, right = _refine_at_kinks(
            _numerical_directional(fn, inputs, weights, tensor, eps, base, direction), directional_atol, rtol,
            lambda where: _numerical_directional(fn, inputs, weights, tensor, eps / SHRINK, base, direction),
            lambda position, left, right: _discontinuity(f"{index} along random direction {d}", left, right, eps))
        ok, expected, allowed = _accept(np.vdot(computed, direction), left, right, directional_atol, rtol)
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
