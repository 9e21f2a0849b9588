"""Every op's first and second derivatives against float64 central differences, and gradcheck itself."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.ops.shape import sum_to
from op_cases import CASES


def leaves(arrays):
    return [mg.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("case", CASES, ids=str)
@settings(max_examples=15)
@given(data=st.data())
def test_gradcheck_and_gradgradcheck(case, data):
    shapes, params = data.draw(case.draw, label="shapes, params")
    inputs = leaves(case.arrays(shapes, seed=data.draw(st.integers(0, 2**16), label="seed")))

    def fn(*xs):
        return case.fn(*xs, **params)

    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


# --- kinks: any value between the one-sided derivatives is a valid answer. (No gradgradcheck here:
# the first derivative jumps at a kink, so there is no second derivative to check.) ---------------

KINKS = [
    ("relu at 0", F.relu, [np.array([-1.0, 0.0, 2.0])]),
    ("leaky_relu at 0", lambda x: F.leaky_relu(x, 0.1), [np.array([0.0, 0.0])]),
    ("abs at 0", lambda x: x.abs(), [np.array([[0.0, 1.5], [-0.5, 0.0]])]),
    ("max tie", lambda x: x.max(), [np.array([1.0, 1.0, 0.5])]),
    ("max tie along an axis", lambda x: x.max(axis=1), [np.array([[2.0, 2.0, 2.0], [0.0, 1.0, 1.0]])]),
    ("min tie", lambda x: x.min(axis=0, keepdims=True), [np.array([[0.5, 1.0], [0.5, -1.0]])]),
    ("maximum tie", mg.maximum, [np.array([1.0, 2.0]), np.array([1.0, 0.0])]),
    ("minimum tie", mg.minimum, [np.array([1.0, 2.0]), np.array([1.0, 0.0])]),
    ("clip at its bounds", lambda x: x.clip(-1.0, 1.0), [np.array([-1.0, 0.0, 1.0])]),
]


@pytest.mark.parametrize("name, fn, arrays", KINKS, ids=[k[0] for k in KINKS])
def test_no_false_failure_at_kinks(name, fn, arrays):
    assert mg.gradcheck(fn, leaves(arrays))


def test_kink_conventions_match_pytorch():
    """relu'(0) = 0, |x|'(0) = 0, ties of max and maximum share the gradient equally."""
    x = mg.tensor([0.0, 0.0], requires_grad=True)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x = mg.tensor([0.0], requires_grad=True)
    x.abs().sum().backward()
    assert x.grad.tolist() == [0.0]
    x = mg.tensor([3.0, 1.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    assert (a.grad.item(), b.grad.item()) == (0.5, 0.5)


# --- gradcheck must catch wrong backwards --------------------------------------------------------


class SquareTwiceTooSteep(mg.Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * 4 * self.inputs[0]  # right: 2 x


class ExpWrongSign(mg.Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return -gy * self.output


class MatMulUntransposed(mg.Function):
    def forward(self, a, b):
        return a @ b

    def backward(self, gy):
        a, b = self.inputs
        return gy @ b, a @ gy  # right: gy @ b^T, a^T @ gy


class AddWithoutBroadcastSum(mg.Function):
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy[0:1]  # right: b's gradient sums gy over the broadcast rows


class IdentityMissingOneElement(mg.Function):
    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        mask = np.ones(gy.shape)
        mask[1, 2] = 0.0
        return gy * mg.Tensor(mask)


def run_planted(function, *arrays, **options):
    return mg.gradcheck(lambda *xs: function()(*xs), leaves(arrays), **options)


def test_gradcheck_catches_a_factor_of_two():
    x = np.array([[0.5, -1.0, 0.25], [3.0, -0.75, 1.0]])
    with pytest.raises(mg.GradcheckError, match=r"input 0 .*6 of 6 elements disagree; worst at index"):
        run_planted(SquareTwiceTooSteep, x)


def test_gradcheck_catches_a_sign_flip():
    with pytest.raises(mg.GradcheckError, match=r"input 0 .*worst at index"):
        run_planted(ExpWrongSign, np.linspace(-1, 1, 5))


def test_gradcheck_catches_a_transposed_matmul_gradient():
    rng = np.random.default_rng(0)
    with pytest.raises(mg.GradcheckError, match=r"input 0 .*worst at index"):
        run_planted(MatMulUntransposed, rng.normal(size=(3, 3)), rng.normal(size=(3, 3)))


def test_gradcheck_catches_a_missing_broadcast_sum_in_the_second_input():
    rng = np.random.default_rng(1)
    with pytest.raises(mg.GradcheckError, match=r"input 1 \(shape \(1, 3\)\).*worst at index \(0, \d\)"):
        run_planted(AddWithoutBroadcastSum, rng.normal(size=(4, 3)), rng.normal(size=(1, 3)))


def test_gradcheck_names_the_single_wrong_element():
    with pytest.raises(mg.GradcheckError, match=r"1 of 12 elements disagree; worst at index \(1, 2\)"):
        run_planted(IdentityMissingOneElement, np.arange(12.0).reshape(3, 4))


def test_directional_check_of_large_inputs_catches_a_wrong_gradient():
    x = np.random.default_rng(2).normal(size=(6, 5))
    assert mg.gradcheck(lambda t: t * t, leaves([x]), full_check_limit=10)
    with pytest.raises(mg.GradcheckError, match=r"input 0 .*along random direction"):
        run_planted(SquareTwiceTooSteep, x, full_check_limit=10)


def test_gradgradcheck_catches_a_backward_written_on_raw_arrays():
    class SquareWithDetachedBackward(mg.Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * mg.Tensor(2 * self.inputs[0].data)  # right values, but invisible to a second derivative

    x = leaves([np.array([0.5, -1.5])])
    assert mg.gradcheck(lambda t: SquareWithDetachedBackward()(t), x)
    with pytest.raises(mg.GradcheckError, match="input 0"):
        mg.gradgradcheck(lambda t: SquareWithDetachedBackward()(t), x)


def test_gradcheck_refuses_float32_inputs():
    with pytest.raises(TypeError, match="input 0 is float32"):
        mg.gradcheck(lambda t: t * t, [mg.tensor([1.0, 2.0], requires_grad=True)])


def test_gradcheck_leaves_the_inputs_untouched():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    before = x.data
    mg.gradcheck(lambda t: t.exp(), [x])
    assert x.data is before and x.data.tolist() == [1.0, 2.0] and x.grad is None


def test_sum_to_is_the_adjoint_of_broadcasting():
    """<broadcast(a), g> == <a, sum_to(g)>: the identity every broadcasting backward relies on."""
    rng = np.random.default_rng(3)
    a, g = rng.normal(size=(1, 3)), rng.normal(size=(4, 2, 3))
    lhs = (np.broadcast_to(a, g.shape) * g).sum()
    rhs = (a * sum_to(mg.tensor(g), a.shape).numpy()).sum()
    assert np.isclose(lhs, rhs)
