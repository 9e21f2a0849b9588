"""Every op of the core, listed once for the gradcheck, device and PyTorch-parity tests.

A case says how to call the op in minigrad (``fn``) and in PyTorch
(``torch_fn(torch, ...)``, absent where PyTorch has no counterpart), which
tensor inputs it takes and from which domain their values come, and a
hypothesis strategy ``draw`` giving ``(shapes, params)``: the shapes of the
tensor inputs and the op's other arguments (axes, index arrays, labels,
reductions). Shapes are small (sides 1-3) and include 0-d and size-1 inputs
and broadcasting pairs.
"""
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.functional as F

# value domains, chosen to stay clear of points where the op is undefined
DOMAINS = {
    "real": lambda rng, shape: rng.uniform(-2.0, 2.0, shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "nonzero": lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape),
    "prob": lambda rng, shape: rng.uniform(0.05, 0.95, shape),
    "unit": lambda rng, shape: rng.uniform(0.0, 1.0, shape),
}
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@dataclass
class OpCase:
    name: str
    fn: Callable
    draw: st.SearchStrategy
    domains: object = "real"  # one domain for every input, or a tuple with one per input
    torch_fn: Optional[Callable] = None

    def domain(self, i):
        return self.domains if isinstance(self.domains, str) else self.domains[i]

    def arrays(self, shapes, seed, dtype=np.float64):
        """Input values for the drawn shapes, reproducible from seed."""
        rng = np.random.default_rng(seed)
        return [np.asarray(DOMAINS[self.domain(i)](rng, shape), dtype=dtype) for i, shape in enumerate(shapes)]

    def __repr__(self):
        return self.name


def shapes(min_dims=0, max_dims=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3)


def unary(min_dims=0, **params):
    """One input of any small shape; params maps argument names to strategies."""
    return st.tuples(shapes(min_dims).map(lambda s: [s]), st.fixed_dictionaries(params))


def broadcasting(count=2, **params):
    pairs = hnp.mutually_broadcastable_shapes(num_shapes=count, min_dims=0, max_dims=3, min_side=1, max_side=3)
    return st.tuples(pairs.map(lambda b: list(b.input_shapes)), st.fixed_dictionaries(params))


def same_shapes(count=2, min_dims=0, **params):
    return st.tuples(shapes(min_dims).map(lambda s: [s] * count), st.fixed_dictionaries(params))


@st.composite
def axis_of(draw, shape, allow_none=True, allow_tuple=True):
    ndim = len(shape)
    options = [st.integers(-ndim, ndim - 1)] if ndim else []
    if allow_none:
        options.append(st.none())
    if allow_tuple and ndim:
        options.append(hnp.valid_tuple_axes(ndim, min_size=1))
    return draw(st.one_of(options))


@st.composite
def reduction(draw, min_dims=0):
    shape = draw(shapes(min_dims))
    return [shape], {"axis": draw(axis_of(shape)), "keepdims": draw(st.booleans())}


@st.composite
def single_axis(draw):
    shape = draw(shapes(min_dims=1))
    return [shape], {"axis": draw(axis_of(shape, allow_none=False, allow_tuple=False))}


@st.composite
def reshape_target(draw):
    shape = draw(shapes())
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), (-1,), shape[::-1], (1,) + shape, (size, 1), (-1, 1)]))
    return [shape], {"shape": target}


@st.composite
def permutation(draw):
    shape = draw(shapes())
    return [shape], {"axes": tuple(draw(st.permutations(range(len(shape)))))}


@st.composite
def basic_index(draw):
    """Ints, slices with positive steps (PyTorch has no negative ones), None and Ellipsis."""
    shape = draw(shapes())
    parts = []
    for n in shape[:draw(st.integers(0, len(shape)))]:
        parts.append(draw(st.integers(-n, n - 1) | st.builds(slice, st.none() | st.integers(-n, n),
                                                             st.none() | st.integers(-n, n),
                                                             st.none() | st.integers(1, 2))))
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if len(parts) < len(shape) and draw(st.booleans()):
        parts.append(Ellipsis)
    return [shape], {"index": tuple(parts)}


@st.composite
def integer_array_index(draw):
    """Index arrays with a guaranteed repeat, on the first axis, a later axis, or two axes at once."""
    shape = draw(shapes(min_dims=1))

    def indices(n):
        picked = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
        return np.array(picked + picked[:1])

    mode = draw(st.sampled_from(["first", "later", "pair"] if len(shape) > 1 else ["first"]))
    if mode == "first":
        index = indices(shape[0])
    elif mode == "later":
        index = (slice(None), indices(shape[1]))
    else:
        rows = indices(shape[0])
        columns = np.array(draw(st.lists(st.integers(0, shape[1] - 1), min_size=len(rows), max_size=len(rows))))
        index = (rows, columns)
    return [shape], {"index": index}


@st.composite
def concatenation(draw):
    base = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(base), len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    return [base[:axis % len(base)] + (n,) + base[axis % len(base) + 1:] for n in sizes], {"axis": axis}


@st.composite
def stacking(draw):
    shape = draw(shapes())
    count = draw(st.integers(1, 3))
    return [shape] * count, {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def conditional(draw):
    condition_shape, a, b = draw(broadcasting(3))[0]
    seed = draw(st.integers(0, 2**16))
    return [a, b], {"condition": np.random.default_rng(seed).random(condition_shape) > 0.5}


@st.composite
def broadcast_pair(draw, to_larger):
    a, b = draw(broadcasting(2))[0]
    full = np.broadcast_shapes(a, b)
    return ([a], {"shape": full}) if to_larger else ([full], {"shape": a})


@st.composite
def clip_bounds(draw):
    low = draw(st.none() | st.floats(-1.5, 0.0))
    high = draw(st.floats(0.0, 1.5) if low is None else st.none() | st.floats(0.0, 1.5))
    return [draw(shapes())], {"low": low, "high": high}


@st.composite
def dense(draw):
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    bias = draw(st.booleans())
    return [batch + (n_in,), (n_in, n_out)] + ([(n_out,)] if bias else []), {}


@st.composite
def classification(draw):
    n, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    labels = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    return [(n, classes)], {"labels": labels, "reduction": draw(REDUCTIONS)}


def matmul_shapes():
    """1-D, 2-D, batched and broadcast-batched operands, as NumPy's matmul signature allows."""
    return hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, min_side=1, max_side=3
                                             ).map(lambda b: (list(b.input_shapes), {}))


def torch_dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _torch_index(th, index):
    parts = index if isinstance(index, tuple) else (index,)
    moved = tuple(th.as_tensor(p) if isinstance(p, np.ndarray) else p for p in parts)
    return moved if isinstance(index, tuple) else moved[0]


def _dropout(x, p, seed):
    mg.manual_seed(seed)  # the same mask on every call, so finite differences see one function
    return F.dropout(x, p, training=True)


def _torch_gaussian_kl(th, mu, logvar, reduction):
    kl = -0.5 * (1 + logvar - mu * mu - logvar.exp())
    return {"mean": kl.mean(), "sum": kl.sum(), "none": kl}[reduction]


def _linear(x, W, b=None):
    return F.linear(x, W, b)


def _torch_linear(th, x, W, b=None):
    return x @ W if b is None else x @ W + b


CASES = [
    OpCase("add", lambda a, b: a + b, broadcasting(), torch_fn=lambda th, a, b: a + b),
    OpCase("sub", lambda a, b: a - b, broadcasting(), torch_fn=lambda th, a, b: a - b),
    OpCase("mul", lambda a, b: a * b, broadcasting(), torch_fn=lambda th, a, b: a * b),
    OpCase("div", lambda a, b: a / b, broadcasting(), ("real", "nonzero"), lambda th, a, b: a / b),
    OpCase("scalar_operands", lambda x: (2.0 - x) * 3 / x + 0.5, unary(), "nonzero",
           lambda th, x: (2.0 - x) * 3 / x + 0.5),
    OpCase("neg", lambda x: -x, unary(), torch_fn=lambda th, x: -x),
    OpCase("pow_scalar", lambda x, c: x ** c, unary(c=st.sampled_from([0.5, -1.5, 1, 2, 3.0])), "positive",
           lambda th, x, c: x ** c),
    OpCase("pow_integer_of_real", lambda x, c: x ** c, unary(c=st.sampled_from([2, 3])),
           torch_fn=lambda th, x, c: x ** c),
    OpCase("pow_tensor", lambda a, b: a ** b, broadcasting(), ("positive", "real"), lambda th, a, b: a ** b),
    OpCase("rpow", lambda x: 2.0 ** x, unary(), torch_fn=lambda th, x: 2.0 ** x),
    OpCase("matmul", lambda a, b: a @ b, matmul_shapes(), torch_fn=lambda th, a, b: a @ b),
    OpCase("exp", lambda x: x.exp(), unary(), torch_fn=lambda th, x: x.exp()),
    OpCase("log", lambda x: x.log(), unary(), "positive", lambda th, x: x.log()),
    OpCase("sin", lambda x: x.sin(), unary(), torch_fn=lambda th, x: x.sin()),
    OpCase("cos", F.cos, unary(), torch_fn=lambda th, x: th.cos(x)),
    OpCase("sqrt", lambda x: x.sqrt(), unary(), "positive", lambda th, x: x.sqrt()),
    OpCase("abs", lambda x: x.abs(), unary(), torch_fn=lambda th, x: x.abs()),
    OpCase("clip", lambda x, low, high: x.clip(low, high), clip_bounds(),
           torch_fn=lambda th, x, low, high: x.clamp(low, high)),
    OpCase("sum", lambda x, axis, keepdims: x.sum(axis, keepdims), reduction(),
           torch_fn=lambda th, x, axis, keepdims: x.sum(torch_dims(axis, x.ndim), keepdims)),
    OpCase("mean", lambda x, axis, keepdims: x.mean(axis, keepdims), reduction(),
           torch_fn=lambda th, x, axis, keepdims: x.mean(torch_dims(axis, x.ndim), keepdims)),
    OpCase("max", lambda x, axis, keepdims: x.max(axis, keepdims), reduction(),
           torch_fn=lambda th, x, axis, keepdims: x.amax(torch_dims(axis, x.ndim), keepdims)),
    OpCase("min", lambda x, axis, keepdims: x.min(axis, keepdims), reduction(),
           torch_fn=lambda th, x, axis, keepdims: x.amin(torch_dims(axis, x.ndim), keepdims)),
    OpCase("logsumexp", lambda x, axis, keepdims: F.logsumexp(x, axis, keepdims), reduction(min_dims=1),
           torch_fn=lambda th, x, axis, keepdims: th.logsumexp(x, torch_dims(axis, x.ndim), keepdims)),
    OpCase("reshape", lambda x, shape: x.reshape(shape), reshape_target(),
           torch_fn=lambda th, x, shape: x.reshape(shape)),
    OpCase("transpose", lambda x, axes: x.transpose(*axes), permutation(),
           torch_fn=lambda th, x, axes: x.permute(axes)),
    OpCase("T", lambda x: x.T, unary(), torch_fn=lambda th, x: x.permute(tuple(reversed(range(x.ndim))))),
    OpCase("getitem_basic", lambda x, index: x[index], basic_index(), torch_fn=lambda th, x, index: x[index]),
    OpCase("getitem_integer_arrays", lambda x, index: x[index], integer_array_index(),
           torch_fn=lambda th, x, index: x[_torch_index(th, index)]),
    OpCase("broadcast_to", lambda x, shape: F.broadcast_to(x, shape), broadcast_pair(to_larger=True),
           torch_fn=lambda th, x, shape: x.expand(shape)),
    OpCase("sum_to", lambda x, shape: F.sum_to(x, shape), broadcast_pair(to_larger=False),
           torch_fn=lambda th, x, shape: x.sum_to_size(shape)),
    OpCase("concatenate", lambda *xs, axis: mg.concatenate(xs, axis), concatenation(),
           torch_fn=lambda th, *xs, axis: th.cat(xs, axis)),
    OpCase("stack", lambda *xs, axis: mg.stack(xs, axis), stacking(),
           torch_fn=lambda th, *xs, axis: th.stack(xs, axis)),
    OpCase("where", lambda a, b, condition: mg.where(condition, a, b), conditional(),
           torch_fn=lambda th, a, b, condition: th.where(th.tensor(condition), a, b)),
    OpCase("maximum", lambda a, b: mg.maximum(a, b), broadcasting(), torch_fn=lambda th, a, b: th.maximum(a, b)),
    OpCase("minimum", lambda a, b: mg.minimum(a, b), broadcasting(), torch_fn=lambda th, a, b: th.minimum(a, b)),
    OpCase("relu", F.relu, unary(), torch_fn=lambda th, x: th.relu(x)),
    OpCase("leaky_relu", lambda x, slope: F.leaky_relu(x, slope), unary(slope=st.sampled_from([0.01, 0.2])),
           torch_fn=lambda th, x, slope: th.nn.functional.leaky_relu(x, slope)),
    OpCase("sigmoid", F.sigmoid, unary(), torch_fn=lambda th, x: th.sigmoid(x)),
    OpCase("tanh", F.tanh, unary(), torch_fn=lambda th, x: th.tanh(x)),
    OpCase("softplus", F.softplus, unary(), torch_fn=lambda th, x: th.nn.functional.softplus(x)),
    OpCase("softmax", lambda x, axis: F.softmax(x, axis), single_axis(),
           torch_fn=lambda th, x, axis: th.softmax(x, axis)),
    OpCase("log_softmax", lambda x, axis: F.log_softmax(x, axis), single_axis(),
           torch_fn=lambda th, x, axis: th.log_softmax(x, axis)),
    OpCase("linear", _linear, dense(), torch_fn=_torch_linear),
    OpCase("mse_loss", lambda p, t, reduction: F.mse_loss(p, t, reduction), same_shapes(reduction=REDUCTIONS),
           torch_fn=lambda th, p, t, reduction: th.nn.functional.mse_loss(p, t, reduction=reduction)),
    OpCase("binary_cross_entropy", lambda p, t, reduction: F.binary_cross_entropy(p, t, reduction),
           same_shapes(reduction=REDUCTIONS), ("prob", "unit"),
           lambda th, p, t, reduction: th.nn.functional.binary_cross_entropy(p, t, reduction=reduction)),
    OpCase("binary_cross_entropy_with_logits",
           lambda x, t, reduction: F.binary_cross_entropy_with_logits(x, t, reduction),
           same_shapes(reduction=REDUCTIONS), ("real", "unit"),
           lambda th, x, t, reduction: th.nn.functional.binary_cross_entropy_with_logits(x, t, reduction=reduction)),
    OpCase("cross_entropy", lambda x, labels, reduction: F.cross_entropy(x, labels, reduction), classification(),
           torch_fn=lambda th, x, labels, reduction: th.nn.functional.cross_entropy(x, th.as_tensor(labels),
                                                                                     reduction=reduction)),
    OpCase("gaussian_kl", lambda mu, logvar, reduction: F.gaussian_kl(mu, logvar, reduction),
           same_shapes(reduction=REDUCTIONS), torch_fn=_torch_gaussian_kl),
    OpCase("dropout", _dropout, unary(p=st.sampled_from([0.25, 0.5]), seed=st.integers(0, 2**16))),
]
