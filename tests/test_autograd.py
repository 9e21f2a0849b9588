"""The graph walk's semantics, dtype rules and the errors bad input must get."""
import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


def leaf(values, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# --- accumulation, retained and freed graphs ----------------------------------------------------------

def test_two_backward_calls_accumulate():
    x = leaf([1.0, -2.0])
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.numpy() + 3)


def test_a_tensor_used_twice_gets_both_contributions():
    x = leaf([2.0])
    (x * x.exp() + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(2.0) * 3 + 1)


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 3.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    np.testing.assert_allclose(first, np.exp(x.numpy()) * (1 + x.numpy()))


def test_a_second_backward_through_a_freed_graph_raises_and_changes_nothing():
    x = leaf([1.0, 2.0])
    shared = x * 2
    shared.sum().backward()
    grad_after_first = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        shared.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (shared * 3 + x).sum().backward()  # a new graph that runs into the freed part
    np.testing.assert_array_equal(x.grad.numpy(), grad_after_first)


def test_gradients_stored_in_different_leaves_are_separate_writable_arrays():
    """Optimisers and clipping update .grad in place: one leaf's update must never reach another."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    assert a.grad is not b.grad
    a.grad.data *= 0
    assert b.grad.numpy().tolist() == [1.0, 1.0]
    c = leaf([[1.0, 2.0]])
    c.sum().backward()  # the gradient of a sum is a broadcast: a read-only view until copied
    c.grad.data += 1
    assert c.grad.numpy().tolist() == [[2.0, 2.0]]


# --- what is recorded -----------------------------------------------------------------------------

def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        y = (x * x).exp().sum()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph_but_keeps_the_values():
    x = leaf([1.0, 2.0])
    frozen = (x * 3).detach()
    assert not frozen.requires_grad and frozen.numpy().tolist() == [3.0, 6.0]
    (frozen * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), frozen.numpy())


def test_grad_fn_names_the_op_that_made_a_tensor_and_its_inputs():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    product = x * w
    loss = product.exp().sum()
    assert x.grad_fn is None and x.is_leaf
    assert product.grad_fn.name == "Mul" and not product.is_leaf
    assert len(product.grad_fn.inputs) == 2
    assert product.grad_fn.inputs[0] is x and product.grad_fn.inputs[1] is w
    exp = loss.grad_fn.inputs[0]
    assert loss.grad_fn.name == "Sum" and exp.grad_fn.name == "Exp" and exp.grad_fn.inputs[0] is product
    with mg.no_grad():
        assert (x * w).grad_fn is None
    assert (mg.tensor([1.0]) * 2).grad_fn is None  # nothing requires grad: nothing is recorded
    loss.backward()
    assert loss.grad_fn.name == "Sum" and loss.grad_fn.inputs is None  # the graph is freed after backward


def test_backward_without_create_graph_records_no_graph_for_the_gradients():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    assert not x.grad.requires_grad and x.grad.is_leaf


def test_intermediate_buffers_are_freed_after_backward():
    gc.disable()  # freed by reference counting alone, not by a later garbage collection
    try:
        for retain, freed in [(False, True), (True, False)]:
            x = leaf(np.ones((50, 50)))
            hidden = (x @ x).exp()
            loss = (hidden * hidden).sum()
            tensor_ref, array_ref = weakref.ref(hidden), weakref.ref(hidden.data)
            loss.backward(retain_graph=retain)
            del hidden  # loss is still alive: only a retained graph may keep the intermediate
            assert (tensor_ref() is None) == freed and (array_ref() is None) == freed
    finally:
        gc.enable()


# --- mg.grad and second derivatives -----------------------------------------------------------------

def test_grad_returns_gradients_and_leaves_dot_grad_untouched():
    x, w = leaf([1.0, 2.0]), leaf([0.5, -1.0])
    w.grad = mg.tensor(np.array([7.0, 7.0]))
    gx, gw = mg.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.numpy(), w.numpy())
    np.testing.assert_array_equal(gw.numpy(), x.numpy())
    assert x.grad is None and w.grad.numpy().tolist() == [7.0, 7.0]


def test_grad_of_an_unused_input_is_zero_and_a_constant_input_is_an_error():
    x, unused = leaf([1.0]), leaf([5.0, 6.0])
    _, g = mg.grad((x * x).sum(), [x, unused])
    assert g.numpy().tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="input 1 does not require grad"):
        mg.grad((x * x).sum(), [x, mg.tensor([1.0])])


def test_hessian_vector_products_match_the_closed_form():
    """f(x) = sum(x^3) + (a.x)^2  ->  H v = 6 x * v + 2 a (a.v)."""
    rng = np.random.default_rng(0)
    x, a, v = leaf(rng.normal(size=4)), mg.tensor(rng.normal(size=4)), mg.tensor(rng.normal(size=4))
    f = (x ** 3).sum() + ((a * x).sum()) ** 2
    (g,) = mg.grad(f, x, create_graph=True)
    assert g.requires_grad
    (hv,) = mg.grad(g, x, grad_outputs=v)
    expected = 6 * x.numpy() * v.numpy() + 2 * a.numpy() * (a.numpy() @ v.numpy())
    np.testing.assert_allclose(hv.numpy(), expected, rtol=1e-12)


class RecordingMul(mg.Function):
    """a * b, remembering the needs_input_grad each backward saw."""
    seen = []

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        RecordingMul.seen.append(self.needs_input_grad)
        return (gy * b if self.needs_input_grad[0] else None), (gy * a if self.needs_input_grad[1] else None)


def test_needs_input_grad_is_recorded_with_the_inputs_and_grad_narrows_it_to_the_wanted_ones():
    x, w, constant = leaf([1.0, 2.0]), leaf([3.0, 4.0]), mg.tensor(np.array([5.0, 6.0]))
    RecordingMul.seen = []
    assert RecordingMul()(x, constant).grad_fn.needs_input_grad == (True, False)
    mg.grad(RecordingMul()(x, w).sum(), x)  # w's gradient is not asked for: its work is skipped
    RecordingMul()(x, w).sum().backward()
    assert RecordingMul.seen == [(True, False), (True, True)]


def test_a_backward_after_grad_through_the_same_graph_gets_every_gradient():
    """The WGAN-GP pattern: h = sum(exp(x w)), gx = dh/dx = w exp(x w), loss = h + |gx|^2, then loss.backward().

    mg.grad narrows needs_input_grad to x while it walks; the backward after it must see w's need again.
    """
    x, w = leaf([0.5, -1.0]), leaf([1.5, 0.25])
    h = (x * w).exp().sum()
    (gx,) = mg.grad(h, x, create_graph=True)
    (h + (gx * gx).sum()).backward()
    xv, wv = x.numpy(), w.numpy()
    e, e2 = np.exp(xv * wv), np.exp(2 * xv * wv)
    np.testing.assert_allclose(w.grad.numpy(), xv * e + 2 * wv * e2 + 2 * xv * wv ** 2 * e2, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), wv * e + 2 * wv ** 3 * e2, rtol=1e-12)


def test_backward_with_create_graph_gives_differentiable_grads():
    """A gradient penalty: d/dw of |d(w.x)^2/dx|^2 with w.x = s: grad_x = 2 s w, penalty = 4 s^2 |w|^2."""
    w, x = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    ((w * x).sum() ** 2).backward(create_graph=True)
    penalty = (x.grad * x.grad).sum()
    (gw,) = mg.grad(penalty, w)
    s, wv, xv = float(w.numpy() @ x.numpy()), w.numpy(), x.numpy()
    np.testing.assert_allclose(gw.numpy(), 8 * s * xv * (wv @ wv) + 8 * s * s * wv)


def test_a_chain_of_ten_thousand_ops_has_no_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)
    deep = x
    for _ in range(10_000):
        deep = deep + 1.0
    del deep  # dropping a deep unused graph must not overflow the stack either


# --- dtypes ---------------------------------------------------------------------------------------

def test_tensor_dtype_rules():
    assert mg.tensor([1, 2]).dtype == np.float32
    assert mg.tensor([1.5]).dtype == np.float32
    assert mg.tensor(2.0).dtype == np.float32
    assert mg.tensor(np.zeros(2)).dtype == np.float64
    assert mg.tensor(np.zeros(2, dtype=np.float32)).dtype == np.float32
    assert mg.tensor([1.0], dtype=mg.float64).dtype == np.float64
    assert mg.tensor(np.zeros(2), dtype=np.float32).dtype == np.float32
    assert mg.tensor(np.arange(3)).dtype.kind == "i"  # integer arrays stay integer (labels, indices)


def test_tensor_copies_its_data():
    source = np.zeros(2)
    t = mg.tensor(source)
    source[0] = 5.0
    assert t.numpy().tolist() == [0.0, 0.0]


def test_a_float32_graph_stays_float32_with_python_and_float64_constants_mixed_in():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    W = mg.tensor(rng.normal(size=(3, 2)).astype(np.float32), requires_grad=True)
    b = mg.tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    constants = [0.5, np.float64(0.25), np.array(1.5), np.full(2, 2)]  # scalars (0-d too) and int arrays adopt float32
    h = F.linear(x, W, b)
    seen = [h]
    for c in constants:
        h = F.sigmoid(h * c + c - c / (h * h + 1.0) + c ** 2) ** 2.0
        seen.append(h)
    seen += [F.softplus(h).mean(), F.log_softmax(h, axis=1), F.mse_loss(h, np.zeros((4, 2), np.float32)), h.max(axis=0),
             F.binary_cross_entropy(h.clip(0.01, 0.99), np.ones((4, 2), np.float32)), F.gaussian_kl(h, h * 0.5),
             F.dropout(h, 0.5), F.logsumexp(h, axis=1), mg.where(h > 0.5, h, 0.0), mg.maximum(h, 0.3),
             F.cross_entropy(h, np.array([0, 1, 1, 0])), F.leaky_relu(h - 0.5, 0.1), h.sqrt(), h.abs().log()]
    loss = sum((t.sum() for t in seen), start=mg.zeros(()))
    grads = mg.grad(loss, [x, W, b], create_graph=True)
    second = mg.grad(sum(g.sum() for g in grads), [x, W, b])
    for t in seen + [loss] + list(grads) + list(second):
        assert t.dtype == np.float32, f"a {t.dtype} tensor of shape {t.shape} appeared in a float32 graph"


def test_mixing_float32_and_float64_tensors_is_an_error_at_the_call():
    with pytest.raises(TypeError, match="float32 and float64"):
        leaf([1.0], np.float32) * mg.tensor(np.array([2.0]))


def test_an_explicit_cast_is_the_way_to_mix_dtypes_and_gradients_come_back_in_each_leafs_dtype():
    x, y = leaf([1.5, 2.0], np.float32), leaf([3.0, 4.0], np.float64)
    (x.double() * y).sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    assert x.grad.numpy().tolist() == [3.0, 4.0] and y.grad.numpy().tolist() == [1.5, 2.0]


def test_integer_tensors_cannot_ask_for_gradients():
    with pytest.raises(TypeError, match="floating-point"):
        mg.tensor(np.arange(3), requires_grad=True)
    t = mg.tensor(np.arange(3))
    with pytest.raises(TypeError, match="int64"):
        t.requires_grad = True


# --- bad input, caught at the call --------------------------------------------------------------------

def test_backward_of_a_non_scalar_needs_a_gradient():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*grad="):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\)"):
        y.backward(np.ones(3))


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b,
                                lambda a, b: mg.maximum(a, b), lambda a, b: mg.where(True, a, b)],
                         ids=["add", "mul", "sub", "div", "maximum", "where"])
@pytest.mark.parametrize("other, named", [((4,), r"\(2, 3\) and \(4,\)"), ((4, 5), r"\(2, 3\) and \(4, 5\)")])
def test_non_broadcastable_shapes_name_both_shapes(op, other, named):
    a, b = leaf(np.ones((2, 3))), leaf(np.ones(other))
    with pytest.raises(ValueError, match=named):
        op(a, b)


@pytest.mark.parametrize("shapes", [((2, 3), (4, 5)), ((3,), (2, 4)), ((5, 2, 3), (2,))])
def test_matmul_inner_mismatch_names_both_shapes(shapes):
    a, b = (leaf(np.ones(s)) for s in shapes)
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ: " + r" @ ".join(
            map(lambda s: str(s).replace("(", r"\(").replace(")", r"\)"), shapes))):
        a @ b


def test_a_wrong_shaped_gradient_from_a_backward_is_named():
    class SumWithoutBroadcastSum(mg.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, gy):
            return gy, gy

    a, b = leaf(np.ones((2, 3))), leaf(np.ones((1, 3)))
    with pytest.raises(RuntimeError, match=r"SumWithoutBroadcastSum.backward returned a gradient of shape \(2, 3\)"):
        SumWithoutBroadcastSum()(a, b).sum().backward()


def test_detect_anomaly_names_the_op_that_made_a_nan():
    x = leaf([-1.0, 4.0])
    with mg.detect_anomaly():
        with pytest.raises(FloatingPointError, match="Log"), np.errstate(invalid="ignore"):
            x.log()
        y = x.abs().sqrt()  # finite forward, finite backward away from 0
        y.sum().backward()
        z = leaf([0.0]).sqrt()  # forward fine, backward divides by zero
        with pytest.raises(FloatingPointError, match="Sqrt.backward"), np.errstate(divide="ignore"):
            z.sum().backward()
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().numpy()[0])  # outside the context nothing is checked
