"""Batch normalisation (training mode) forward and backward, beside the plain formulas they equal.

For x (N, C, ...) each channel is normalised over the M = N * (positions) values it has in the batch:

    mean = sum(x) / M      var = sum((x - mean)^2) / M      xhat = (x - mean) / sqrt(var + eps)
    y = w * xhat + b
    gb = sum(gy)           gw = sum(gy * xhat)              gx = w / sqrt(var + eps) * (gy - (gb + xhat * gw) / M)

The references compute that term by term in NCHW. The kernels compute the same numbers
(tests/test_kernels_batchnorm.py) faster, three ways:

- Channel-major memory. The arrays they make are (C, positions..., N), the batch-innermost order of
  kernels/conv.py: each channel is one contiguous row, so every per-channel sum runs down a row, and the
  output is handed on as an (N, C, ...) view of memory the next convolution reads without a transpose.
  An NCHW input (a Reshape after a Dense layer) is turned on the way through, in the pass that centres it.
- Per-channel constants folded first: y = (x - mean) * (w / std) + b and gx = gy * a + (x - mean) * d + e,
  with a, d, e per channel, are 2 and 4 array passes, where the composed Tensor ops make about 6 forward
  and 15 backward passes (each broadcast, product and sum_to its own array) and ~30 Function calls.
- Sums of products as dot products (BLAS): sum((x - mean)^2) and sum(gy * (x - mean)) without the product
  arrays, and more accurately than a float32 sum of them.
"""
from .. import backend


def _channel_major(a):
    """(N, C, *S) -> the (C, *S, N) view of it (no copy)."""
    return a.transpose((1,) + tuple(range(2, a.ndim)) + (0,))


def _as_input_shape(rows, shape):
    """(C, M) channel-major rows -> the (N, C, *S) view of them that callers see."""
    ndim = len(shape)
    full = rows.reshape((shape[1],) + tuple(shape[2:]) + (shape[0],))
    return full.transpose((ndim - 1,) + tuple(range(ndim - 1)))


def _row_dots(a, b):
    """sum(a * b, axis=1) for (C, M) arrays: one BLAS dot product per row, no product array."""
    return (a[:, None, :] @ b[:, :, None]).reshape(-1)


def batch_norm(x, weight, bias, eps):
    """y = w * (x - mean) / sqrt(var + eps) + b per channel -> (y, mean, var, centered); equal to
    batch_norm_reference (y, mean, var). ``centered`` is x - mean as (C, M) rows, for batch_norm_backward.

    Faster: one pass to centre x into channel-major rows, one dot product per channel for the variance,
    and y = centered * (w / std) + b in two passes, written channel-major (CHWN for images).
    """
    xp = backend.get_array_module(x)
    channels = x.shape[1]
    mean = x.mean(axis=(0,) + tuple(range(2, x.ndim)))
    view = _channel_major(x)
    centered = xp.subtract(view, mean.reshape((channels,) + (1,) * (x.ndim - 1)),
                           out=xp.empty(view.shape, dtype=x.dtype)).reshape(channels, -1)
    var = _row_dots(centered, centered) / centered.shape[1]
    scale = weight * (var + eps) ** -0.5
    y = xp.multiply(centered, scale[:, None], out=xp.empty_like(centered))
    y += bias[:, None]
    return _as_input_shape(y, x.shape), mean, var, centered


def batch_norm_backward(gy, centered, var, weight, eps):
    """(gx, gw, gb) of batch_norm, from its ``centered`` rows and ``var``; equal to batch_norm_backward_reference.

    Faster: gb and gw are a row sum and a dot product per channel, and gx = gy * a + centered * d + e with
    per-channel a = w / std, d = -a * gw / (std * M), e = -a * gb / M, in four passes (channel-major).
    """
    xp = backend.get_array_module(gy)
    rows = xp.ascontiguousarray(_channel_major(gy)).reshape(centered.shape)  # free when gy is channel-major
    count = centered.shape[1]
    inv_std = (var + eps) ** -0.5
    gb = rows.sum(axis=1)
    gw = _row_dots(rows, centered) * inv_std
    a = weight * inv_std
    gx = xp.multiply(centered, (-a * inv_std * gw / count)[:, None], out=xp.empty_like(centered))
    gx += (-a * gb / count)[:, None]
    gx += rows * a[:, None]
    return _as_input_shape(gx, gy.shape), gw, gb


def batch_norm_reference(x, weight, bias, eps):
    """(y, mean, var): the formula term by term, NCHW, biased variance."""
    axes = (0,) + tuple(range(2, x.ndim))
    per_channel = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes)
    centered = x - mean.reshape(per_channel)
    var = (centered * centered).mean(axis=axes)
    xhat = centered / ((var + eps) ** 0.5).reshape(per_channel)
    return weight.reshape(per_channel) * xhat + bias.reshape(per_channel), mean, var


def batch_norm_backward_reference(gy, x, weight, eps):
    """(gx, gw, gb): the gradients of batch_norm_reference's y, term by term."""
    axes = (0,) + tuple(range(2, x.ndim))
    per_channel = (1, -1) + (1,) * (x.ndim - 2)
    count = x.size // x.shape[1]
    mean = x.mean(axis=axes)
    std = (((x - mean.reshape(per_channel)) ** 2).mean(axis=axes) + eps) ** 0.5
    xhat = (x - mean.reshape(per_channel)) / std.reshape(per_channel)
    gb = gy.sum(axis=axes)
    gw = (gy * xhat).sum(axis=axes)
    gx = (weight / std).reshape(per_channel) * (gy - (gb.reshape(per_channel) + xhat * gw.reshape(per_channel)) / count)
    return gx, gw, gb
