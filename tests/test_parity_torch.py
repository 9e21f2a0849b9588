"""Every op against PyTorch: values, gradients and second derivatives on random shapes and inputs.

The error of a tensor is max|ours - torch| relative to the tensor's largest magnitude, or absolute where
that is below 1: where a result is a near-cancelling sum, the two libraries' different summation orders
(and FMA use) differ by rounding of the terms, not of the result. Each comparison records its error;
conftest prints the largest per dtype (values and gradients; second derivatives apart) at the end.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minigrad as mg
from op_cases import CASES

torch = pytest.importorskip("torch")

TOLERANCE = {("float64", 1): 1e-12, ("float64", 2): 1e-8, ("float32", 1): 1e-5, ("float32", 2): 1e-4}


def compare(record_property, what, ours, theirs, order=1):
    theirs = theirs.detach().numpy(force=True)  # force: PyTorch may answer with a lazy ZeroTensor
    ours = ours.numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, PyTorch gives {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, PyTorch gives {theirs.dtype}"
    if not theirs.size:
        return
    error = float(np.abs(ours - theirs).max()) / max(float(np.abs(theirs).max()), 1.0)
    dtype = str(theirs.dtype)
    record_property("relative_error_vs_torch", (dtype if order == 1 else f"{dtype} 2nd-order", what, error))
    assert error <= TOLERANCE[dtype, order], f"{what}: error {error:.3g} vs PyTorch"


def torch_grad(output, inputs, grad_outputs):
    """torch.autograd.grad with create_graph, giving zeros where an input or the output is unconnected."""
    if not output.requires_grad:
        return [torch.zeros_like(t) for t in inputs]
    grads = torch.autograd.grad(output, inputs, grad_outputs, create_graph=True, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for t, g in zip(inputs, grads)]


# record_property is function-scoped on purpose: it gathers the errors of every example
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", [c for c in CASES if c.torch_fn is not None], ids=str)
@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_values_gradients_and_second_derivatives_match_pytorch(case, dtype, data, record_property):
    shapes, params = data.draw(case.draw, label="shapes, params")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    arrays = case.arrays(shapes, seed, dtype)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = case.fn(*ours, **params), case.torch_fn(torch, *theirs, **params)
    compare(record_property, f"{case.name} value", out, t_out)

    rng = np.random.default_rng(seed + 1)
    weight = rng.normal(size=out.shape).astype(dtype)
    grads = mg.grad(out, ours, grad_outputs=mg.tensor(weight), create_graph=True)
    t_grads = torch_grad(t_out, theirs, torch.tensor(weight))
    for i, (g, t_g) in enumerate(zip(grads, t_grads)):
        compare(record_property, f"{case.name} gradient {i}", g, t_g)

    # second derivatives: the gradient of <grads, u> for a random u, i.e. Hessian-vector products
    directions = [rng.normal(size=g.shape).astype(dtype) for g in grads]
    projected = sum(((g * mg.tensor(u)).sum() for g, u in zip(grads, directions)), start=mg.zeros((), dtype=dtype))
    t_projected = sum((t_g * torch.tensor(u)).sum() for t_g, u in zip(t_grads, directions))
    second = mg.grad(projected, ours) if projected.requires_grad else [mg.zeros_like(t) for t in ours]
    t_second = torch_grad(t_projected, theirs, None)
    for i, (h, t_h) in enumerate(zip(second, t_second)):
        compare(record_property, f"{case.name} second derivative {i}", h, t_h, order=2)
