"""The mistakes a learner makes in the first hour get a clear error or the right answer, never a silent wrong one.

One test (or a few) per row of issue 13's table; each failed on the code before the fix.
"""
import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim


def leaf(values, dtype=np.float32):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# --- editing an array a graph saved for backward --------------------------------------------------------------

def test_writing_into_a_saved_input_is_refused_at_the_write():
    a, b = leaf([2.0]), leaf([3.0])
    y = a * b
    with pytest.raises(ValueError, match="read-only"):
        b.data[:] = 100
    y.sum().backward()
    assert a.grad.item() == 3.0


def test_writing_into_a_sigmoid_output_before_its_backward_is_refused():
    x = leaf([0.0, 1.0])
    s = F.sigmoid(x)
    with pytest.raises(ValueError, match="read-only"):
        s.data[0] = 0.0


def test_after_backward_the_arrays_are_writable_again():
    a, b = leaf([2.0]), leaf([3.0])
    (a * b).sum().backward()
    b.data[:] = 100  # the graph is freed: nothing depends on the old values any more
    assert b.item() == 100


def test_a_graph_dropped_without_backward_leaves_its_arrays_writable():
    w = leaf([1.0, 2.0])
    (w * 2).sum()  # an evaluation without no_grad, never backpropagated
    w.data -= 1.0
    np.testing.assert_array_equal(w.numpy(), [0.0, 1.0])


def test_an_evaluation_kept_without_backward_does_not_block_the_next_steps_manual_update():
    w = leaf([1.0, 2.0])
    evaluation = (w * 3).sum()  # outside no_grad, and kept: its graph holds w
    for _ in range(2):
        (w * w).sum().backward()
        w.data -= 0.25 * w.grad.data
        w.grad = None
    np.testing.assert_allclose(w.numpy(), [0.25, 0.5])
    assert evaluation.item() == 9.0


def test_a_new_array_given_to_a_saved_tensor_fails_the_backward_naming_the_op():
    a, b = leaf([2.0]), leaf([3.0])
    y = a * b
    b.data = np.array([100.0], dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"input 1 of Mul .*float32, shape \(1,\).* was given a new array"):
        y.sum().backward()


def test_a_new_array_given_to_a_saved_output_fails_the_backward_naming_the_op():
    x = leaf([0.0, 1.0])
    s = F.sigmoid(x)
    s.data = np.zeros(2, dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"the output of Sigmoid \(float32, shape \(2,\)\) was given a new array"):
        s.backward(np.ones(2, np.float32))


def test_an_optimizer_step_while_a_graph_holds_the_weights_updates_them_and_that_graph_refuses_its_backward():
    layer = nn.Dense(2, 1)
    x = mg.tensor(np.ones((1, 2), np.float32))
    opt = optim.SGD(layer.parameters(), lr=0.1)
    layer(x).sum().backward()
    kept = layer(x).sum()  # a second graph, still holding the weights
    before = layer.weight.numpy().copy()
    opt.step()
    assert not np.array_equal(layer.weight.numpy(), before)
    with pytest.raises(RuntimeError, match="was given a new array"):
        kept.backward()


def test_cuda_tensors_are_not_locked_and_still_train(gpu):
    w = leaf([1.0, 2.0]).to("cuda")
    w = mg.tensor(w.data, requires_grad=True)
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])


# --- manual SGD, micrograd style --------------------------------------------------------------------------------

def test_w_minus_equals_on_a_leaf_that_requires_grad_says_how_to_write_the_update():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match=r"mg\.no_grad\(\).*w\.data -= lr \* w\.grad\.data.*optimizer"):
        w -= 0.1 * w.grad


def test_w_minus_equals_under_no_grad_updates_the_leaf_in_place():
    w = leaf([1.0, 2.0])
    same = w
    for _ in range(2):
        w.grad = None
        (w * w).sum().backward()
        with mg.no_grad():
            w -= 0.25 * w.grad
    assert w is same and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.numpy(), [0.25, 0.5])


def test_loss_plus_equals_penalty_still_builds_the_graph():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    loss += w.sum()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 5.0])


def test_an_in_place_update_that_would_change_the_shape_is_refused():
    w = leaf([1.0, 2.0])
    with mg.no_grad(), pytest.raises(ValueError, match=r"shape \(2,\).*\(3, 2\)"):
        w += np.ones((3, 2), np.float32)


# --- a custom Function's backward -----------------------------------------------------------------------------

class Sigmoid(mg.Function):
    def forward(self, x):
        return 1 / (1 + np.exp(-x))

    def backward(self, gy):
        s = self.output.data
        return gy.data * s * (1 - s)  # the mistake: an array, not a Tensor


def test_a_backward_returning_a_numpy_array_is_named():
    x = leaf([0.5])
    with pytest.raises(TypeError, match=r"Sigmoid\.backward returned a numpy\.ndarray for input 0; "
                                        r"return a Tensor \(mg\.Tensor\(array\)\)"):
        Sigmoid()(x).sum().backward()


class TwoInputs(mg.Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        return gy * self.inputs[1]  # the mistake: one gradient for two inputs


def test_a_backward_returning_too_few_gradients_is_named():
    a, b = leaf([2.0]), leaf([3.0])
    with pytest.raises(RuntimeError, match=r"TwoInputs\.backward returned 1 gradient for 2 inputs"):
        TwoInputs()(a, b).sum().backward()


# --- NumPy functions on a Tensor --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, spelling", [
    (np.exp, r"t\.exp\(\) or F\.exp\(t\)"),
    (np.tanh, r"F\.tanh\(t\)"),
    (np.abs, r"t\.abs\(\) or F\.abs\(t\)"),
    (np.sum, r"t\.sum\(\) or F\.sum\(t\)"),
    (np.mean, r"t\.mean\(\) or F\.mean\(t\)"),
])
def test_a_numpy_function_on_a_tensor_names_the_minigrad_spelling(call, spelling):
    t = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match=spelling):
        call(t)


def test_a_numpy_function_minigrad_lacks_says_so():
    with pytest.raises(TypeError, match="minigrad has no arctan"):
        np.arctan(leaf([1.0]))


def test_numpy_operators_with_a_tensor_on_the_right_still_give_tensors():
    t = leaf([1.0, 2.0])
    array = np.array([3.0, 4.0], np.float32)
    for result in (array * t, array + t, array - t, array / t, array ** t, np.float32(2) * t):
        assert isinstance(result, mg.Tensor) and result.requires_grad
    assert isinstance(array @ t, mg.Tensor)
    np.testing.assert_array_equal((array > t).numpy(), [True, True])
    assert (array == t) is False and (array != t) is True  # == is identity, between tensors too


def test_np_asarray_gives_the_values():
    t = leaf([1.0, 2.0])
    values = np.asarray(t)
    assert values.dtype == np.float32 and values.tolist() == [1.0, 2.0]
    assert np.array([mg.tensor(1.0), mg.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_np_asarray_on_a_cuda_tensor_is_refused_saying_how_to_copy(gpu):
    t = mg.tensor([1.0, 2.0], device="cuda")
    with pytest.raises(TypeError, match=r"'cuda'.*t\.numpy\(\)"):
        np.asarray(t)


# --- truth values ---------------------------------------------------------------------------------------------

def test_the_truth_value_of_a_three_element_tensor_is_ambiguous():
    t = mg.tensor([1.0, -1.0, 2.0])
    with pytest.raises(ValueError, match=r"the truth value of a tensor with 3 elements is ambiguous; "
                                         r"use \.any\(\) / \.all\(\)"):
        if t > 0:
            pass
    assert bool((t > 0).any()) and not bool((t > 0).all())


def test_a_one_element_tensor_has_a_truth_value_and_a_float():
    assert mg.tensor([1.0]) > 0
    assert not (mg.tensor(-1.0) > 0)
    assert float(mg.tensor([[2.5]])) == 2.5


def test_on_cuda_truth_values_float_and_in_place_updates_work_as_on_the_cpu(gpu):
    w = mg.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    assert bool(w.sum() > 0) and float(w.sum()) == 3.0
    with pytest.raises(ValueError, match="ambiguous"):
        bool(w > 0)
    (w * w).sum().backward()
    with mg.no_grad():
        w -= 0.25 * w.grad
    assert w.device == "cuda" and w.is_leaf
    np.testing.assert_allclose(w.numpy(), [0.5, 1.0])


# --- float32 and float64: one rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("scalar", [2.0, 2, np.float64(2.0), np.float32(2.0), np.int64(2)])
def test_python_and_numpy_scalars_adopt_the_tensors_dtype(scalar):
    t = mg.tensor([1.0, 2.0])
    assert (t * scalar).dtype == np.float32
    assert (scalar * t).dtype == np.float32


@pytest.mark.parametrize("order", ["tensor first", "array first"])
def test_a_float64_array_with_a_float32_tensor_is_refused(order):
    t, array = mg.tensor([1.0, 2.0]), np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"mul: a float64 array with a float32 tensor.*array\.astype\(np\.float32\)"):
        t * array if order == "tensor first" else array * t


def test_integer_arrays_adopt_the_tensors_float_dtype():
    assert (mg.tensor([1.0, 2.0]) * np.array([1, 2])).dtype == np.float32


# --- integer images into a loss ------------------------------------------------------------------------------

def test_uint8_tensors_into_a_loss_are_refused_not_wrapped_around():
    zero, full = mg.tensor(np.array([0], np.uint8)), mg.tensor(np.array([255], np.uint8))
    with pytest.raises(TypeError, match=r"mse_loss: the prediction is uint8.*\.float\(\)"):
        F.mse_loss(zero, full)
    assert F.mse_loss(zero.float(), full.float()).item() == 255.0 ** 2


# --- edge values ----------------------------------------------------------------------------------------------

def test_the_gradient_of_x_to_the_zero_at_zero_is_zero():
    x = leaf([0.0, 2.0])
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_logsumexp_of_minus_infinities_is_minus_infinity():
    out = F.logsumexp(mg.tensor([-np.inf, -np.inf]))
    assert out.item() == -np.inf
    rows = F.logsumexp(mg.tensor([[-np.inf, -np.inf], [0.0, 0.0]]), axis=1).numpy()
    assert rows[0] == -np.inf and rows[1] == pytest.approx(np.log(2.0))


# --- the op that made a tensor --------------------------------------------------------------------------------

def test_grad_fn_next_functions_walks_the_graph_as_pytorch():
    a, b = leaf([2.0]), leaf([3.0])
    y = (a * b).exp()
    assert y.grad_fn.name == "Exp"
    (mul, index), = y.grad_fn.next_functions
    assert mul.name == "Mul" and index == 0
    assert mul.next_functions == ((None, 0), (None, 0))  # leaves: no Function made them
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.grad_fn.next_functions
