"""Tensor, Function and the graph walk.

A Tensor wraps one array. Every op is a Function: ``forward`` computes on raw
arrays, ``backward`` maps the output's gradient to the inputs' gradients using
Tensor ops. Because backward is written with Tensor ops, running it while
gradients are recorded (``create_graph=True``) builds the graph of the
gradient itself, which is how second derivatives come out.
"""
import contextlib
import weakref

import numpy as np

from . import backend

float32 = np.float32
float64 = np.float64

_grad_enabled = True
_anomaly_mode = False


@contextlib.contextmanager
def _grad_mode(enabled):
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """Context manager: ops inside it record nothing (evaluation, optimiser updates)."""
    return _grad_mode(False)


def enable_grad():
    return _grad_mode(True)


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def detect_anomaly():
    """Raise as soon as a forward or backward op produces nan/inf, naming that op."""
    global _anomaly_mode
    previous, _anomaly_mode = _anomaly_mode, True
    try:
        yield
    finally:
        _anomaly_mode = previous


def _check_finite(array, what):
    xp = backend.get_array_module(array)
    if array.dtype.kind == "f" and not bool(xp.isfinite(array).all()):
        raise FloatingPointError(f"anomaly: {what} contains nan or inf")


class Tensor:
    """An array with an optional gradient and the Function that produced it."""

    __slots__ = ("data", "grad", "_requires_grad", "_fn", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, data, requires_grad=False):
        self.data = data
        self.grad = None
        self._fn = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # --- properties -------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.data.dtype}")
        if not value and self._fn is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf tensor; use .detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, value=True):
        self.requires_grad = value
        return self

    @property
    def is_leaf(self):
        return self._fn is None

    @property
    def grad_fn(self):
        """The Function that made this tensor, None for a leaf (PyTorch's name).

        ``grad_fn.name`` is the op ("Mul") and ``grad_fn.inputs`` its input
        Tensors, so following ``inputs[i].grad_fn`` walks the graph backwards.
        A backward without ``retain_graph=True`` frees the graph: the Function
        stays, but its ``inputs`` become None.
        """
        return self._fn

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        device = "" if self.device == "cpu" else ", device='cuda'"
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", threshold=50)
        return f"tensor({body}, dtype={self.dtype}{device}{grad})"

    # --- conversions ------------------------------------------------------
    def numpy(self):
        """The values as a NumPy array (copied from the GPU when on 'cuda')."""
        return backend.to_numpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): tensor has {self.data.size} elements, expected 1")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self):
        """The same values, cut off from the graph."""
        return Tensor(self.data)

    def to(self, device):
        """A copy on ``device`` ('cpu' or 'cuda') that gradients flow back through."""
        if device == self.device:
            return self
        from .ops.shape import ToDevice
        return ToDevice(device)(self)

    def astype(self, dtype):
        from .ops.elementwise import Cast
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else Cast(dtype)(self)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    # --- autograd ---------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad (no input had requires_grad=True)")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward(): output has shape {self.shape}; pass grad= for a non-scalar output")
            grad = Tensor(backend.get_array_module(self.data).ones_like(self.data))
        else:
            grad = _grad_tensor_for(self, grad)
        _backward_pass([self], [grad], retain_graph or create_graph, create_graph, wanted=None)

    def zero_grad(self):
        self.grad = None

    # --- operators (the ops live in minigrad.ops) --------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(base, self)

    def __neg__(self):
        return _ops.neg(self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # comparisons give constant boolean tensors (masks); == stays identity so tensors hash
    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def abs(self):
        return _ops.abs(self)

    def clip(self, min=None, max=None):
        return _ops.clip(self, min, max)

    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops.min(self, axis, keepdims)

    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    def transpose(self, *axes):
        return _ops.transpose(self, *axes)

    @property
    def T(self):
        return _ops.transpose(self)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _grad_tensor_for(output, grad):
    if not isinstance(grad, Tensor):  # a list, or an array on either device
        array = backend.get_array_module(grad).asarray(grad, dtype=output.dtype)
        grad = Tensor(backend.to_device(array, output.device))
    if grad.shape != output.shape:
        raise ValueError(f"backward(): grad has shape {grad.shape}, expected the output's shape {output.shape}")
    if grad.dtype != output.dtype or grad.device != output.device:
        raise ValueError(f"backward(): grad is {grad.dtype} on {grad.device}, expected the output's "
                         f"{output.dtype} on {output.device}")
    return grad


class Function:
    """One differentiable op.

    Subclasses write ``forward(*arrays) -> array`` and ``backward(grad_output)
    -> one gradient Tensor (or None) per input``. Forward keeps what backward
    needs as attributes; ``self.inputs`` and ``self.output`` are the Tensors.
    ``self.needs_input_grad[i]`` says whether input i's gradient is wanted,
    so backward can skip work nobody asked for.
    """

    inputs = None
    needs_input_grad = ()

    def __call__(self, *inputs):
        arrays = [t.data for t in inputs]
        if len(arrays) > 1:
            _check_inputs_agree(self, arrays)
        out = self.forward(*arrays)
        if isinstance(out, np.generic):  # NumPy reductions return scalars; a Tensor always holds an array
            out = np.asarray(out)
        if _anomaly_mode:
            _check_finite(out, f"the output of {self.name}")
        result = Tensor(out)
        if _grad_enabled and any(t._requires_grad for t in inputs):
            result._requires_grad = True
            result._fn = self
            self.inputs = inputs
            self._output = weakref.ref(result)
        return result

    @property
    def name(self):
        return type(self).__name__

    @property
    def output(self):
        return self._output()

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def release(self):
        """Drop everything saved for backward (the graph is freed after use)."""
        self.__dict__.clear()
        self.released = True


def _check_inputs_agree(fn, arrays):
    """One device and one float dtype per op: mixing either is an error at the call, not a silent copy or
    promotion (a float64 array would turn the rest of a float32 graph into float64, and its gradients with it)."""
    first, dtype = type(arrays[0]), arrays[0].dtype
    for a in arrays:  # a plain loop: this runs for every op, and a generator costs twice as much
        if type(a) is not first or a.dtype != dtype:
            break
    else:
        return
    if not all(type(a) is first for a in arrays):
        devices = {backend.device_of(a) for a in arrays}
        if len(devices) > 1:
            raise backend.DeviceError(f"{fn.name}: inputs are on different devices ({' and '.join(sorted(devices))}); "
                                      "move them with .to(device) first")
    float_dtypes = {a.dtype for a in arrays if a.dtype.kind == "f"}
    if len(float_dtypes) > 1:
        raise TypeError(f"{fn.name}: inputs mix {' and '.join(sorted(map(str, float_dtypes)))}; "
                        "convert one with .float() or .double() first")


def _topological_order(roots):
    """Tensors reachable from roots that need gradients, each after all tensors it depends on."""
    order, visited = [], set()
    stack = [(root, False) for root in roots]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        fn = tensor._fn
        if fn is None:
            continue
        if getattr(fn, "released", False):
            raise RuntimeError(
                f"backward through {fn.name} a second time: its saved values were freed after the first backward. "
                "Pass retain_graph=True to the first backward() if you need to go through the graph twice.")
        for inp in fn.inputs:
            if inp._requires_grad and id(inp) not in visited:
                stack.append((inp, False))
    return order


def _backward_pass(roots, root_grads, retain_graph, create_graph, wanted):
    """Walk the graph from roots in reverse topological order.

    wanted=None accumulates into the leaves' ``.grad``; otherwise wanted is a
    list of tensors whose gradients are returned (``.grad`` untouched), and
    only the part of the graph that leads to them is walked.
    """
    order = _topological_order(roots)
    if wanted is None:
        leads_to_wanted = None
    else:
        wanted_ids = {id(t) for t in wanted}
        leads_to_wanted = set()
        for tensor in order:  # inputs come before the tensors built from them
            fn = tensor._fn
            if id(tensor) in wanted_ids or (fn is not None and any(id(i) in leads_to_wanted for i in fn.inputs)):
                leads_to_wanted.add(id(tensor))
    grads = {}
    for root, grad in zip(roots, root_grads):
        _accumulate(grads, root, grad)
    handed_out = {id(g) for g in root_grads}  # gradient Tensors that someone else already holds
    found = {}
    with _grad_mode(create_graph):
        for tensor in reversed(order):
            grad = grads.pop(id(tensor), None)
            if grad is None:
                continue
            if leads_to_wanted is not None:
                if id(tensor) in wanted_ids:
                    found[id(tensor)] = grad
                if id(tensor) not in leads_to_wanted:
                    continue
            fn = tensor._fn
            if fn is None:
                if wanted is None:
                    tensor.grad = _leaf_grad(tensor.grad, grad, create_graph, handed_out)
                continue
            inputs = fn.inputs
            if leads_to_wanted is None:
                fn.needs_input_grad = tuple(t._requires_grad for t in inputs)
            else:
                fn.needs_input_grad = tuple(id(t) in leads_to_wanted for t in inputs)
            needs = fn.needs_input_grad
            try:
                input_grads = fn.backward(grad)
            except FloatingPointError as exc:  # an op inside this backward made a nan: say whose backward it was
                if not _anomaly_mode:
                    raise
                raise FloatingPointError(f"{exc} (in {fn.name}.backward)") from None
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if not retain_graph:
                fn.release()
            for inp, inp_grad, needed in zip(inputs, input_grads, needs):
                if inp_grad is None or not needed:
                    continue
                if inp_grad.data.shape != inp.data.shape or inp_grad.data.dtype != inp.data.dtype:
                    raise RuntimeError(f"{fn.name}.backward returned a gradient of shape {inp_grad.shape} and dtype "
                                       f"{inp_grad.dtype} for an input of shape {inp.shape} and dtype {inp.dtype}")
                if _anomaly_mode:
                    _check_finite(inp_grad.data, f"the gradient {fn.name}.backward computed")
                _accumulate(grads, inp, inp_grad)
    return found


def _leaf_grad(previous, grad, create_graph, handed_out):
    """A leaf's new ``.grad``: ``grad`` added to what it held.

    Without create_graph the result gets an array of its own: the walk hands
    out views (a broadcast, read-only) and passes one Tensor to both inputs of
    an add, while optimisers update ``.grad`` in place.
    """
    if previous is not None:
        return previous + grad  # a new Tensor, part of a graph only under create_graph
    if not create_graph and (id(grad) in handed_out or not grad.data.flags.owndata):
        grad = Tensor(grad.data.copy())
    handed_out.add(id(grad))
    return grad


def _accumulate(grads, tensor, grad):
    key = id(tensor)
    previous = grads.get(key)
    grads[key] = grad if previous is None else previous + grad


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """Gradients of outputs with respect to inputs, as a tuple; ``.grad`` is left untouched.

    With create_graph=True the returned gradients are part of the graph, so
    they can be differentiated again (gradient penalties, Hessian products).
    An input the outputs do not depend on gets a zero gradient.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad")
    roots, root_grads = [], []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            continue
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(f"grad(): output has shape {out.shape}; pass grad_outputs for a non-scalar output")
            g = Tensor(backend.get_array_module(out.data).ones_like(out.data))
        roots.append(out)
        root_grads.append(_grad_tensor_for(out, g))
    retain = create_graph if retain_graph is None else retain_graph
    found = _backward_pass(roots, root_grads, retain, create_graph, wanted=inputs) if roots else {}
    result = []
    for t in inputs:
        g = found.get(id(t))
        result.append(g if g is not None else Tensor(backend.get_array_module(t.data).zeros_like(t.data)))
    return tuple(result)


from . import ops as _ops  # noqa: E402  (the ops need Tensor and Function defined first)
