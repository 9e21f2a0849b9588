"""Tensor, Function and the graph walk.

A Tensor wraps one array. Every op is a Function: ``forward`` computes on raw
arrays, ``backward`` maps the output's gradient to the inputs' gradients using
Tensor ops. Because backward is written with Tensor ops, running it while
gradients are recorded (``create_graph=True``) builds the graph of the
gradient itself, which is how second derivatives come out.

Read it in this order: ``Tensor``; ``Function.__call__`` (what an op
records); ``Tensor.backward``, which is ``topological_sort`` then
``backpropagate``; and ``grad``, the same walk pruned to the inputs asked
for. This module imports no op: the ops import Tensor and Function, and
minigrad/ops/__init__.py attaches them to Tensor as its operators.
"""
import contextlib
import operator
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


def _in_place(combine, symbol):
    """``t -= x`` and its kin, as PyTorch: under no_grad t keeps being the same tensor (a leaf stays a leaf,
    the model still holds it) and gets the new values; while recording, it is ``t = t - x`` for a tensor an op
    made, and refused for a leaf that requires grad, whose update the graph would otherwise record."""
    def update(self, other):
        if _grad_enabled and self._fn is None and self._requires_grad:
            raise RuntimeError(
                f"w {symbol}= ... on a leaf tensor that requires grad would record the update in the graph, and w "
                f"would stop being a leaf. Update it outside the graph: with mg.no_grad(): w {symbol}= ...; or "
                "w.data -= lr * w.grad.data; or let an optimizer do it (optim.SGD(params, lr).step())")
        result = combine(self, other)
        if _grad_enabled:
            return result
        if result.shape != self.shape or result.dtype != self.dtype:
            raise ValueError(f"t {symbol}= x: t is {self.dtype} of shape {self.shape}, the result {result.dtype} "
                             f"of shape {result.shape}; an in-place update keeps t's shape and dtype")
        self.data = result.data  # a new array: a graph that saved the old one finds it replaced, and says so
        return self
    return update


class Tensor:
    """An array with an optional gradient and the Function that produced it."""

    __slots__ = ("data", "grad", "_requires_grad", "_fn", "__weakref__")
    # NumPy's hooks (ndarray * Tensor, np.exp(t), np.sum(t)) are attached with the operators in minigrad/ops/__init__.py

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

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                             "use .any() / .all()")
        return bool(self.item())

    def __float__(self):  # float(loss); NumPy also takes a one-element tensor inside a list this way
        return float(self.item())

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

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t): the values, as PyTorch gives them; a 'cuda' tensor is copied to the host only when asked."""
        if self.device != "cpu":
            raise TypeError(f"np.asarray(t): t is on '{self.device}', and a copy to the host is never implicit; "
                            "call t.numpy() (or t.to('cpu'))")
        return np.array(self.data, dtype=dtype, copy=True) if copy else np.asarray(self.data, dtype=dtype)

    def detach(self):
        """The same values, cut off from the graph."""
        return Tensor(self.data)

    # --- autograd ---------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        The walk: sort the graph so each tensor comes after the tensors it was
        made from, run every Function's backward from the last op to the first
        (``backpropagate``), then add what reached each leaf to its ``.grad``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad (no input had requires_grad=True)")
        grad = _starting_grad(self, grad, "backward()", "grad=")
        order = topological_sort([self])
        grads = {id(self): grad}
        backpropagate(order, grads, retain_graph or create_graph, create_graph)
        _add_to_leaf_grads(order, grads, create_graph, handed_out={id(grad)})

    def zero_grad(self):
        self.grad = None

    # Operators (+ - * / ** @, indexing) and op methods (exp, sum, reshape, to, astype, ...) are the ops of
    # minigrad/ops/, attached to Tensor in one table at the end of minigrad/ops/__init__.py.

    # comparisons give constant boolean tensors (masks); == stays identity so tensors hash
    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    def any(self):
        return Tensor(backend.get_array_module(self.data).asarray(self.data.any()))

    def all(self):
        return Tensor(backend.get_array_module(self.data).asarray(self.data.all()))

    # in place: an update outside the graph (w -= lr * w.grad under no_grad), or, while recording, t = t - x
    __iadd__ = _in_place(operator.add, "+")
    __isub__ = _in_place(operator.sub, "-")
    __imul__ = _in_place(operator.mul, "*")
    __itruediv__ = _in_place(operator.truediv, "/")


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _starting_grad(output, grad, caller, argument):
    """The gradient a walk starts from: ones for a scalar output, else ``grad`` checked against the output."""
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(f"{caller}: output has shape {output.shape}; pass {argument} for a non-scalar output")
        return Tensor(backend.get_array_module(output.data).ones_like(output.data))
    if not isinstance(grad, Tensor):  # a list, or an array on either device
        array = backend.get_array_module(grad).asarray(grad, dtype=output.dtype)
        grad = Tensor(backend.to_device(array, output.device))
    if grad.shape != output.shape:
        raise ValueError(f"{caller}: grad has shape {grad.shape}, expected the output's shape {output.shape}")
    if grad.dtype != output.dtype or grad.device != output.device:
        raise ValueError(f"{caller}: grad is {grad.dtype} on {grad.device}, expected the output's "
                         f"{output.dtype} on {output.device}")
    return grad


class Function:
    """One differentiable op.

    Subclasses write ``forward(*arrays) -> array`` and ``backward(grad_output)
    -> one gradient Tensor (or None) per input``. Forward keeps what backward
    needs as attributes; ``self.inputs`` and ``self.output`` are the Tensors.

    ``self.needs_input_grad[i]`` says whether input i's gradient is wanted, so
    backward can skip work nobody asked for. It is recorded with the inputs:
    input i requires grad. ``mg.grad(outputs, inputs)`` narrows it, while it
    walks, to the inputs on a path to the ones it was asked for.

    ``name`` is the op's name ("Mul"). A backward without retain_graph calls
    ``release()`` afterwards: what forward saved is dropped, ``inputs``
    becomes None and ``released`` True, so a second walk raises.

    While recorded, the NumPy arrays of its inputs and output are read-only
    (``b.data[:] = 100`` raises at the write), until release() (its own, or
    that of a newer Function holding the same array) or until the graph is
    dropped: backward must see the values forward saw. A tensor
    given a new array meanwhile (``b.data = ...``, an optimizer step) fails
    the backward, naming it and this op.
    """

    inputs = None
    needs_input_grad = ()
    released = False
    _locked = ()  # the arrays this Function made read-only

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
        if _grad_enabled:
            needs = tuple([t._requires_grad for t in inputs])  # a list inside: cheaper than a generator, on every op
            if True in needs:  # record: the result remembers this Function, which remembers its inputs
                self.inputs, self.needs_input_grad = inputs, needs
                self._output = weakref.ref(result)
                arrays.append(out)
                self._saved_arrays = arrays  # backward checks that every tensor still has these
                self._locked = _make_read_only(arrays)
                result._requires_grad = True
                result._fn = self
        return result

    @property
    def name(self):
        return type(self).__name__

    @property
    def output(self):
        return self._output()

    @property
    def next_functions(self):
        """PyTorch's view of the graph: one (Function that made input i, 0) pair per input, (None, 0) for a leaf.

        The 0 is the index of that Function's output (a minigrad Function has one).
        """
        if self.released:
            raise RuntimeError(f"{self.name}.next_functions: backward freed this graph; "
                               "pass retain_graph=True to backward() to walk it afterwards")
        return tuple([(t._fn, 0) for t in self.inputs])

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def release(self):
        """Drop everything saved for backward (the graph is freed after use); the saved arrays are writable again."""
        self._unlock()
        self.__dict__.clear()
        self.released = True

    def _unlock(self):
        for array in self._locked:
            if _read_only_arrays.pop(id(array), None) is array:  # not unlocked by another graph already
                array.setflags(write=True)

    __del__ = _unlock  # a graph dropped without a backward (an evaluation outside no_grad) unlocks its arrays too


_read_only_arrays = {}  # id(array) -> array: the arrays Functions made read-only, until a backward unlocks them


def _make_read_only(arrays):
    """Lock the NumPy arrays a Function saved; returns those its backward (or its end) unlocks.

    An edit through ``.data`` between forward and backward would otherwise
    change the gradient silently (PyTorch counts versions; a NumPy array can
    refuse writes). An array an older graph locked is unlocked by this one's
    backward too: an evaluation left without backward must not keep the
    weights read-only for the training steps after it. Views and arrays
    read-only for other reasons are left as they are; CuPy arrays cannot
    refuse writes.
    """
    locked = []
    for array in arrays:
        if type(array) is not np.ndarray or array.base is not None:
            continue
        if array.flags.writeable:
            array.setflags(write=False)
            _read_only_arrays[id(array)] = array
            locked.append(array)
        elif _read_only_arrays.get(id(array)) is array:
            locked.append(array)
    return locked


def writable_array(tensor):
    """``tensor.data``, ready to be updated in place (optimizers): first a copy of it, while a graph holds it."""
    if type(tensor.data) is np.ndarray and not tensor.data.flags.writeable:
        tensor.data = tensor.data.copy()  # that graph keeps the old values; its backward says they were replaced
    return tensor.data


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


# --- the graph walk -------------------------------------------------------------------------------------------

def topological_sort(roots):
    """The tensors reachable from roots that need a gradient, each after every tensor it was made from.

    Depth-first with an explicit stack, so a chain of 10,000 ops needs no recursion.
    """
    order, visited = [], set()
    stack = [(root, False) for root in roots]
    while stack:
        tensor, inputs_listed = stack.pop()
        if inputs_listed:  # its inputs are all in order now
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        fn = tensor._fn
        if fn is None:
            continue
        if fn.released:
            raise RuntimeError(
                f"backward through {fn.name} a second time: its saved values were freed after the first backward. "
                "Pass retain_graph=True to the first backward() if you need to go through the graph twice.")
        for inp in fn.inputs:
            if inp._requires_grad and id(inp) not in visited:
                stack.append((inp, False))
    return order


def backpropagate(order, grads, retain_graph, create_graph, keep=frozenset()):
    """Run each Function's backward, from the last op to the first, adding what it returns to its inputs' grads.

    ``grads`` maps id(tensor) to its gradient and starts with the roots'. When
    the loop reaches a tensor, every tensor made from it has already sent its
    share back, so its gradient is complete. The gradients of leaves, and of
    the tensors whose ids are in ``keep``, are left in ``grads``; the others
    are dropped once used. Without retain_graph each Function frees what it
    saved for backward.
    """
    backend.tune_allocator()  # once per process: training frees and re-makes the same buffers every step
    with _grad_mode(create_graph):  # create_graph: the backward ops are recorded, so gradients have gradients
        for tensor in reversed(order):
            fn = tensor._fn
            if fn is None:  # a leaf: its gradient stays in grads, for the caller
                continue
            grad = grads.get(id(tensor)) if id(tensor) in keep else grads.pop(id(tensor), None)
            if grad is None:  # the ops that used it sent no gradient back (None)
                continue
            inputs, needs = fn.inputs, fn.needs_input_grad
            input_grads = _run_backward(fn, grad, tensor)
            if not retain_graph:
                fn.release()
            _send_to_inputs(fn, inputs, needs, input_grads, grads)


def _send_to_inputs(fn, inputs, needs, input_grads, grads):
    """Add each wanted input gradient fn's backward returned to its input's entry in grads, checked first."""
    for inp, inp_grad, needed in zip(inputs, input_grads, needs):
        if needed and inp_grad is not None:
            if (not isinstance(inp_grad, Tensor) or inp_grad.data.shape != inp.data.shape
                    or inp_grad.data.dtype != inp.data.dtype):
                raise _wrong_gradient(fn, [g is inp_grad for g in input_grads].index(True), inp, inp_grad)
            if _anomaly_mode:
                _check_finite(inp_grad.data, f"the gradient {fn.name}.backward computed")
            _accumulate(grads, inp, inp_grad)


def _run_backward(fn, grad, output):
    """fn.backward(grad) as a tuple, one entry per input, once fn's saved tensors are found unchanged;
    under detect_anomaly a nan also names this backward."""
    _check_saved_arrays(fn, output)
    try:
        input_grads = fn.backward(grad)
    except FloatingPointError as exc:
        if not _anomaly_mode:
            raise
        raise FloatingPointError(f"{exc} (in {fn.name}.backward)") from None
    input_grads = input_grads if isinstance(input_grads, tuple) else (input_grads,)
    if len(input_grads) != len(fn.inputs):
        raise RuntimeError(f"{fn.name}.backward returned {len(input_grads)} gradient"
                           f"{'' if len(input_grads) == 1 else 's'} for {len(fn.inputs)} inputs; "
                           "return one per input (None for an input without one)")
    return input_grads


def _check_saved_arrays(fn, output):
    """Raise if a tensor fn saved was given a new array since its forward: backward would use the new values."""
    saved = fn._saved_arrays
    for i, (t, array) in enumerate(zip(fn.inputs, saved)):
        if t.data is not array:
            raise _replaced(fn, f"input {i} of {fn.name}", t)
    if output.data is not saved[-1]:
        raise _replaced(fn, f"the output of {fn.name}", output)


def _replaced(fn, which, tensor):
    return RuntimeError(f"backward: {which} ({tensor.dtype}, shape {tensor.shape}) was given a new array after "
                        f"{fn.name} saved it for backward (t.data = ..., an optimizer step, load_state_dict), so "
                        "the gradient would come from the new values. Change values after backward(), then run "
                        "the forward again")


def _wrong_gradient(fn, i, inp, inp_grad):
    if not isinstance(inp_grad, Tensor):
        kind = type(inp_grad)
        return TypeError(f"{fn.name}.backward returned a {kind.__module__}.{kind.__qualname__} for input {i}; "
                         "return a Tensor (mg.Tensor(array))")
    return RuntimeError(f"{fn.name}.backward returned a gradient of shape {inp_grad.shape} and dtype "
                        f"{inp_grad.dtype} for input {i}, of shape {inp.shape} and dtype {inp.dtype}")


def _accumulate(grads, tensor, grad):
    key = id(tensor)
    previous = grads.get(key)
    grads[key] = grad if previous is None else previous + grad


def _add_to_leaf_grads(order, grads, create_graph, handed_out):
    """Add the gradient that reached each leaf to its ``.grad`` (what Tensor.backward leaves behind)."""
    with _grad_mode(create_graph):
        for tensor in order:
            grad = grads.get(id(tensor))
            if tensor._fn is None and grad is not None:
                tensor.grad = _leaf_grad(tensor.grad, grad, create_graph, handed_out)


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


# --- mg.grad: the same walk, pruned to the wanted inputs, leaving .grad alone ----------------------------------

def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """Gradients of outputs with respect to inputs, as a tuple; ``.grad`` is left untouched.

    With create_graph=True the returned gradients are part of the graph, so
    they can be differentiated again (gradient penalties, Hessian products).
    An input the outputs do not depend on gets a zero gradient.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    grads = _output_grads(outputs, grad_outputs, inputs)
    wanted = {id(t) for t in inputs}
    if grads:
        order, on_path = prune_to_wanted(topological_sort([t for t in outputs if id(t) in grads]), wanted)
        with _only_toward(order, on_path):
            backpropagate(order, grads, create_graph if retain_graph is None else retain_graph, create_graph,
                          keep=wanted)
    return tuple(_found_or_zeros(grads, t) for t in inputs)


def _output_grads(outputs, grad_outputs, inputs):
    """{id(output): its starting gradient} for the outputs that require grad, after checking the arguments."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad")
    grads = {}
    for out, g in zip(outputs, grad_outputs):
        if out.requires_grad:
            _accumulate(grads, out, _starting_grad(out, g, "grad()", "grad_outputs"))
    return grads


def prune_to_wanted(order, wanted):
    """The part of a topological order that lies on a path to a wanted tensor (ids in ``wanted``).

    Returns that order and the set of its tensors' ids. mg.grad walks only
    this part: nothing else can change a wanted gradient.
    """
    on_path = set()
    for tensor in order:  # inputs come before the tensors made from them
        fn = tensor._fn
        if id(tensor) in wanted or (fn is not None and any(id(i) in on_path for i in fn.inputs)):
            on_path.add(id(tensor))
    return [t for t in order if id(t) in on_path], on_path


@contextlib.contextmanager
def _only_toward(order, on_path):
    """While mg.grad walks, each Function computes only the input gradients on a path to a wanted tensor
    (a gradient penalty wants d/dx, not the weights' gradients); the recorded needs come back afterwards."""
    fns = [t._fn for t in order if t._fn is not None]
    recorded = [fn.needs_input_grad for fn in fns]
    for fn in fns:
        fn.needs_input_grad = tuple([id(t) in on_path for t in fn.inputs])
    try:
        yield
    finally:
        for fn, needs in zip(fns, recorded):
            if not fn.released:
                fn.needs_input_grad = needs


def _found_or_zeros(grads, tensor):
    found = grads.get(id(tensor))
    return Tensor(backend.get_array_module(tensor.data).zeros_like(tensor.data)) if found is None else found
