"""The checker behind ``python -m lessons.exercises check NAME``.

For every case an exercise lists, it runs the Function's forward on float64
inputs, draws a random upstream gradient gy of the output's shape, and
compares what the learner's ``backward(gy)`` returns with central differences
of the scalar

    L(inputs) = sum(gy * forward(*inputs)),   dL/dx[i] ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

element by element. Where they disagree, ``diagnose`` looks at the whole
computed and expected arrays for mistakes with a recognisable signature: a
constant factor (2, the batch size, a broadcast count), a flipped sign, a
transpose, gradients given to the wrong input, a missing sum over a broadcast
axis, an ignored upstream gradient, a kernel rotated by 180 degrees, one path
of a sum of terms left out or scaled.

An exercise whose class is not a Function (adam_step) is an update rule: its
``step(param, grad)`` runs a few times and each result is compared with the
exercise's ``expected_steps(case)``.
"""
import contextlib
import inspect
import traceback
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg

EPS = 1e-6              # central differences in float64 are most accurate near eps = 1e-5..1e-6 (README)
ATOL, RTOL = 1e-6, 1e-4  # a right backward lands within ~1e-9; a wrong one is off by far more


class Case:
    """One check: the Function's inputs as arrays, and keyword options for its constructor."""

    def __init__(self, *inputs, **options):
        self.inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
        self.options = options

    @property
    def batch_size(self):
        first = self.inputs[0]
        return first.shape[0] if first.ndim >= 2 else None


_size_shift = 0  # added to every size sizes() draws; check(size_shift=...) sets it for the grader's hidden cases


def sizes(rng, count, low=2, high=6):
    """count different sizes in [low, high]. With no two axes alike, a transposed or
    mis-scaled gradient cannot pass by coincidence, and a factor names one axis."""
    return [int(n) + _size_shift for n in rng.choice(np.arange(low, high + 1), size=count, replace=False)]


@contextlib.contextmanager
def _shifted_sizes(shift):
    global _size_shift
    _size_shift = shift
    try:
        yield
    finally:
        _size_shift = 0


@dataclass
class Hint:
    kinds: tuple    # short tags the tests look for: "sign", "factor-2", "batch-size", "transposed", ...
    text: str


@dataclass
class InputResult:
    name: str
    shape: tuple
    ok: bool = False
    max_error: float = None     # max |got - expected| once the shape and dtype are right
    problem: str = None         # what is wrong, in words
    wrong_count: int = 0
    worst_index: tuple = None
    expected: float = None
    got: float = None
    hint: Hint = None


@dataclass
class CaseResult:
    number: int
    names: list
    shapes: list
    output_shape: tuple
    batch_size: int = None
    steps: int = None                           # an update exercise: how many steps the case runs
    options: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)  # one InputResult per input
    error: str = None                           # backward raised, or returned the wrong number of gradients

    @property
    def ok(self):
        return self.error is None and all(r.ok for r in self.inputs)

    @property
    def max_error(self):
        """The largest error over the inputs; None when one of them could not be compared."""
        errors = [r.max_error for r in self.inputs]
        return None if not errors or None in errors else max(errors)


@dataclass
class Report:
    exercise: object
    function: type
    cases: list = field(default_factory=list)
    not_started: str = None     # the NotImplementedError's message
    load_error: str = None      # the file would not import

    @property
    def status(self):
        if self.load_error is not None:
            return "failing"
        if self.not_started is not None:
            return "not started"
        return "passing" if all(c.ok for c in self.cases) else "failing"

    @property
    def first_failure(self):
        return next((c for c in self.cases if not c.ok), None)

    @property
    def max_error(self):
        errors = [c.max_error for c in self.cases if c.max_error is not None]
        return max(errors) if errors else None


def written_method(function):
    """The method the learner writes: backward for a Function, step for an update rule."""
    return "backward" if issubclass(function, mg.Function) else "step"


def check(exercise, function=None, solution=False, cases=None, seed=0, size_shift=0):
    """Check ``function`` (default: the exercise's own class, or its reference solution) on the exercise's cases.

    size_shift makes every size the cases draw that much larger: the grader's shapes outside the practice ones.
    """
    if function is None:
        try:
            function = exercise.function(solution)
        except Exception as error:  # a typo in one file must not take the whole list down
            return Report(exercise, None, load_error=describe_load_error(error))
    rng = np.random.default_rng(seed)
    if cases is None:
        with _shifted_sizes(size_shift):
            cases = exercise.cases(rng)
    report = Report(exercise, function)
    method = written_method(function)
    for number, case in enumerate(cases, 1):
        try:
            if method == "backward":
                report.cases.append(check_case(function, case, number, rng))
            else:
                report.cases.append(check_steps(function, case, number, exercise.expected_steps(case),
                                                exercise.step_factors(case)))
        except NotImplementedError as error:
            report.not_started, report.cases = str(error) or f"{method} is not written yet", []
            break
    return report


def input_names(function):
    """The forward's parameter names (a, b / x, W, b), to name inputs as the exercise does."""
    parameters = list(inspect.signature(function.forward).parameters)
    return parameters[1:] if parameters and parameters[0] == "self" else parameters


def check_case(function, case, number, rng):
    names = input_names(function)
    tensors = [mg.Tensor(x.copy(), requires_grad=True) for x in case.inputs]
    fn = function(**case.options)
    output = fn(*tensors)  # kept alive: fn.output is a weak reference to it
    result = CaseResult(number, names, [x.shape for x in case.inputs], output.shape, case.batch_size)
    upstream = rng.standard_normal(output.shape)
    gy = upstream.copy()
    try:
        got = run_backward(fn, gy)
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's code failed: report it like any other mistake
        result.error = describe_exception(error, function)
        return result
    if not np.array_equal(gy, upstream):
        result.error = ("backward changed gy in place (an in-place operator such as *= or += on gy.data); "
                        "in a network gy can be shared with other ops: compute into a new array instead")
        return result
    if len(got) != len(tensors):
        result.error = (f"backward returned {len(got)} gradient{'s' * (len(got) != 1)} for {len(tensors)} "
                        f"input{'s' * (len(tensors) != 1)} ({', '.join(names)}); return one per input, in that order")
        return result
    expected = numerical_gradients(function, case, upstream)
    other_upstream = rng.standard_normal(output.shape)
    for i, (x, g) in enumerate(zip(case.inputs, got)):
        checked = compare(names[i], x, g, expected[i])
        if not checked.ok and checked.hint is None and checked.problem is None:
            ignored = _ignores_upstream(fn, other_upstream, i, g, expected[i])
            checked.hint = (diagnose(i, g.numpy(), expected, result, ignored)
                            or _path_hint(names[i], g.numpy() - expected[i], function, case, upstream, i))
        result.inputs.append(checked)
    return result


def _path_hint(name, excess, function, case, upstream, index):
    """When L is a sum of terms: is the gradient off by a multiple of one term's gradient? Then that path is."""
    if not hasattr(function, "terms"):
        return None
    terms = function(**case.options).terms(*case.inputs)
    for term in terms:
        path = numerical_gradients(function, case, upstream, term=term)[index]
        size = float(np.sum(path * path))
        if size <= ATOL ** 2:
            continue
        extra = float(np.sum(excess * path)) / size  # excess ~ extra * path: the path counted 1 + extra times
        if abs(extra) < 1e-3 or not np.allclose(excess, extra * path, rtol=RTOL, atol=ATOL):
            continue
        factor = 1 + extra
        if abs(factor) < 1e-3:
            return Hint(("path",), f"your gradient for {name} leaves out the path through {term}: {name} reaches "
                                   f"L through it too, and the gradient adds up every path")
        if abs(factor + 1) < 1e-3:
            return Hint(("path", "sign"), f"the path through {term} has its sign flipped in your gradient for "
                                          f"{name}; the other paths are right")
        return Hint(("path", "factor"), f"in your gradient for {name}, the path through {term} is {factor:.4g} "
                                        f"times what it should be; the other paths are right. Look for a factor "
                                        f"in that path's chain rule")
    return None


def run_backward(fn, gy):
    """The learner's gradients for the upstream array gy, as a tuple whatever container backward used."""
    fn.needs_input_grad = (True,) * len(fn.inputs)
    with mg.no_grad():
        grads = fn.backward(mg.Tensor(gy))
    return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)


def numerical_gradients(function, case, upstream, eps=EPS, term=None):
    """dL/dx for every input by central differences, L = sum(upstream * forward(*inputs)).

    With term, L is that one of the forward's terms (a Function whose forward is a sum defines ``terms``).
    """
    arrays = [x.copy() for x in case.inputs]

    def loss():
        fn = function(**case.options)
        value = fn.forward(*arrays) if term is None else fn.terms(*arrays)[term]
        return float(np.sum(upstream * value))

    grads = []
    for x in arrays:
        grad = np.empty_like(x)
        flat, flat_grad = x.reshape(-1), grad.reshape(-1)  # views: writing flat[i] perturbs x
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            up = loss()
            flat[i] = original - eps
            down = loss()
            flat[i] = original
            flat_grad[i] = (up - down) / (2 * eps)
        grads.append(grad)
    return grads


def compare(name, x, got, expected):
    result = InputResult(name, x.shape)
    if got is None:
        result.problem = f"backward returned None for {name}, which needs a gradient"
    elif isinstance(got, np.ndarray):
        result.problem = f"backward returned a NumPy array for {name}; wrap it: mg.Tensor(array)"
    elif not isinstance(got, mg.Tensor):
        result.problem = f"backward returned a {type(got).__name__} for {name}; return an mg.Tensor"
    elif got.shape != x.shape:
        result.problem = f"gradient has shape {got.shape}, expected {x.shape} (the shape of {name})"
        result.hint = shape_hint(name, x.shape, got.shape)
    elif got.dtype != x.dtype:
        result.problem = f"gradient has dtype {got.dtype}, expected {x.dtype} (the dtype of {name})"
        result.hint = Hint(("dtype",), "a float32 constant or an .astype() changed the dtype; build constants "
                                       "from the input's own arrays (np.ones_like(x), x.dtype) to keep it")
    if result.problem is not None:
        return result
    return compare_values(result, got.numpy(), expected)


def compare_values(result, values, expected):
    """Fill result (an InputResult) with the element-wise comparison of two arrays of one shape."""
    error = np.abs(values - expected)
    allowed = ATOL + RTOL * np.abs(expected)
    wrong = ~(error <= allowed)  # nan counts as wrong
    result.max_error = float(np.max(error, initial=0.0))
    result.ok = not wrong.any()
    if result.ok:
        return result
    excess = np.where(wrong, np.nan_to_num(error - allowed, nan=np.inf), -np.inf)
    result.worst_index = tuple(int(k) for k in np.unravel_index(int(np.argmax(excess)), values.shape))
    result.wrong_count = int(wrong.sum())
    result.expected, result.got = float(expected[result.worst_index]), float(values[result.worst_index])
    if not np.isfinite(values).all():
        result.hint = Hint(("nan",), "your gradient holds nan or inf: a division by zero, the log of 0, or an "
                                     "overflowing exp; compute it from quantities the forward already made safe")
    return result


def shape_hint(name, shape, got_shape):
    """A hint when the gradient's shape is wrong, from the two shapes alone."""
    if _broadcasts_to(shape, got_shape):
        axes = _broadcast_axes(shape, got_shape)
        keep = " with keepdims=True" if len(got_shape) == len(shape) else ""
        return Hint(("broadcast",),
                    f"missing sum over a broadcast axis: the forward broadcast {name} from {shape} to {got_shape}, "
                    f"so each element of {name} was used {int(np.prod(got_shape)) // max(int(np.prod(shape)), 1)} "
                    f"times and its gradient is the sum of those uses. Sum over axis {_axes_text(axes)}{keep} "
                    f"to get back to {shape}")
    if len(shape) == 4 and len(got_shape) == 4 and got_shape[:2] == shape[:2]:
        return Hint(("spatial",),
                    f"the batch and channel sizes are right, the image is not: {got_shape[2:]} where {name} is "
                    f"{shape[2:]}. Give the convolution in your backward the forward's stride and padding "
                    f"(self.stride, self.padding)")
    if len(shape) == 1 and len(got_shape) > 1 and shape[0] in got_shape:
        others = tuple(axis for axis, size in enumerate(got_shape) if size != shape[0])
        return Hint(("unsummed",),
                    f"{name} holds one number per channel, {shape}, and each was used at every position of the "
                    f"other axes of {got_shape}: sum the gradient over them (axis {_axes_text(others)})")
    if len(shape) >= 2 and got_shape == shape[:-2] + (shape[-1], shape[-2]):
        return Hint(("transposed",),
                    f"{got_shape} is {name}'s shape transposed: a matrix product is transposed or has its factors "
                    f"in the wrong order. Write down the shapes: a (p, q) @ (q, r) product gives (p, r), and the "
                    f"gradient must come out {shape}")
    if int(np.prod(got_shape)) == int(np.prod(shape)):
        return Hint(("shape",), f"the number of elements is right; reshape the gradient to {shape}, or check "
                                f"that the axes are in the input's order")
    return None


def check_steps(optimizer, case, number, expected, known_factors):
    """Run ``optimizer(param.shape, **options).step`` once per gradient of the case, against the expected params.

    case.inputs: the starting parameter and the gradients stacked, (steps, *param.shape). The first step that
    disagrees is the one reported; known_factors: (factor, kinds, text) for the first steps of typical mistakes.
    """
    param, grads = case.inputs
    result = CaseResult(number, ["param"], [param.shape], param.shape, steps=len(grads), options=case.options)
    rule = optimizer(param.shape, **case.options)
    current, errors = param.copy(), []
    for step, (grad, want) in enumerate(zip(grads, expected), 1):
        given = current.copy()
        try:
            got = rule.step(given, grad.copy())
        except NotImplementedError:
            raise
        except Exception as error:
            result.error = f"step {step}: " + describe_exception(error, optimizer, "step")
            return result
        if not np.array_equal(given, current):
            result.error = (f"step {step} changed the param it was given in place; return the new parameter as a "
                            f"new array and leave the one passed in as it was")
            return result
        checked = InputResult(f"param after step {step}", param.shape)
        if not isinstance(got, np.ndarray):
            checked.problem = f"step returned a {type(got).__name__}; return the new parameter, a NumPy array"
        elif got.shape != param.shape or got.dtype != param.dtype:
            checked.problem = (f"step returned shape {got.shape} dtype {got.dtype}, expected the parameter's, "
                               f"{param.shape} {param.dtype}")
        else:
            compare_values(checked, got, want)
        if not checked.ok:
            if checked.hint is not None and checked.hint.kinds == ("nan",):
                checked.hint = Hint(("nan",), "the new parameter holds nan or inf: a division by zero, such as a "
                                              "bias correction 1 - beta ** t while t is still 0 (count the step "
                                              "first: t is 1 in the first update)")
            elif checked.problem is None and checked.hint is None:
                checked.hint = _step_hint(step, got - current, want - current, known_factors)
            result.inputs.append(checked)
            return result
        errors.append(checked.max_error)
        current = want
    result.inputs.append(InputResult("param", param.shape, ok=True, max_error=max(errors)))
    return result


def _step_hint(step, got_update, expected_update, known_factors):
    """A hint from the update (new param - old param) of the first wrong step, against the expected update."""
    ratio = _constant_ratio(got_update, expected_update)
    if ratio is None:
        return None if step == 1 else Hint(("later-step",), f"the steps before {step} are right, this one is not: "
                                                            f"look at what changes from one step to the next (the "
                                                            f"step count t, m and v kept on self)")
    if step > 1:  # m / sqrt(v) is right, so the one factor that varies with t is not
        return Hint(("bias-correction",), f"the update of step {step} is {ratio:.4g} times the expected one "
                                          f"everywhere, and the steps before it are right: the factor that changes "
                                          f"from step to step is off, the bias correction. t counts the updates: "
                                          f"1, 2, 3, ...")
    for factor, kinds, text in known_factors:
        if abs(ratio - factor) < 1e-3 * abs(factor):
            return Hint(kinds, f"the first update is {ratio:.4g} times the expected one: {text}")
    return Hint(("factor",), f"the update is {ratio:.4g} times the expected one everywhere: its direction is right, "
                             f"a factor in the step size is off")


def _broadcasts_to(shape, target):
    try:
        return shape != target and np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _broadcast_axes(shape, target):
    lead = len(target) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and target[lead + i] != 1)


def _axes_text(axes):
    return str(axes[0]) if len(axes) == 1 else str(axes)


def _ignores_upstream(fn, other_upstream, index, got, expected):
    """Does backward give the same gradient for a different gy? Then it never used gy."""
    try:
        again = run_backward(fn, other_upstream)[index]
        return (isinstance(again, mg.Tensor) and again.shape == got.shape and np.abs(expected).max() > ATOL
                and np.allclose(again.numpy(), got.numpy(), rtol=1e-12, atol=0))
    except Exception:  # a second call may trip on state the first one changed; then we cannot tell
        return False


def diagnose(index, got, expected, case, ignores_upstream=False):
    """A hint for a gradient of the right shape but wrong values, or None when no pattern fits.

    got: the learner's gradient for input ``index``; expected: the numerical
    gradients of every input; case: the CaseResult (names, shapes, sizes).
    """
    name, want = case.names[index], expected[index]
    if ignores_upstream:
        return Hint(("upstream",),
                    f"your gradient for {name} does not change when the upstream gradient gy does: gy is missing. "
                    f"By the chain rule dL/d{name} = dL/dy * dy/d{name}; multiply by gy (or sum gy against the "
                    f"local derivative)")
    for j, other in enumerate(expected):
        if j != index and other.shape == got.shape and _close(got, other) and not _close(got, want):
            return Hint(("swapped",),
                        f"your gradient for {name} is the one {case.names[j]} should get: the operands are swapped "
                        f"(e.g. gy * {name} where the other operand belongs), or the gradients are returned in the "
                        f"wrong order")
    if got.ndim >= 2 and got.shape[-1] == got.shape[-2] and _close(got, np.swapaxes(want, -1, -2)):
        return Hint(("transposed",),
                    f"your gradient for {name} is the expected one transposed: a matrix product is transposed or "
                    f"has its factors in the wrong order")
    if got.ndim >= 2 and _close(got, want[..., ::-1, ::-1]):
        return Hint(("flipped",),
                    f"your gradient for {name} is the expected one rotated by 180 degrees (flipped along its last "
                    f"two axes): the convolutions here are cross-correlations, with no kernel flip; index the "
                    f"kernel the way the forward does")
    ratio = _constant_ratio(got, want)
    if ratio is None:
        return None
    return _factor_hint(name, ratio, _known_factors(index, case), informative=np.count_nonzero(want) >= 3)


def _close(a, b):
    return np.allclose(a, b, rtol=RTOL, atol=ATOL)


def _constant_ratio(got, want):
    """r when got ~ r * want everywhere (r != 1), else None."""
    scale = np.abs(want).max(initial=0.0)
    if scale <= ATOL:
        return None
    significant = np.abs(want) > 1e-3 * scale
    ratio = float(np.median(got[significant] / want[significant]))
    if not np.isfinite(ratio) or abs(ratio - 1) < 1e-6 or abs(ratio) < 1e-12:
        return None
    return ratio if np.allclose(got, ratio * want, rtol=1e-4, atol=ATOL * max(1.0, abs(ratio))) else None


def _known_factors(index, case):
    """(kind, value, what it is) for the constants that are often dropped or doubled."""
    shape, size = case.shapes[index], int(np.prod(case.shapes[index]))
    factors = []
    copies = int(np.prod(case.output_shape)) // max(size, 1)
    if _broadcasts_to(shape, case.output_shape) and copies > 1:
        factors.append(("broadcast", copies,
                        f"the {copies} broadcast copies of {case.names[index]}: its gradient must be summed over "
                        f"the broadcast axes, not averaged or taken from one copy"))
    if case.batch_size and case.batch_size > 1:
        factors.append(("batch-size", case.batch_size,
                        f"the batch size N = {case.batch_size}: a mean over the batch brings one 1/N into the "
                        f"gradient, no more and no less"))
    if size > 1 and size != case.batch_size:
        factors.append(("elements", size,
                        f"the number of elements of {case.names[index]}, {size}: a mean over all elements brings "
                        f"one 1/{size}"))
    factors.append(("factor-2", 2, "a factor 2: the derivative of x^2 is 2x (and that of x^2 / 2 is x)"))
    return factors


def _factor_hint(name, ratio, factors, informative):
    size = abs(ratio)
    if abs(size - 1) < 1e-4:
        return Hint(("sign",), f"your gradient for {name} is the expected one with its sign flipped (-1 times): "
                               f"check each minus sign, e.g. d(-u) = -du and d(1 - u) = -du")
    matches = [(kind, text) for kind, value, text in factors
               if abs(size - value) < 1e-4 * value or abs(size * value - 1) < 1e-4]
    kinds = tuple(kind for kind, _ in matches) + (("sign",) if ratio < 0 else ())
    if matches:
        details = (["its sign flipped"] if ratio < 0 else []) + ([f"divided by {1 / size:.4g}"] if size < 1 else [])
        causes = "; or ".join(text for _, text in matches)
        return Hint(kinds, f"your gradient for {name} is {ratio:.4g} times the expected one"
                           f"{' (' + ', '.join(details) + ')' if details else ''}. Look for {causes}")
    if not informative:
        return None
    return Hint(kinds or ("factor",), f"your gradient for {name} is {ratio:.4g} times the expected one everywhere: "
                                      f"the form is right, a constant factor{' and the sign' * (ratio < 0)} is off")


def draw_failing_case(report, seed=0):
    """(graph, problem): the graph of the report's first failing case, as minigrad.viz.draw_graph draws it, with
    the gradients the learner's backward gives for gy = 1 (L = sum(y)); problem says why they are missing."""
    from minigrad.viz import draw_graph

    failing = report.first_failure
    case = report.exercise.cases(np.random.default_rng(seed))[failing.number - 1]  # as check() drew them
    tensors = [mg.Tensor(x.copy(), requires_grad=True) for x in case.inputs]
    output = report.function(**case.options)(*tensors)
    problem = None
    try:
        output.backward(mg.Tensor(np.ones(output.shape)), retain_graph=True)
    except Exception as error:  # the picture is still worth having, without the gradients
        problem = describe_exception(error, report.function)
    return draw_graph(output, show_grads=True, params=dict(zip(failing.names, tensors))), problem


def describe_exception(error, function, method="backward"):
    """The exception and the line of the learner's file that raised it."""
    return f"{method} raised " + _located(error, inspect.getsourcefile(getattr(function, method)))


def describe_load_error(error):
    if isinstance(error, SyntaxError):
        return f"the file does not import: {type(error).__name__}: {error.msg}\n  at {error.filename}:{error.lineno}: " \
               f"{(error.text or '').strip()}"
    return "the file does not import: " + _located(error, None)


def _located(error, source):
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if f.filename == source] or frames
    where = f"\n  at {mine[-1].filename}:{mine[-1].lineno}: {mine[-1].line}" if mine else ""
    return f"{type(error).__name__}: {error}{where}"
