"""Extreme inputs give finite values and finite gradients, in float32 and float64, and the right limits."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

DTYPES = [np.float32, np.float64]


def values_and_grads(fn, *arrays, dtype):
    """fn's value and the gradient of its sum w.r.t. every argument, as float64 NumPy arrays; all must be finite."""
    inputs = [mg.tensor(np.asarray(a, dtype=dtype), requires_grad=True) for a in arrays]
    out = fn(*inputs)
    out.sum().backward()
    results = [out] + [t.grad for t in inputs]
    for r in results:
        assert r.dtype == dtype
        assert np.isfinite(r.numpy()).all(), f"non-finite result {r}"
    return [r.numpy().astype(np.float64) for r in results]


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_saturates(dtype):
    value, grad = values_and_grads(F.sigmoid, [-1000.0, 0.0, 1000.0], dtype=dtype)
    np.testing.assert_array_equal(value, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(grad, [0.0, 0.25, 0.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_is_linear_above_and_vanishes_below(dtype):
    value, grad = values_and_grads(F.softplus, [-1000.0, 0.0, 1000.0], dtype=dtype)
    np.testing.assert_allclose(value, [0.0, np.log(2.0), 1000.0], rtol=1e-6)
    np.testing.assert_array_equal(grad, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_softmax_and_log_softmax_of_huge_logits(dtype, scale):
    logits = [[scale, 0.0, -scale], [scale, scale, 0.0]]
    probabilities, _ = values_and_grads(lambda x: F.softmax(x, axis=1), logits, dtype=dtype)
    biggest = 0 if scale > 0 else 2
    expected = np.zeros((2, 3))
    expected[0, biggest] = 1.0
    expected[1] = [0.5, 0.5, 0.0] if scale > 0 else [0.0, 0.0, 1.0]
    np.testing.assert_allclose(probabilities, expected, atol=1e-7)
    weights = mg.tensor(np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], dtype=dtype))
    _, grad = values_and_grads(lambda x: F.log_softmax(x, axis=1) * weights, logits, dtype=dtype)
    # d/dx sum(w * log_softmax(x)) = w - softmax(x) * sum(w)
    np.testing.assert_allclose(grad, weights.numpy() - expected * weights.numpy().sum(axis=1, keepdims=True),
                               atol=1e-6)
    log_probabilities, _ = values_and_grads(lambda x: F.log_softmax(x, axis=1), logits, dtype=dtype)
    x = np.array(logits)
    peak = x.max(axis=1, keepdims=True)
    np.testing.assert_allclose(log_probabilities, x - peak - np.log(np.exp(x - peak).sum(axis=1, keepdims=True)),
                               rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_and_cross_entropy_of_huge_logits(dtype):
    value, grad = values_and_grads(lambda x: F.logsumexp(x, axis=1), [[1e4, 0.0], [-1e4, -1e4]], dtype=dtype)
    np.testing.assert_allclose(value, [1e4, -1e4 + np.log(2.0)], rtol=1e-6)
    np.testing.assert_allclose(grad, [[1.0, 0.0], [0.5, 0.5]], atol=1e-7)
    loss, grad = values_and_grads(lambda x: F.cross_entropy(x, np.array([1, 0]), reduction="sum"),
                                  [[1e4, -1e4], [1e4, 0.0]], dtype=dtype)
    np.testing.assert_allclose(loss, 2e4, rtol=1e-6)
    np.testing.assert_allclose(grad, [[1.0, -1.0], [0.0, 0.0]], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_at_ten_thousand(dtype):
    logits, targets = [1e4, 1e4, -1e4, -1e4], [0.0, 1.0, 0.0, 1.0]
    loss, grad_logits, grad_targets = values_and_grads(
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"), logits, targets, dtype=dtype)
    np.testing.assert_allclose(loss, [1e4, 0.0, 0.0, 1e4], rtol=1e-6)
    np.testing.assert_array_equal(grad_logits, [1.0, 0.0, 0.0, -1.0])  # sigmoid(x) - t
    np.testing.assert_array_equal(grad_targets, [-1e4, -1e4, 1e4, 1e4])  # -x


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_at_probabilities_zero_and_one(dtype):
    """Logs are clamped at -100 (as PyTorch), so a confident wrong answer costs 100, not inf."""
    probabilities, targets = [0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]
    loss, grad_p, grad_t = values_and_grads(lambda p, t: F.binary_cross_entropy(p, t, reduction="none"),
                                            probabilities, targets, dtype=dtype)
    np.testing.assert_allclose(loss, [0.0, 100.0, 100.0, 0.0])
    assert grad_p[1] < 0 < grad_p[2]  # pushes the wrong answers the right way
    np.testing.assert_allclose(grad_t, [100.0, 100.0, -100.0, -100.0])  # log(1-p) - log(p), clamped


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_kl_of_a_very_wide_or_narrow_posterior(dtype):
    value, grad_mu, grad_logvar = values_and_grads(lambda m, v: F.gaussian_kl(m, v, reduction="none"),
                                                   [0.0, 3.0], [-30.0, 30.0], dtype=dtype)
    expected = -0.5 * (1 + np.array([-30.0, 30.0]) - np.array([0.0, 9.0]) - np.exp([-30.0, 30.0]))
    np.testing.assert_allclose(value, expected, rtol=1e-5)
    np.testing.assert_allclose(grad_mu, [0.0, 3.0])
    np.testing.assert_allclose(grad_logvar, 0.5 * (np.exp([-30.0, 30.0]) - 1), rtol=1e-5)
