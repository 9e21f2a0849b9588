"""minigrad/kernels/conv.py: every fast kernel equals its plain reference, on drawn geometries, dtypes and devices."""
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from minigrad.kernels import conv, parallel

# the gpu fixture is set up once per test and serves every example: no per-example state to reset
drawn = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def xp(request):
    """numpy, or the 'cuda' array module (the strict stand-in, or CuPy under MINIGRAD_TEST_CUDA=cupy)."""
    return np if request.param == "cpu" else request.getfixturevalue("gpu")


def on_host(xp, a):
    return a if xp is np else xp.asnumpy(a)


@st.composite
def geometries(draw):
    """Kernel, stride, asymmetric padding (some wider than a kernel reaches) and an input the kernel fits."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = tuple(draw(st.sampled_from([1, 1, 2, 3])) for _ in range(2))  # stride 1 often: the dual side
    pad = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(2))
    in_size = tuple(draw(st.integers(max(1, k - before - after), 9)) for k, (before, after) in zip(kernel, pad))
    return conv.ConvGeometry(kernel, stride, pad, in_size)


@st.composite
def cases(draw):
    """A geometry, batch and channel counts, a dtype, a band size, whether x arrives as a conv's output, and
    minigrad's thread count (fewer channels than threads cuts by rows, more by channels)."""
    return dict(g=draw(geometries()), n=draw(st.integers(1, 3)), c_in=draw(st.integers(1, 4)),
                c_out=draw(st.integers(1, 4)), dtype=draw(st.sampled_from([np.float32, np.float64])),
                band_bytes=draw(st.sampled_from([1, 1000, 4000, conv.BAND_BYTES])),
                batch_innermost=draw(st.booleans()), threads=draw(st.sampled_from([1, 2, 3])))


@pytest.fixture(autouse=True)
def restore_band_size_and_threads():
    saved, threads = conv.BAND_BYTES, parallel.get_num_threads() if parallel._count != 0 else 0
    yield
    conv.BAND_BYTES = saved
    parallel.set_num_threads(threads)


def drawn_array(xp, case, shape, seed, batch_innermost=False):
    """Uniform(-1, 1) values on the device; batch_innermost gives the (N, C, H, W) view of CHWN memory."""
    a = np.random.default_rng(seed).uniform(-1, 1, shape).astype(case["dtype"])
    if batch_innermost:
        return xp.asarray(np.ascontiguousarray(a.transpose(1, 2, 3, 0))).transpose(3, 0, 1, 2)
    return xp.asarray(a)


def assert_equal_to_reference(xp, fast, reference):
    fast, reference = on_host(xp, fast), on_host(xp, reference)
    assert fast.shape == reference.shape and fast.dtype == reference.dtype
    tol = 1e-5 if fast.dtype == np.float32 else 1e-12  # the two sum in different orders
    np.testing.assert_allclose(fast, reference, rtol=tol, atol=tol * max(np.abs(reference).max(initial=0), 1.0))


def operands(xp, case, seed):
    """x (N, C_in, H, W), W (C_out, C_in, kh, kw), gy (N, C_out, Ho, Wo) for the case's geometry."""
    g, n, c_in, c_out = case["g"], case["n"], case["c_in"], case["c_out"]
    x = drawn_array(xp, case, (n, c_in) + g.in_size, seed, case["batch_innermost"])
    W = drawn_array(xp, case, (c_out, c_in) + g.kernel, seed + 1)
    gy = drawn_array(xp, case, (n, c_out) + g.out_size, seed + 2, case["batch_innermost"])
    return x, W, gy


# 16 -> 1 channels, stride 1 (as the W2 autoencoder's last layer), uneven padding: computed from its dual side
dual_case = dict(g=conv.ConvGeometry((3, 4), (1, 1), ((0, 2), (3, 1)), (5, 4)), n=2, c_in=16, c_out=1,
                 dtype=np.float64, band_bytes=1000, batch_innermost=False, threads=2)


@drawn
@given(case=cases(), seed=st.integers(0, 2**16))
@example(case=dual_case, seed=0)
def test_im2col_and_col2im_equal_their_references(xp, case, seed):
    conv.BAND_BYTES = case["band_bytes"]
    x, _, _ = operands(xp, case, seed)
    g = case["g"]
    cols = conv.im2col(x, g)
    assert np.array_equal(on_host(xp, cols), on_host(xp, conv.im2col_reference(x, g)))  # a copy: exact
    assert_equal_to_reference(xp, conv.col2im(cols, g, case["n"]), conv.col2im_reference(cols, g, case["n"]))


@drawn
@given(case=cases(), seed=st.integers(0, 2**16))
@example(case=dual_case, seed=0)
def test_conv_products_equal_their_references(xp, case, seed):
    """conv2d, conv_transpose2d (W read as (C_out, C_in): the transposed conv from gy's side) and conv2d_weight."""
    conv.BAND_BYTES = case["band_bytes"]
    parallel.set_num_threads(case["threads"])
    x, W, gy = operands(xp, case, seed)
    g = case["g"]
    assert_equal_to_reference(xp, conv.conv2d(x, W, g), conv.conv2d_reference(x, W, g))
    assert_equal_to_reference(xp, conv.conv_transpose2d(gy, W, g), conv.conv_transpose2d_reference(gy, W, g))
    assert_equal_to_reference(xp, conv.conv2d_weight(x, gy, g), conv.conv2d_weight_reference(x, gy, g))


@given(g=geometries(), n=st.integers(1, 2), c=st.integers(1, 2))
def test_reference_im2col_is_the_window_of_each_output_pixel(g, n, c):
    """Column (p, q, sample) row (channel, i, j) holds padded x[sample, channel, sh*p + i, sw*q + j]."""
    x = np.random.default_rng(0).normal(size=(n, c) + g.in_size)
    padded = np.pad(x, ((0, 0), (0, 0)) + g.pad)
    (kh, kw), (sh, sw), (ho, wo) = g.kernel, g.stride, g.out_size
    cols = conv.im2col_reference(x, g).reshape(c, kh, kw, ho, wo, n)
    for index in np.ndindex(cols.shape):
        channel, i, j, p, q, sample = index
        assert cols[index] == padded[sample, channel, sh * p + i, sw * q + j]


def test_a_stride_1_conv_to_fewer_channels_is_computed_from_its_dual_side(monkeypatch):
    """16 -> 1 channels, 3x3: every column built or added back has 1*9 rows, not 16*9."""
    rows_of_columns = []
    im2col_pixels, col2im_pixels = conv._im2col_pixels, conv._col2im_pixels

    def recording_im2col_pixels(*args):
        col = im2col_pixels(*args)
        rows_of_columns.append(("im2col", col.shape[0]))
        return col

    def recording_col2im_pixels(col, *args):
        rows_of_columns.append(("col2im", col.shape[0]))
        col2im_pixels(col, *args)

    monkeypatch.setattr(conv, "_im2col_pixels", recording_im2col_pixels)
    monkeypatch.setattr(conv, "_col2im_pixels", recording_col2im_pixels)
    g = conv.ConvGeometry((3, 3), (1, 1), ((1, 1), (1, 1)), (6, 6))
    x, W = np.ones((2, 16, 6, 6)), np.ones((1, 16, 3, 3))
    y = conv.conv2d(x, W, g)
    conv.conv2d_weight(x, y, g)
    assert {kind for kind, _ in rows_of_columns} == {"col2im", "im2col"}  # one call per part and band
    assert {rows for _, rows in rows_of_columns} == {9}


@pytest.mark.parametrize("kernel", ["conv2d", "conv_transpose2d"])
def test_outputs_are_batch_innermost_in_memory(kernel):
    """The (N, C, H, W) result is a view of CHWN memory (samples adjacent), so the next conv copies runs N long."""
    g = conv.ConvGeometry((3, 3), (2, 2), ((1, 1), (1, 1)), (8, 8))
    x, W = np.ones((4, 3, 8, 8)), np.ones((5, 3, 3, 3))
    out = conv.conv2d(x, W, g) if kernel == "conv2d" else conv.conv_transpose2d(np.ones((4, 5, 4, 4)), W, g)
    assert out.strides[0] == out.itemsize


def test_the_weight_gradient_reuses_the_padding_conv2d_made_of_the_same_input(monkeypatch):
    """conv2d then conv2d_weight of the same x with the same geometry pad once; another x is padded afresh."""
    pads = []
    padded = conv._padded
    monkeypatch.setattr(conv, "_padded", lambda x, g: pads.append(x) or padded(x, g))
    g = conv.ConvGeometry((4, 4), (2, 2), ((1, 1), (1, 1)), (8, 8))
    rs = np.random.default_rng(0)
    x, other, W = rs.normal(size=(3, 2, 8, 8)), rs.normal(size=(3, 2, 8, 8)), rs.normal(size=(5, 2, 4, 4))
    gy = conv.conv2d(x, W, g)
    gW = conv.conv2d_weight(x, gy, g)
    assert len(pads) == 1 and np.allclose(gW, conv.conv2d_weight_reference(x, gy, g))
    conv.conv2d(x, W, g)
    assert np.allclose(conv.conv2d_weight(other, gy, g), conv.conv2d_weight_reference(other, gy, g))  # not x's
    assert np.allclose(conv.conv2d_weight(x, gy, g), gW)  # the kept copy was dropped: x is padded again
    assert [id(a) for a in pads] == [id(x), id(x), id(other), id(x)]


@given(wo=st.integers(1, 9), bounds=st.lists(st.integers(0, 90), min_size=2, max_size=2))
def test_row_blocks_cover_a_pixel_range_in_order_with_whole_rows_or_parts_of_one(wo, bounds):
    start, stop = sorted(bounds)
    blocks = conv._row_blocks((start, stop), wo)
    pixels = [p * wo + q + i * wo + j for _, p, rows, q, columns in blocks for i in range(rows) for j in range(columns)]
    assert pixels == list(range(start, stop))
    assert [offset for offset, *_ in blocks] == [p * wo + q - start for _, p, _, q, _ in blocks]
    assert all(columns == wo or rows == 1 for _, _, rows, _, columns in blocks) and len(blocks) <= 3
