"""Optimizer updates in place: Adam and RMSProp with one scratch array per step.

Written as its formula, an update allocates a fresh array for every operator:
Adam's ``p - lr * m_hat / (sqrt(v_hat) + eps)`` with its two moving averages
makes about a dozen parameter-sized temporaries, and on a 784x256 weight
allocating and filling them costs more than the arithmetic. The kernels here
do the same arithmetic with ``out=`` into one scratch array and update the
parameter and its slots in place.

Each kernel sits beside its plain reference (``*_reference``): the formula as
the optimizer's docstring writes it, returning new arrays instead of updating
any. tests/test_kernels_optim.py checks that the two agree.
"""
import math

from .. import backend
from . import parallel


def adam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr, betas, eps):
    """Adam's update in place (``_adam_update``), cut into ranges of elements across minigrad's threads."""
    parallel.elementwise(_adam_update, param, grad, exp_avg, exp_avg_sq, step=step, lr=lr, betas=betas, eps=eps)


def _adam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr, betas, eps):
    """Adam at step t (``step``, counted from 1), in place on ``param``, ``exp_avg`` (m) and ``exp_avg_sq`` (v):

        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2
        p -= lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - beta1^t),   v_hat = v / (1 - beta2^t)

    Faster: one scratch array instead of a temporary per operator, and the bias corrections folded into
    two Python floats, which saves the two array passes that would form m_hat and v_hat.
    """
    xp = backend.get_array_module(param)
    beta1, beta2 = betas
    work = xp.empty_like(param)
    _moving_average(exp_avg, grad, beta1, work)
    _moving_average(exp_avg_sq, xp.multiply(grad, grad, out=work), beta2, work)
    # lr * m_hat / (sqrt(v_hat) + eps) = (lr * r / c1) * m / (sqrt(v) + eps * r),
    # with c1 = 1 - beta1^t and r = sqrt(1 - beta2^t): divide numerator and denominator by sqrt(1 - beta2^t).
    # The two sides differ by rounding only (a few units in the last place).
    c1, r = 1 - beta1 ** step, math.sqrt(1 - beta2 ** step)
    denominator = xp.sqrt(exp_avg_sq, out=work)
    denominator += eps * r
    update = xp.divide(exp_avg, denominator, out=work)
    update *= lr * r / c1
    param -= update


def adam_update_reference(param, grad, exp_avg, exp_avg_sq, *, step, lr, betas, eps):
    """Adam's formula as written: the new (param, exp_avg, exp_avg_sq), the inputs untouched."""
    xp = backend.get_array_module(param)
    beta1, beta2 = betas
    m = beta1 * exp_avg + (1 - beta1) * grad
    v = beta2 * exp_avg_sq + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** step)
    v_hat = v / (1 - beta2 ** step)
    return param - lr * m_hat / (xp.sqrt(v_hat) + eps), m, v


def rmsprop_update(param, grad, square_avg, *, lr, rho, eps, eps_inside_sqrt=False,
                   grad_avg=None, momentum=0.0, momentum_buffer=None):
    """RMSProp's update in place (``_rmsprop_update``), cut into ranges of elements across minigrad's threads."""
    parallel.elementwise(_rmsprop_update, param, grad, square_avg, grad_avg, momentum_buffer, lr=lr, rho=rho,
                         eps=eps, eps_inside_sqrt=eps_inside_sqrt, momentum=momentum)


def _rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, rho, eps, eps_inside_sqrt,
                    momentum):
    """RMSProp, in place on ``param`` and its slots; ``grad_avg`` given: centered; ``momentum_buffer`` given:
    with momentum.

        s = rho * s + (1 - rho) * g^2;   centered: a = rho * a + (1 - rho) * g,  var = s - a^2;  else var = s
        d = sqrt(var + eps) if eps_inside_sqrt else sqrt(var) + eps
        momentum: buf = momentum * buf + g / d,  p -= lr * buf;   else p -= lr * g / d

    Faster: every intermediate goes into one scratch array. The operations and their order are the
    formula's, so the result is the reference's to the last bit.
    """
    xp = backend.get_array_module(param)
    work = xp.multiply(grad, grad)
    _moving_average(square_avg, work, rho, work)
    if grad_avg is not None:
        _moving_average(grad_avg, grad, rho, work)
        variance = xp.subtract(square_avg, xp.multiply(grad_avg, grad_avg, out=work), out=work)
    else:
        variance = square_avg
    if eps_inside_sqrt:
        denominator = xp.sqrt(xp.add(variance, eps, out=work), out=work)
    else:
        denominator = xp.sqrt(variance, out=work)
        denominator += eps
    scaled = xp.divide(grad, denominator, out=work)
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += scaled
        scaled = xp.multiply(momentum_buffer, lr, out=work)
    else:
        scaled *= lr
    param -= scaled


def rmsprop_update_reference(param, grad, square_avg, *, lr, rho, eps, eps_inside_sqrt=False,
                             grad_avg=None, momentum=0.0, momentum_buffer=None):
    """RMSProp's formula as written: the new (param, square_avg, grad_avg, momentum_buffer), the inputs
    untouched (grad_avg and momentum_buffer stay None when not given)."""
    xp = backend.get_array_module(param)
    square_avg = rho * square_avg + (1 - rho) * grad ** 2
    variance = square_avg
    if grad_avg is not None:
        grad_avg = rho * grad_avg + (1 - rho) * grad
        variance = square_avg - grad_avg ** 2
    denominator = xp.sqrt(variance + eps) if eps_inside_sqrt else xp.sqrt(variance) + eps
    step = grad / denominator
    if momentum_buffer is not None:
        momentum_buffer = momentum * momentum_buffer + step
        step = momentum_buffer
    return param - lr * step, square_avg, grad_avg, momentum_buffer


def _moving_average(average, new, decay, work):
    """average = decay * average + (1 - decay) * new, in place; ``work`` is scratch (it may be ``new`` itself)."""
    xp = backend.get_array_module(average)
    contribution = xp.multiply(new, 1 - decay, out=work)
    average *= decay
    average += contribution
