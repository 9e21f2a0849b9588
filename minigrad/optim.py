"""Optimizers: SGD, RMSProp and Adam.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()

An update works on the raw arrays in place (``p.data``), outside the graph,
with the parameter's own array module (NumPy or CuPy) and dtype: Python
float constants never promote a float32 parameter to float64. A parameter
whose ``.grad`` is None is skipped and its slots stay as they were.

Each class docstring gives its update as a formula. SGD's code is that
formula; Adam and RMSProp call an in-place kernel of ``minigrad.kernels.optim``
(one scratch array per step instead of a temporary per operator), which sits
there beside the same formula written out, and is tested equal to it.

``state_dict()`` holds the hyper-parameters, the number of ``step()`` calls
and each parameter's slots (momentum buffers, running averages) by the
parameter's position in the list, as NumPy arrays and Python scalars, so
``mg.save`` can write it and ``load_state_dict`` resumes training exactly.
"""
import math
import numbers

import numpy as np

from . import backend, kernels
from .autograd import Tensor, no_grad, writable_array


class Optimizer:
    """Base class: keeps the parameters, their per-parameter slots and the step count.

    A subclass lists its hyper-parameters in ``hyper_names``, checks them in
    ``_checked_hyper``, names the slots a parameter needs in ``_slot_names``
    and updates one parameter's array in place in ``_update(param, grad, slots)``.
    """

    hyper_names = ()
    counters = ()  # slots that are Python ints (Adam's step), not arrays
    second_moments = ()  # slots that average squares: a negative value in a loaded state is corrupt

    def __init__(self, params, **hyper):
        self.params = _check_params(type(self).__name__, params)
        self._set_hyper(hyper)
        self.slots = [{} for _ in self.params]  # filled on a parameter's first update
        self.steps = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        with no_grad():
            for p, slots in zip(self.params, self.slots):
                if p.grad is None:
                    continue
                if not slots:
                    slots.update(self._new_slots(p.data))
                else:
                    _follow_device(slots, p.data)
                self._update(writable_array(p), p.grad.data, slots)
        self.steps += 1

    def _new_slots(self, param):
        xp = backend.get_array_module(param)
        return {name: 0 if name in self.counters else xp.zeros_like(param)
                for name in self._slot_names(self._hyper())}

    def _slot_names(self, hyper):
        """The slots one parameter needs under these hyper-parameters."""
        raise NotImplementedError

    def _update(self, param, grad, slots):
        raise NotImplementedError

    def _hyper(self):
        return {name: getattr(self, name) for name in self.hyper_names}

    def _set_hyper(self, hyper):
        for name, value in self._checked_hyper(hyper).items():
            setattr(self, name, value)

    def _checked_hyper(self, hyper):
        """The hyper-parameters checked, numbers as Python floats (a NumPy float64 scalar would promote
        float32 arrays); raises ValueError naming the first bad one."""
        return {"lr": _number_at_least(self, "lr", hyper["lr"], 0.0)}

    def __repr__(self):
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyper_names)
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"

    # --- checkpoints --------------------------------------------------------
    def state_dict(self):
        """Hyper-parameters, step count and slots as NumPy arrays / Python scalars (copies)."""
        return {"optimizer": type(self).__name__,
                "hyper": self._hyper(),
                "steps": self.steps,
                "slots": [{name: _copy_to_numpy(value) for name, value in slots.items()} for slots in self.slots]}

    def load_state_dict(self, state):
        """Restore what ``state_dict`` gave.

        Every problem (naming its key: ``hyper``, ``steps``, ``slots[i]['exp_avg']``, ...) is listed in
        one ValueError, raised before anything changes: a refused state leaves the optimizer as it was.
        """
        problems = _state_problems(self, state)
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state does not fit this optimizer:\n  "
                             + "\n  ".join(problems))
        slots = [{key: int(value) if key in self.counters else _array_like(value, p.data)
                  for key, value in saved.items()}
                 for p, saved in zip(self.params, state["slots"])]
        self._set_hyper(state["hyper"])
        self.steps = int(state["steps"])
        self.slots = slots


def _follow_device(slots, param):
    """Move a parameter's slots to its device: Module.to() may have moved it since the last step.

    Runs every step, so the usual case (nothing moved) is one type comparison per slot."""
    for name, value in slots.items():
        if not isinstance(value, int) and type(value) is not type(param):
            slots[name] = backend.to_device(value, backend.device_of(param))


def _check_params(name, params):
    if isinstance(params, Tensor):
        raise TypeError(f"{name}: params must be an iterable of Tensors (e.g. model.parameters()), got one Tensor")
    if not hasattr(params, "__iter__"):
        raise TypeError(f"{name}: params must be an iterable of Tensors (e.g. model.parameters()), "
                        f"got {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError(f"{name}: got an empty parameter list")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, expected a Tensor")
        if not p.is_leaf:
            raise ValueError(f"{name}: parameter {i} is not a leaf tensor (it was computed from others); "
                             "optimize the leaves, or .detach() it first")
        if id(p) in seen:
            raise ValueError(f"{name}: parameter {i} appears more than once in the parameter list")
        seen.add(id(p))
    return params


def _number_at_least(opt, what, value, low):
    """A finite real number >= low: an infinite lr or eps turns every parameter into inf or NaN."""
    if not _is_real(value) or not low <= value < math.inf:
        raise ValueError(f"{type(opt).__name__}: {what} must be a finite number >= {low:g}, got {value!r}")
    return float(value)


def _fraction(opt, what, value):
    """A decay rate in [0, 1): 1 would freeze the running average forever."""
    if not _is_real(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"{type(opt).__name__}: {what} must lie in [0, 1), got {value!r}")
    return float(value)


def _flag(opt, what, value):
    """True or False, nothing merely truthy: bool("False") is True."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{type(opt).__name__}: {what} must be True or False, got {value!r}")
    return bool(value)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _copy_to_numpy(value):
    return backend.to_numpy(value.copy()) if hasattr(value, "shape") else value


def _array_like(value, param):
    """A saved slot as a fresh array on the parameter's device, in its dtype."""
    xp = backend.get_array_module(param)
    return xp.array(backend.to_device(np.asarray(value), backend.device_of(param)), dtype=param.dtype, copy=True)


def _state_problems(opt, state):
    """Everything about ``state`` that does not fit ``opt``, as readable lines, each naming its key."""
    name = type(opt).__name__
    if not isinstance(state, dict):
        return [f"expected a dict from {name}.state_dict(), got {type(state).__name__}"]
    missing = [key for key in ("optimizer", "hyper", "steps", "slots") if key not in state]
    if missing:
        return [f"missing entries {missing}"]
    if not isinstance(state["optimizer"], str) or state["optimizer"] != name:
        return [f"'optimizer': it was saved by {state['optimizer']}, not {name}"]
    hyper_problems = _hyper_problems(opt, state["hyper"])
    problems = hyper_problems + _count_problems("'steps'", state["steps"])
    slots = state["slots"]
    if not isinstance(slots, (list, tuple)):
        problems.append(f"'slots': expected a list with a dict per parameter, got {type(slots).__name__}")
    elif len(slots) != len(opt.params):
        problems.append(f"'slots': it holds slots for {len(slots)} parameters, this optimizer has {len(opt.params)}")
    elif not hyper_problems:  # the hyper-parameters say which slots each parameter must have
        expected = set(opt._slot_names(opt._checked_hyper(state["hyper"])))
        for i, (p, saved) in enumerate(zip(opt.params, slots)):
            problems += _slot_problems(opt, f"slots[{i}]", saved, p, expected)
    return problems


def _hyper_problems(opt, hyper):
    if not isinstance(hyper, dict):
        return [f"'hyper': expected a dict of hyper-parameters, got {type(hyper).__name__}"]
    problems = []
    missing = [key for key in opt.hyper_names if key not in hyper]
    unexpected = [key for key in hyper if key not in opt.hyper_names]
    if missing:
        problems.append(f"'hyper': missing hyper-parameters {missing}")
    if unexpected:
        problems.append(f"'hyper': unexpected hyper-parameters {unexpected}")
    if not missing:
        try:
            opt._checked_hyper(hyper)
        except ValueError as error:
            problems.append(f"'hyper': {error}")
    return problems


def _count_problems(where, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or value < 0:
        return [f"{where}: expected a count of steps (an int >= 0), got {value!r}"]
    return []


def _slot_problems(opt, where, saved, param, expected):
    if not isinstance(saved, dict):
        return [f"{where}: expected a dict of slots (empty for a parameter never updated), got {saved!r}"]
    if saved and set(saved) != expected:  # an empty dict: a parameter that was never updated
        return [f"{where}: slots {sorted(saved, key=str)}, expected {sorted(expected)}"]
    problems = []
    for key, value in saved.items():
        at = f"{where}[{key!r}]"
        if key in opt.counters:
            problems += _count_problems(at, value)
        else:
            problems += _slot_array_problems(at, value, param, second_moment=key in opt.second_moments)
    return problems


def _slot_array_problems(where, value, param, second_moment):
    """A saved slot must be a finite floating-point NumPy array of the parameter's shape (what state_dict gives)."""
    if not isinstance(value, np.ndarray):
        return [f"{where}: expected a NumPy array, got {type(value).__name__}"]
    if value.dtype.kind != "f":
        return [f"{where}: expected floating-point values, got dtype {value.dtype}"]
    if value.shape != param.shape:
        return [f"{where}: has shape {value.shape}, the parameter has shape {param.shape}"]
    if not np.isfinite(value).all():
        return [f"{where}: holds NaN or infinite values"]
    if value.size and np.abs(value).max() > np.finfo(param.dtype).max:
        return [f"{where}: holds values up to {np.abs(value).max():.3g}, beyond the range of the "
                f"parameter's {param.dtype}"]
    if second_moment and (value < 0).any():
        return [f"{where}: holds negative values (down to {value.min():.3g}); it averages squared gradients, "
                "so it is never below 0"]
    return []


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    PyTorch's momentum form:  g = grad + weight_decay * p;
    buf = momentum * buf + g;  p -= lr * buf
    (Nesterov: p -= lr * (g + momentum * buf)). The buffer starts at zero, so
    the first step is a plain gradient step, as in PyTorch.
    """

    hyper_names = ("lr", "momentum", "nesterov", "weight_decay")

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)

    def _checked_hyper(self, hyper):
        checked = dict(super()._checked_hyper(hyper),
                       momentum=_number_at_least(self, "momentum", hyper["momentum"], 0.0),
                       nesterov=_flag(self, "nesterov", hyper["nesterov"]),
                       weight_decay=_number_at_least(self, "weight_decay", hyper["weight_decay"], 0.0))
        if checked["nesterov"] and checked["momentum"] == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        return checked

    def _slot_names(self, hyper):
        return ("momentum_buffer",) if hyper["momentum"] else ()

    def _update(self, param, grad, slots):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            buf = slots["momentum_buffer"] = self.momentum * slots["momentum_buffer"] + grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param -= self.lr * grad


class RMSProp(Optimizer):
    """RMSProp: divide each gradient by a running root mean square of recent gradients.

    One update, with every option spelled out::

        g  = grad + weight_decay * p
        s  = rho * s + (1 - rho) * g^2                  # the accumulator, starts at initial_accumulator
        centered:  a = rho * a + (1 - rho) * g;  var = s - a^2     (a starts at 0)
        otherwise: var = s
        d  = sqrt(var + eps)    if eps_inside_sqrt
             sqrt(var) + eps    otherwise (the default)
        buf = momentum * buf + g / d;  p -= lr * buf     (momentum > 0; buf starts at 0)
        p -= lr * g / d                                  (momentum = 0)

    Where epsilon sits matters while the accumulator is small: sqrt(s + 1e-7)
    is at least 3e-4, while sqrt(s) + 1e-7 can be 1e-7, so the first steps of
    the two forms differ by orders of magnitude.

    How the frameworks set it up:

    - the defaults here (rho=0.9, eps=1e-7 outside the root, accumulator
      from 0) are classic Keras' (Keras <= 2.3: ``K.epsilon()`` added after
      the square root);
    - Keras 3 and tf.keras' ``RMSprop`` keep rho=0.9, eps=1e-7 and an
      accumulator from 0 but put epsilon *inside* the root: pass
      ``eps_inside_sqrt=True``;
    - PyTorch's ``torch.optim.RMSprop`` uses alpha=0.99, eps=1e-8 outside
      the root, accumulator from 0: ``RMSProp(params, lr, rho=0.99, eps=1e-8)``
      gives the same trajectory;
    - TensorFlow 1's ``tf.train.RMSPropOptimizer`` (decay=0.9, eps=1e-10
      *inside* the root, accumulator initialised to *ones*) is
      ``RMSProp.tf1(params, lr)``; the textbook autoencoder's published
      cost table was produced with it.
    """

    hyper_names = ("lr", "rho", "eps", "momentum", "centered", "eps_inside_sqrt", "initial_accumulator",
                   "weight_decay")
    second_moments = ("square_avg",)

    def __init__(self, params, lr=1e-3, rho=0.9, eps=1e-7, momentum=0.0, centered=False, eps_inside_sqrt=False,
                 initial_accumulator=0.0, weight_decay=0.0):
        super().__init__(params, lr=lr, rho=rho, eps=eps, momentum=momentum, centered=centered,
                         eps_inside_sqrt=eps_inside_sqrt, initial_accumulator=initial_accumulator,
                         weight_decay=weight_decay)

    @classmethod
    def tf1(cls, params, lr=0.01, decay=0.9, momentum=0.0, eps=1e-10, centered=False):
        """TensorFlow 1's ``tf.train.RMSPropOptimizer``: eps inside the root, accumulator starting at 1.

        TF1 writes ``ms = decay*ms + (1-decay)*g^2; mom = momentum*mom + lr*g/sqrt(ms+eps); p -= mom``,
        which is this class's update with those settings.
        """
        return cls(params, lr=lr, rho=decay, eps=eps, momentum=momentum, centered=centered,
                   eps_inside_sqrt=True, initial_accumulator=1.0)

    def _checked_hyper(self, hyper):
        return dict(super()._checked_hyper(hyper),
                    rho=_fraction(self, "rho", hyper["rho"]),
                    eps=_number_at_least(self, "eps", hyper["eps"], 0.0),
                    momentum=_number_at_least(self, "momentum", hyper["momentum"], 0.0),
                    centered=_flag(self, "centered", hyper["centered"]),
                    eps_inside_sqrt=_flag(self, "eps_inside_sqrt", hyper["eps_inside_sqrt"]),
                    initial_accumulator=_number_at_least(self, "initial_accumulator",
                                                         hyper["initial_accumulator"], 0.0),
                    weight_decay=_number_at_least(self, "weight_decay", hyper["weight_decay"], 0.0))

    def _slot_names(self, hyper):
        return (("square_avg",) + (("grad_avg",) if hyper["centered"] else ())
                + (("momentum_buffer",) if hyper["momentum"] else ()))

    def _new_slots(self, param):
        slots = super()._new_slots(param)
        slots["square_avg"] += self.initial_accumulator
        return slots

    def _update(self, param, grad, slots):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        # the class docstring's formula, in place: kernels/optim.py holds it as written beside the kernel
        kernels.rmsprop_update(param, grad, slots["square_avg"], lr=self.lr, rho=self.rho, eps=self.eps,
                               eps_inside_sqrt=self.eps_inside_sqrt, grad_avg=slots.get("grad_avg"),
                               momentum=self.momentum, momentum_buffer=slots.get("momentum_buffer"))


class Adam(Optimizer):
    """Adam, with optional L2 weight decay or decoupled weight decay (AdamW).

    One update at step t (t counts this parameter's updates, as PyTorch)::

        g = grad + weight_decay * p                      (decoupled=False)
        p = p * (1 - lr * weight_decay)                  (decoupled=True: AdamW)
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2     (both start at 0)
        m_hat = m / (1 - beta1^t);   v_hat = v / (1 - beta2^t)
        p -= lr * m_hat / (sqrt(v_hat) + eps)

    This is PyTorch's placement of epsilon, and its default eps=1e-8.
    Keras' Adam uses eps=1e-7 and adds it to sqrt(v) before the bias
    correction (``lr * sqrt(1-beta2^t)/(1-beta1^t) * m / (sqrt(v) + eps)``,
    i.e. an epsilon of eps / sqrt(1-beta2^t) in the form above); lessons
    that rebuild a Keras model pass eps=1e-7, which agrees with Keras to
    well within training noise.
    """

    hyper_names = ("lr", "betas", "eps", "weight_decay", "decoupled")
    counters = ("step",)
    second_moments = ("exp_avg_sq",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)

    def _checked_hyper(self, hyper):
        betas = hyper["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        return dict(super()._checked_hyper(hyper),
                    betas=(_fraction(self, "beta1", betas[0]), _fraction(self, "beta2", betas[1])),
                    eps=_number_at_least(self, "eps", hyper["eps"], 0.0),
                    weight_decay=_number_at_least(self, "weight_decay", hyper["weight_decay"], 0.0),
                    decoupled=_flag(self, "decoupled", hyper["decoupled"]))

    def _slot_names(self, hyper):
        return ("step", "exp_avg", "exp_avg_sq")

    def _update(self, param, grad, slots):
        if self.weight_decay and self.decoupled:
            param *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            grad = grad + self.weight_decay * param
        slots["step"] += 1
        # m, v, m_hat, v_hat and the step of the class docstring, in place: kernels/optim.py holds the
        # formula as written beside the kernel
        kernels.adam_update(param, grad, slots["exp_avg"], slots["exp_avg_sq"], step=slots["step"],
                            lr=self.lr, betas=self.betas, eps=self.eps)
