"""conv2d and conv_transpose2d: first and second derivatives, a loop reference, PyTorch parity, errors."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.kernels import conv as conv_kernels
from minigrad.ops import conv

# --- references written independently of ops/ and kernels/: explicit np.pad, one einsum per kernel offset -----


def tf_same_padding(size, kernel, stride):
    """TensorFlow's rule, as its documentation states it."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d_reference(x, W, stride, pads):
    """pads = ((top, bottom), (left, right))."""
    (kh, kw), (sh, sw) = W.shape[2:], stride
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    y = np.zeros((x.shape[0], W.shape[0], ho, wo))
    for i in range(kh):
        for j in range(kw):
            window = xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
            y += np.einsum("nchw,oc->nohw", window, W[:, :, i, j])
    return y


def conv_transpose2d_reference(y, W, stride, pads, out_size):
    """Scatter every input pixel times the kernel onto the output (PyTorch's definition), then crop."""
    (kh, kw), (sh, sw), (h, w) = W.shape[2:], stride, y.shape[2:]
    (top, bottom), (left, right) = pads
    full = np.zeros((y.shape[0], W.shape[1], out_size[0] + top + bottom, out_size[1] + left + right))
    for i in range(kh):
        for j in range(kw):
            full[:, :, i:i + sh * (h - 1) + 1:sh, j:j + sw * (w - 1) + 1:sw] += np.einsum("nchw,co->nohw", y, W[:, :, i, j])
    return full[:, :, top:top + out_size[0], left:left + out_size[1]]


# --- configurations ------------------------------------------------------------------------------------------

small = st.integers(1, 4)
# one output row per band, a few rows per band, everything in one band
BAND_SIZES = [1, 1000, 4000, conv_kernels.BAND_BYTES]


@st.composite
def conv_configs(draw):
    """A conv2d call: shapes, stride, padding (int, pair, 'same' or 'valid'), bias on/off, band size."""
    n, cin, cout = draw(st.integers(1, 3)), draw(small), draw(small)
    kernel = (draw(small), draw(small))
    stride = draw(st.sampled_from([1, 2, 3]) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = draw(st.integers(0, 2) | st.tuples(st.integers(0, 2), st.integers(0, 2))
                   | st.sampled_from(["same", "valid"]))
    pads = (0, 0) if padding in ("same", "valid") else conv.int_pair("test", "padding", padding)
    size = tuple(draw(st.integers(max(1, k - 2 * p), 9)) for k, p in zip(kernel, pads))
    return dict(x=(n, cin) + size, W=(cout, cin) + kernel, b=draw(st.booleans()) and (cout,),
                stride=stride, padding=padding, band_bytes=draw(st.sampled_from(BAND_SIZES)))


@st.composite
def transpose_configs(draw):
    """A conv_transpose2d call, output_padding < stride, or padding='same'."""
    n, cin, cout = draw(st.integers(1, 3)), draw(small), draw(small)
    kernel = (draw(small), draw(small))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    if draw(st.booleans()):
        padding, output_padding = "same", 0
    else:
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        output_padding = tuple(draw(st.integers(0, s - 1)) for s in stride)
        assume(all((h - 1) * s + k - 2 * p + o >= 1
                   for h, s, k, p, o in zip(size, stride, kernel, padding, output_padding)))
    return dict(x=(n, cin) + size, W=(cin, cout) + kernel, b=draw(st.booleans()) and (cout,), stride=stride,
                padding=padding, output_padding=output_padding,
                band_bytes=draw(st.sampled_from(BAND_SIZES)))


def arrays_for(config, seed):
    rng = np.random.default_rng(seed)
    shapes = [config["x"], config["W"]] + ([config["b"]] if config["b"] else [])
    return [rng.uniform(-1, 1, shape) for shape in shapes]


def call(config):
    """fn(x, W[, b]) calling the op the config describes."""
    options = {k: config[k] for k in ("stride", "padding", "output_padding") if k in config}
    op = F.conv_transpose2d if "output_padding" in config else F.conv2d
    return lambda x, W, b=None: op(x, W, b, **options)


@pytest.fixture(autouse=True)
def restore_band_size():
    saved = conv_kernels.BAND_BYTES
    yield
    conv_kernels.BAND_BYTES = saved


def expected_pads(config, in_size):
    stride = conv.int_pair("test", "stride", config["stride"])
    kernel = config["W"][2:]
    if config["padding"] == "same":
        return tuple(tf_same_padding(n, k, s) for n, k, s in zip(in_size, kernel, stride))
    if config["padding"] == "valid":
        return ((0, 0), (0, 0))
    return tuple((p, p) for p in conv.int_pair("test", "padding", config["padding"]))


# --- the loop reference ----------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(config=conv_configs(), seed=st.integers(0, 2**16))
def test_conv2d_matches_the_loop_reference(config, seed):
    conv_kernels.BAND_BYTES = config["band_bytes"]
    x, W, *b = arrays_for(config, seed)
    y = call(config)(*[mg.tensor(a) for a in [x, W, *b]])
    stride = conv.int_pair("test", "stride", config["stride"])
    expected = conv2d_reference(x, W, stride, expected_pads(config, x.shape[2:]))
    if b:
        expected += b[0][:, None, None]
    if config["padding"] == "same":
        assert y.shape[2:] == tuple(math.ceil(n / s) for n, s in zip(x.shape[2:], stride))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=40)
@given(config=transpose_configs(), seed=st.integers(0, 2**16))
def test_conv_transpose2d_matches_the_loop_reference(config, seed):
    conv_kernels.BAND_BYTES = config["band_bytes"]
    x, W, *b = arrays_for(config, seed)
    y = call(config)(*[mg.tensor(a) for a in [x, W, *b]])
    stride, kernel, size = config["stride"], config["W"][2:], config["x"][2:]
    if config["padding"] == "same":
        out_size = tuple(n * s for n, s in zip(size, stride))
        pads = tuple(tf_same_padding(n, k, s) for n, k, s in zip(out_size, kernel, stride))
    else:
        pads = tuple((p, p) for p in config["padding"])
        out_size = tuple((n - 1) * s + k - 2 * p + o for n, s, k, p, o in
                         zip(size, stride, kernel, config["padding"], config["output_padding"]))
    expected = conv_transpose2d_reference(x, W, stride, pads, out_size)
    if b:
        expected += b[0][:, None, None]
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_same_padding_puts_the_odd_pad_at_the_bottom_right():
    """28x28, 3x3, stride 2: TensorFlow pads 0 rows on top and 1 at the bottom (PyTorch-style symmetric
    padding would put the corner pixels under other taps)."""
    W = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    for pixel, out_pixel, tap in [((0, 0), (0, 0), (0, 0)), ((27, 27), (13, 13), (1, 1))]:
        x = np.zeros((1, 1, 28, 28))
        x[(0, 0) + pixel] = 1.0
        y = F.conv2d(mg.tensor(x), mg.tensor(W), stride=2, padding="same").numpy()
        assert y.shape == (1, 1, 14, 14)
        assert y[(0, 0) + out_pixel] == W[(0, 0) + tap] and np.count_nonzero(y) == 1


# --- first and second derivatives -------------------------------------------------------------------------------


def leaves(arrays):
    return [mg.tensor(a, requires_grad=True) for a in arrays]


@settings(max_examples=40)
@given(config=conv_configs() | transpose_configs(), seed=st.integers(0, 2**16))
def test_gradcheck_and_gradgradcheck(config, seed):
    """Both ops, with respect to input, weight and bias, first and second order."""
    conv_kernels.BAND_BYTES = config["band_bytes"]
    inputs = leaves(arrays_for(config, seed))
    assert mg.gradcheck(call(config), inputs, full_check_limit=300)
    assert mg.gradgradcheck(call(config), inputs, full_check_limit=60)


@pytest.mark.parametrize("wrt", ["weight", "input"])
def test_second_derivative_through_each_path_alone(wrt):
    """The weight path is where DeZero's conv crashes: check d2/dW2 and d2/dx2 each on their own."""
    rng = np.random.default_rng(3)
    x, W = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(3, 2, 2, 3))
    fixed = {"input": x, "weight": W}
    other = mg.tensor(W if wrt == "input" else x)
    if wrt == "weight":
        fn = lambda W: F.conv2d(other, W, stride=2, padding=1) ** 2  # noqa: E731
    else:
        fn = lambda x: F.conv2d(x, other, stride=2, padding=1) ** 2  # noqa: E731
    assert mg.gradgradcheck(fn, leaves([fixed[wrt]]))


def test_conv_is_the_adjoint_of_conv_transpose_with_same_padding():
    """<conv(x), r> = <x, conv_transpose(r)> for the same weight: what makes Keras' Conv2DTranspose('same').
    (Sizes are multiples of the stride: conv_transpose 'same' gives exactly H * stride.)"""
    rng = np.random.default_rng(4)
    for size, kernel, stride in [((28, 28), (3, 3), 2), ((8, 9), (4, 2), (2, 3)), ((6, 6), (1, 2), 3)]:
        x = rng.normal(size=(2, 3) + size)
        W = rng.normal(size=(4, 3) + kernel)
        y = F.conv2d(mg.tensor(x), mg.tensor(W), stride=stride, padding="same").numpy()
        r = rng.normal(size=y.shape)
        back = F.conv_transpose2d(mg.tensor(r), mg.tensor(W), stride=stride, padding="same").numpy()
        assert back.shape == x.shape
        assert np.isclose(np.vdot(y, r), np.vdot(x, back), rtol=1e-12)


def import_torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # tiny ops: a second thread only adds synchronisation (tens of ms per op on a busy machine)
    return torch


# --- PyTorch parity -------------------------------------------------------------------------------------------


def torch_padded(torch, x, pads):
    (top, bottom), (left, right) = pads
    return torch.nn.functional.pad(x, (left, right, top, bottom))


def compare(record_property, what, ours, theirs, rtol=1e-10):
    theirs = theirs.detach().numpy()
    error = float(np.abs(ours.numpy() - theirs).max() / max(np.abs(theirs).max(), 1e-30))
    record_property("relative_error_vs_torch", (str(theirs.dtype), what, error))
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=rtol, atol=rtol * np.abs(theirs).max())


def check_against_torch(record_property, config, seed, torch_forward):
    """Our op's output and gradients against torch_forward(x, W[, b]) on the same values."""
    torch = import_torch()
    conv_kernels.BAND_BYTES = config["band_bytes"]
    arrays = arrays_for(config, seed)
    ours = leaves(arrays)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = call(config)(*ours)
    g = np.random.default_rng(seed + 1).normal(size=y.shape)
    y.backward(mg.tensor(g))
    t_y = torch_forward(torch, *theirs)
    t_y.backward(torch.tensor(g))
    op = "conv_transpose2d" if "output_padding" in config else "conv2d"
    compare(record_property, f"{op} output", y, t_y)
    for name, a, t in zip(["input", "weight", "bias"], ours, theirs):
        compare(record_property, f"{op} {name} gradient", a.grad, t.grad)


# record_property collects every example's error, which is what we want: no reset between examples
parity_settings = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])


@parity_settings
@given(config=conv_configs(), seed=st.integers(0, 2**16))
def test_conv2d_output_and_gradients_match_pytorch(config, seed, record_property):
    pads = expected_pads(config, config["x"][2:])  # torch has no 'same' for stride > 1: pad explicitly

    def torch_conv(torch, x, W, b=None):
        return torch.nn.functional.conv2d(torch_padded(torch, x, pads), W, b, stride=config["stride"])

    check_against_torch(record_property, config, seed, torch_conv)


@parity_settings
@given(config=transpose_configs(), seed=st.integers(0, 2**16))
def test_conv_transpose2d_output_and_gradients_match_pytorch(config, seed, record_property):
    def torch_conv_transpose(torch, x, W, b=None):
        if config["padding"] != "same":
            return torch.nn.functional.conv_transpose2d(x, W, b, stride=config["stride"], padding=config["padding"],
                                                        output_padding=config["output_padding"])
        # Keras' Conv2DTranspose('same') is the gradient of the 'same' convolution of an (H*s, W*s) input
        out_shape = (x.shape[0], W.shape[1]) + tuple(n * s for n, s in zip(x.shape[2:], config["stride"]))
        pads = expected_pads(config, out_shape[2:])
        probe = torch.zeros(out_shape, dtype=torch.float64, requires_grad=True)
        forward = torch.nn.functional.conv2d(torch_padded(torch, probe, pads), W, stride=config["stride"])
        y, = torch.autograd.grad(forward, probe, x, create_graph=True)
        return y if b is None else y + b[:, None, None]

    check_against_torch(record_property, config, seed, torch_conv_transpose)


def test_double_backward_matches_pytorch(record_property):
    """A gradient penalty through conv -> leaky_relu -> conv_transpose: d/dW of |d loss/dx|^2."""
    torch = import_torch()
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=(4, 2, 4, 4))]

    def penalty(lib, conv2d, conv_t, leaky, x, W1, W2):
        out = conv_t(leaky(conv2d(x, W1, None, 2, 1)), W2, None, 2, 1)
        loss = (out * out).sum()
        gx, = lib.grad(loss, x, create_graph=True) if lib is torch.autograd else lib.grad(loss, [x], create_graph=True)
        return (gx * gx).sum()

    ours = leaves(arrays)
    penalty(mg, F.conv2d, F.conv_transpose2d, lambda t: F.leaky_relu(t, 0.2), *ours).backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    tf = torch.nn.functional
    penalty(torch.autograd, tf.conv2d, lambda y, W, b, s, p: tf.conv_transpose2d(y, W, b, s, p),
            lambda t: tf.leaky_relu(t, 0.2), *theirs).backward()
    for name, a, t in zip(["input", "conv weight", "conv_transpose weight"], ours, theirs):
        compare(record_property, f"double backward {name} gradient", a.grad, t.grad)


# --- memory order, dtype, skipped work ---------------------------------------------------------------------------


def test_any_memory_order_of_the_input_gives_the_same_result():
    """Inputs may be NCHW, channel-last views, or the batch-innermost arrays convs produce."""
    rng = np.random.default_rng(6)
    x, W = rng.normal(size=(3, 2, 6, 5)), rng.normal(size=(4, 2, 3, 3))
    expected = conv2d_reference(x, W, (1, 1), ((1, 1), (1, 1)))
    variants = [x, np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
                np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2), x[:, :, ::-1, :][:, :, ::-1, :]]
    for variant in variants:
        y = F.conv2d(mg.tensor(variant), mg.tensor(W), padding=1)
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
        x_back = F.conv_transpose2d(y, mg.tensor(W), padding=1)  # a conv output fed straight to the next conv
        np.testing.assert_allclose(x_back.numpy(), conv_transpose2d_reference(expected, W, (1, 1), ((1, 1), (1, 1)),
                                                                              (6, 5)), rtol=1e-10)


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_float32_stays_float32(op):
    rng = np.random.default_rng(7)
    x = mg.tensor(rng.normal(size=(2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    W = mg.tensor(rng.normal(size=(3, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = mg.tensor(np.zeros(3, np.float32), requires_grad=True)
    y = getattr(F, op)(x, W, b, stride=2, padding=1)
    assert y.dtype == np.float32
    gx, gW, gb = mg.grad((y * y).sum(), [x, W, b], create_graph=True)
    assert {gx.dtype, gW.dtype, gb.dtype} == {np.dtype(np.float32)}
    gxx, = mg.grad((gW * gW).sum(), [x])
    assert gxx.dtype == np.float32


def test_no_input_gradient_is_computed_when_nobody_asks(monkeypatch):
    calls = []
    original = conv.ConvTranspose2D.forward
    monkeypatch.setattr(conv.ConvTranspose2D, "forward", lambda self, *a: calls.append(1) or original(self, *a))
    x = mg.tensor(np.ones((1, 1, 5, 5)))
    W = mg.tensor(np.ones((2, 1, 3, 3)), requires_grad=True)
    F.conv2d(x, W).sum().backward()
    assert calls == [] and x.grad is None and W.grad.shape == (2, 1, 3, 3)
    x.requires_grad = True
    F.conv2d(x, W).sum().backward()
    assert calls == [1] and x.grad.shape == x.shape


# --- errors -----------------------------------------------------------------------------------------------------

ERRORS = [
    ("conv2d", (1, 1, 3, 3), (2, 1, 5, 5), {}, "kernel 5x5 is larger than the padded input 3x3"),
    ("conv2d", (1, 1, 3, 3), (2, 1, 5, 5), {"padding": (1, 0)}, "kernel 5x5 is larger than the padded input 5x3"),
    ("conv2d", (1, 1, 8, 8), (2, 1, 3, 3), {"stride": 0}, "stride must be positive, got (0, 0)"),
    ("conv2d", (1, 1, 8, 8), (2, 1, 3, 3), {"stride": (1, -2)}, "stride must be positive, got (1, -2)"),
    ("conv2d", (1, 1, 8, 8), (2, 1, 3, 3), {"padding": -1}, "padding must be non-negative, got (-1, -1)"),
    ("conv2d", (1, 1, 8, 8), (2, 1, 3, 3), {"padding": "full"}, "padding must be an int, a pair, 'valid' or 'same'"),
    ("conv2d", (1, 1, 8, 8), (2, 1, 3, 3), {"padding": (1, 2, 3)}, "padding must be an int or a pair of ints"),
    ("conv2d", (1, 1, 8, 8), (16, 3, 3, 3), {},
     "conv2d: input has 1 channel, expected 3 (input shape (1, 1, 8, 8), weight shape (16, 3, 3, 3))"),
    ("conv2d", (1, 8, 8), (16, 3, 3, 3), {}, "conv2d: input must be 4-D (N, C, H, W), got shape (1, 8, 8)"),
    ("conv2d", (1, 3, 8, 8), (16, 3, 3), {}, "conv2d: weight must be 4-D, got shape (16, 3, 3)"),
    ("conv_transpose2d", (1, 2, 4, 4), (2, 3, 3, 3), {"stride": 2, "output_padding": 2},
     "output_padding must be non-negative and smaller than stride (2, 2), got (2, 2)"),
    ("conv_transpose2d", (1, 2, 4, 4), (2, 3, 3, 3), {"stride": 2, "padding": "same", "output_padding": 1},
     "padding='same' fixes the output size"),
    ("conv_transpose2d", (1, 2, 1, 1), (2, 3, 1, 1), {"padding": 1}, "output would be -1x-1"),
    ("conv_transpose2d", (1, 3, 4, 4), (2, 3, 3, 3), {},
     "conv_transpose2d: input has 3 channels, expected 2 (input shape (1, 3, 4, 4), weight shape (2, 3, 3, 3))"),
]


@pytest.mark.parametrize("op, x_shape, W_shape, options, message", ERRORS)
def test_bad_arguments_get_a_clear_error(op, x_shape, W_shape, options, message):
    x, W = mg.tensor(np.ones(x_shape)), mg.tensor(np.ones(W_shape))
    with pytest.raises(ValueError) as error:
        getattr(F, op)(x, W, **options)
    assert message in str(error.value) and op in str(error.value)


def test_bias_shape_and_dtype_mismatches_are_named():
    x, W = mg.tensor(np.ones((1, 2, 4, 4))), mg.tensor(np.ones((3, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: bias has shape \(2,\), expected \(3,\)"):
        F.conv2d(x, W, mg.tensor(np.ones(2)))
    with pytest.raises(TypeError, match="conv2d: input is float32 but weight is float64"):
        F.conv2d(x.float(), W)
