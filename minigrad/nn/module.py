"""Module, Parameter and Sequential: the containers layers and models are built from.

A Module finds its parameters, buffers and sub-modules by looking at its own
attributes, in the order they were set: a ``Parameter`` is a parameter, a
``Module`` (or a list or tuple of Modules) is a child, and a Tensor registered
with ``register_buffer`` is a buffer (state that is saved but not trained,
such as BatchNorm's running statistics). Names follow PyTorch's:
``encoder.0.weight``.
"""
import numpy as np

from .. import backend
from ..autograd import Tensor


class Parameter(Tensor):
    """A Tensor that is a trainable parameter: it requires grad, and a Module that holds it lists it."""

    __slots__ = ()

    def __init__(self, data):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models: subclasses set attributes in __init__ and write forward().

    Calling super().__init__() is optional: a Module has no state of its own
    except the ``training`` flag (new modules train) and its buffer names.
    """

    training = True
    _buffer_names = ()

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def register_buffer(self, name, tensor):
        """Keep ``tensor`` as ``self.<name>``: part of state_dict() and moved by to(), but not a parameter."""
        if not isinstance(tensor, Tensor) or isinstance(tensor, Parameter):
            raise TypeError(f"{type(self).__name__}.register_buffer: {name!r} must be a Tensor (not a Parameter), "
                            f"got {type(tensor).__name__}")
        self._buffer_names = tuple(self._buffer_names) + (name,)
        setattr(self, name, tensor)

    # --- walking the tree -------------------------------------------------
    def named_children(self):
        """(name, module) for every direct sub-module; a list attribute ``blocks`` gives ``blocks.0``, ..."""
        children = []
        for name, value in vars(self).items():
            if isinstance(value, Module):
                children.append((name, value))
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Module) for v in value):
                children.extend((f"{name}.{i}", v) for i, v in enumerate(value))
        return children

    def children(self):
        return [module for _, module in self.named_children()]

    def _named_state(self, prefix=""):
        """(name, tensor, is_parameter) for this module's parameters and buffers, then its children's."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value, True
            elif name in self._buffer_names:
                yield prefix + name, value, False
        for name, child in self.named_children():
            yield from child._named_state(f"{prefix}{name}.")

    def named_parameters(self):
        """(name, Parameter) pairs; a parameter shared by two layers appears once."""
        seen, pairs = set(), []
        for name, tensor, is_parameter in self._named_state():
            if is_parameter and id(tensor) not in seen:
                seen.add(id(tensor))
                pairs.append((name, tensor))
        return pairs

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        return [(name, tensor) for name, tensor, is_parameter in self._named_state() if not is_parameter]

    def buffers(self):
        return [t for _, t in self.named_buffers()]

    def modules(self):
        """This module and every module below it."""
        found = [self]
        for child in self.children():
            found.extend(child.modules())
        return found

    # --- state --------------------------------------------------------------
    def state_dict(self):
        """Name -> Tensor for every parameter and buffer, in definition order (the values share memory)."""
        return {name: Tensor(tensor.data) for name, tensor, _ in self._named_state()}

    def load_state_dict(self, state, strict=True):
        """Copy ``state`` (name -> array or Tensor) into this module's parameters and buffers.

        Every problem (missing keys, unexpected keys, wrong shapes, values that
        are not arrays, of another kind of dtype, NaN or infinite, or beyond the
        parameter's dtype's range) is reported in one ValueError before anything
        is changed; strict=False tolerates missing and unexpected keys, nothing
        else. Values are converted to each parameter's dtype and moved to its device.
        """
        if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict of name -> array, "
                             f"got a {type(state).__name__}")
        own = {name: tensor for name, tensor, _ in self._named_state()}
        problems = []
        if strict:
            missing = [name for name in own if name not in state]
            unexpected = [name for name in state if name not in own]
            if missing:
                problems.append("missing keys: " + ", ".join(missing))
            if unexpected:
                problems.append("unexpected keys: " + ", ".join(unexpected))
        present = [name for name in own if name in state]
        not_arrays = [f"{name} (a {type(state[name]).__name__})" for name in present if not _is_array(state[name])]
        if not_arrays:
            problems.append("not arrays or Tensors: " + ", ".join(not_arrays))
        present = [name for name in present if _is_array(state[name])]
        wrong = [f"{name} (checkpoint {tuple(_raw(state[name]).shape)}, model {own[name].shape})"
                 for name in present if tuple(_raw(state[name]).shape) != own[name].shape]
        if wrong:
            problems.append("wrong shapes: " + ", ".join(wrong))
        loaded, bad_values = {}, []
        for name in present:
            values = backend.to_numpy(_raw(state[name]))
            problem = _value_problem(values, own[name].dtype)
            if problem:
                bad_values.append(f"{name} ({problem})")
            else:
                with np.errstate(over="ignore"):  # overflow is reported below, by name
                    loaded[name] = np.array(values, dtype=own[name].dtype)
                if not np.isfinite(loaded[name]).all() and loaded[name].dtype.kind == "f":
                    bad_values.append(f"{name} (values up to {np.abs(values).max():.3g} do not fit "
                                      f"{own[name].dtype})")
        if bad_values:
            problems.append("bad values: " + ", ".join(bad_values))
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state does not fit this model; "
                             + "; ".join(problems))
        for name, values in loaded.items():
            own[name].data = backend.to_device(values, own[name].device)
        return self

    # --- modes, devices, dtypes ------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout drops, BatchNorm uses batch statistics) for this module and all below it."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def to(self, device):
        """Move every parameter, buffer and gradient to ``device`` in place; returns the module."""
        backend.check_device(device)
        for _, tensor, _ in self._named_state():
            tensor.data = backend.to_device(tensor.data, device)
            if tensor.grad is not None:
                tensor.grad = Tensor(backend.to_device(tensor.grad.data, device))
        return self

    def astype(self, dtype):
        """Convert every parameter and buffer to ``dtype`` in place (float64 for gradient checks); returns the module."""
        dtype = np.dtype(dtype)
        for _, tensor, _ in self._named_state():
            tensor.data = tensor.data.astype(dtype, copy=False)
            tensor.grad = None
        return self

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    # --- printing -----------------------------------------------------------
    def extra_repr(self):
        """The layer's settings, shown inside its repr's parentheses."""
        return ""

    def __repr__(self):
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _is_array(value):
    """A Tensor or a NumPy/CuPy array or scalar; a Python list or number is not (its dtype would be a guess)."""
    return isinstance(value, Tensor) or (hasattr(value, "shape") and hasattr(value, "dtype"))


def _kind(dtype):
    """'float', 'integer', 'bool', or the dtype's name for every other kind (complex, str, object)."""
    return {"f": "float", "i": "integer", "u": "integer", "b": "bool"}.get(dtype.kind, str(dtype))


def _value_problem(values, dtype):
    """Why ``values`` cannot become a ``dtype`` parameter or buffer, or None."""
    if _kind(values.dtype) != _kind(dtype):
        return f"dtype {values.dtype}, expected {_kind(dtype)} values for {dtype}"
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        return f"{int(np.isnan(values).sum())} NaN and {int(np.isinf(values).sum())} infinite values"
    return None


class Sequential(Module):
    """Layers applied one after the other; indexable (``model[0]``, ``model[-1]``, ``model[1:3]``), iterable, len()."""

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, not a Module "
                                "(an activation goes in as nn.ReLU(), not F.relu)")
            setattr(self, str(i), layer)

    def _layers(self):
        return [module for _, module in self.named_children()]

    def __getitem__(self, index):
        layers = self._layers()
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]

    def __len__(self):
        return len(self._layers())

    def __iter__(self):
        return iter(self._layers())

    def forward(self, x):
        for layer in self._layers():
            x = layer(x)
        return x
