"""A strict stand-in for CuPy that runs on the CPU.

Its ``ndarray`` wraps a NumPy array but, like a real GPU array, refuses to be
turned into a NumPy array behind the caller's back: ``np.asarray(x)``, NumPy
functions and ufuncs applied to it, and mixing it with NumPy arrays all raise
TypeError. The only ways across are ``asarray`` (to the "device") and
``asnumpy`` / ``.get()`` (back). Reductions return 0-d arrays rather than
scalars, as CuPy's do. So a test that passes on 'cuda' through this module
has found no place where minigrad assumes NumPy.

Every module function is NumPy's, wrapped: arguments are unwrapped, NumPy
arrays among them are refused, and array results are wrapped again.

    fake = StrictGPU()
    minigrad.backend.use_gpu_module(fake)
"""
import operator
import types

import numpy as np


def _refuse(what):
    raise TypeError(f"strict GPU stand-in: {what} would silently copy a device array to NumPy; "
                    "use asnumpy() / .get() explicitly")


def _unwrap(value, where):
    """Replace ndarrays by their NumPy arrays (in nested tuples/lists too); refuse raw NumPy arrays."""
    if isinstance(value, ndarray):
        return value._array
    if isinstance(value, np.ndarray):
        raise TypeError(f"strict GPU stand-in: {where} got a numpy.ndarray (shape {value.shape}); "
                        "move it to the device with asarray() first")
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap(v, where) for v in value)
    return value


def _wrap(value, inputs=()):
    """Wrap NumPy results; an ``out=`` result comes back as the caller's own wrapper."""
    for given in inputs:
        if isinstance(given, ndarray) and given._array is value:
            return given
    if isinstance(value, np.ndarray):
        return ndarray(value)
    if isinstance(value, np.generic):  # CuPy reductions give 0-d arrays, never scalars
        return ndarray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    return value


def _call(function, name, args, kwargs):
    raw_args = _unwrap(list(args), name)
    raw_kwargs = {k: _unwrap(v, name) for k, v in kwargs.items()}
    result = function(*raw_args, **raw_kwargs)
    return _wrap(result, list(args) + list(kwargs.values()))


class ndarray:
    """A device array: NumPy inside, no implicit way out."""

    __slots__ = ("_array",)

    def __init__(self, array):
        assert isinstance(array, np.ndarray)
        self._array = array

    # refusing silent conversion, as CuPy does
    def __array__(self, *args, **kwargs):
        _refuse("__array__ (np.asarray / np.array)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _refuse(f"the NumPy ufunc {ufunc.__name__}")

    def __array_function__(self, func, types, args, kwargs):
        _refuse(f"the NumPy function {func.__name__}")

    def __iter__(self):
        return (_wrap(row) for row in self._array)

    def get(self):
        return self._array.copy()

    def __repr__(self):
        return f"strict_gpu.ndarray({self._array!r})"

    # attributes and methods: NumPy's, wrapped
    def __getattr__(self, name):
        if name.startswith("__"):  # __array_interface__, __array_struct__, __dlpack__: NumPy's ways in
            raise AttributeError(name)
        value = getattr(self._array, name)
        if callable(value):
            return lambda *args, **kwargs: _call(value, f"ndarray.{name}", args, kwargs)
        return _wrap(value)

    def __len__(self):
        return len(self._array)

    def __bool__(self):
        return bool(self._array)

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __index__(self):
        return operator.index(self._array)

    def __getitem__(self, index):
        return _wrap(self._array[_unwrap(index, "indexing")])

    def __setitem__(self, index, value):
        self._array[_unwrap(index, "indexing")] = _unwrap(value, "item assignment")

    __hash__ = None


def _operator(function, reflected=False, inplace=False):
    def method(self, other):
        other = _unwrap(other, f"operator {function.__name__}")
        if reflected:
            return _wrap(function(other, self._array))
        result = function(self._array, other)
        return self if inplace else _wrap(result)
    return method


_BINARY = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
           "lshift", "rshift"]
for _name in _BINARY:
    _function = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(ndarray, f"__{_name}__", _operator(_function))
    setattr(ndarray, f"__r{_name}__", _operator(_function, reflected=True))
    setattr(ndarray, f"__i{_name}__", _operator(getattr(operator, f"i{_name}"), inplace=True))
for _name in ["lt", "le", "gt", "ge", "eq", "ne"]:
    setattr(ndarray, f"__{_name}__", _operator(getattr(operator, _name)))
for _name in ["neg", "pos", "abs", "invert"]:
    setattr(ndarray, f"__{_name}__", (lambda f: lambda self: _wrap(f(self._array)))(getattr(operator, _name)))


class _Ufunc:
    """A NumPy ufunc that takes and gives device arrays; ``add.at`` is the scatter-add."""

    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, self._ufunc.__name__, args, kwargs)

    def __getattr__(self, name):
        method = getattr(self._ufunc, name)
        return lambda *args, **kwargs: _call(method, f"{self._ufunc.__name__}.{name}", args, kwargs)


class _Namespace:
    """A NumPy (sub)module whose functions take and give device arrays."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if isinstance(value, np.ufunc):
            return _Ufunc(value)
        if isinstance(value, types.ModuleType):
            return _Namespace(value)
        if callable(value) and not isinstance(value, type):  # dtypes such as float32 pass through
            return lambda *args, **kwargs: _call(value, name, args, kwargs)
        return value


def _to_device(value, dtype=None, copy=None):
    if isinstance(value, ndarray):
        value = value._array
    return ndarray(np.array(value, dtype=dtype, copy=True if copy is None else copy))


class StrictGPU(_Namespace):
    """The module-like object installed with ``minigrad.backend.use_gpu_module``."""

    ndarray = ndarray

    def __init__(self):
        super().__init__(np)
        self.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
        self.lib = _Namespace(np.lib)

    @staticmethod
    def asarray(value, dtype=None):
        """Host to device (the one way in); device arrays pass through without a copy."""
        if isinstance(value, ndarray) and (dtype is None or value._array.dtype == dtype):
            return value
        return _to_device(value, dtype)

    @staticmethod
    def array(value, dtype=None, copy=True):
        return _to_device(value, dtype, copy)

    @staticmethod
    def asnumpy(value):
        """Device to host (the one way out)."""
        return value._array.copy() if isinstance(value, ndarray) else np.asarray(value)
