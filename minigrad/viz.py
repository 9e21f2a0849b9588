"""Figures for the lessons, saved as PNG files.

Every function takes NumPy arrays (Tensors and CuPy arrays are converted),
draws one figure with a title and labelled axes, writes it atomically to
``path`` and returns ``path``. Figures are drawn with matplotlib's object API
on the Agg canvas, so nothing here needs or touches a display.

Images may be given as (N, H, W), (N, 1, H, W), (N, 3, H, W), (N, H, W, 3) or
flat (N, H*W) for square images. Their value range is taken from the dtype
and data (uint8: 0..255; floats with negative values: -1..1, as a tanh
output; other floats: 0..1) unless ``value_range=(low, high)`` is given.

ROC curves are computed here too: :func:`roc_curve` and :func:`roc_auc`.

:func:`draw_graph` is the one that draws no matplotlib figure: it returns the
computational graph behind a Tensor as a ``graphviz.Digraph`` (shown inline
in Jupyter, ``.source`` is the DOT text, ``.render()`` writes SVG or PNG with
Graphviz's ``dot`` program).
"""
import collections
import contextlib
import math
from pathlib import Path

import graphviz
import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import backend
from .autograd import Tensor
from .io import atomic_file
from .nn import Module, Parameter

DPI = 110
CLASS_COLOURS = "tab10"


# ------------------------------------------------------------------ images

def image_rows(rows, path, *, title="Originals and reconstructions", value_range=None):
    """Rows of images with a label on the left of each row.

    ``rows`` maps a label to a batch of images, e.g. ``{"original": x[:10],
    "reconstruction": x_hat[:10]}``: the textbook figure with ten digits on
    top and their reconstructions below.
    """
    batches = {label: _as_images(images) for label, images in rows.items()}
    columns = max(len(images) for images in batches.values())
    low, high = _value_range(np.concatenate([b.ravel() for b in batches.values()]), value_range)
    tiles = [_mosaic(images, columns, low, high) for images in batches.values()]
    mosaic = np.concatenate(tiles, axis=0)

    fig = Figure(figsize=(max(4.0, 0.75 * columns + 1.4), 0.75 * len(batches) + 0.7))
    ax = fig.add_subplot()
    _show(ax, mosaic, low, high)
    row_height = mosaic.shape[0] / len(batches)
    ax.set_yticks([row_height * (i + 0.5) for i in range(len(batches))], list(batches))
    ax.tick_params(axis="y", length=0, labelsize=10)
    ax.set_xticks([])
    ax.set_title(title)
    return _save(fig, path)


def denoising_triptych(noisy, denoised, clean, path, *, title="Denoising autoencoder", value_range=None):
    """Three rows: the noisy inputs, the network's outputs, the clean originals."""
    return image_rows({"noisy input": noisy, "denoised": denoised, "clean": clean}, path,
                      title=title, value_range=value_range)


def interpolation_strip(images, path, *, title="Interpolation in latent space", start_label="start",
                        end_label="end", value_range=None):
    """One row of images decoded along a path from one latent point to another."""
    images = _as_images(images)
    low, high = _value_range(images, value_range)
    mosaic = _mosaic(images, len(images), low, high)
    fig = Figure(figsize=(max(4.0, 0.75 * len(images) + 0.4), 1.6))
    ax = fig.add_subplot()
    _show(ax, mosaic, low, high)
    tile = mosaic.shape[1] / len(images)
    ax.set_xticks([tile / 2, mosaic.shape[1] - tile / 2], [start_label, end_label])
    ax.set_yticks([])
    ax.set_xlabel("interpolation step")
    ax.set_title(title)
    return _save(fig, path)


def image_grid(images, path, *, title="Generated samples", columns=8, value_range=None):
    """A grid of images (GAN samples, filters, a batch), ``columns`` wide."""
    images = _as_images(images)
    low, high = _value_range(images, value_range)
    mosaic = _mosaic(images, columns, low, high)
    rows = math.ceil(len(images) / columns)
    fig = Figure(figsize=(0.75 * columns + 0.4, 0.75 * rows + 0.6))
    ax = fig.add_subplot()
    _show(ax, mosaic, low, high)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return _save(fig, path)


def _axis_extents(extent):
    """(low, high) for both axes, or ((z1 low, z1 high), (z2 low, z2 high)) -> the two axes' ranges."""
    pairs = extent if np.ndim(extent) == 2 else (extent, extent)
    if np.shape(pairs) != (2, 2) or any(not low < high for low, high in pairs):
        raise ValueError(f"latent_manifold: extent must be (low, high) or ((z1 low, z1 high), (z2 low, z2 high)) "
                         f"with low < high, got {extent!r}")
    return tuple((float(low), float(high)) for low, high in pairs)


def manifold_grid_z(n=15, extent=(-3.0, 3.0)):
    """The (n*n, 2) latent points :func:`latent_manifold` decodes, in display order.

    Row-major from the top-left tile: z1 grows to the right, z2 grows upward
    (so the first row has the largest z2), over ``extent``: one (low, high)
    for both axes, or one per axis.
    """
    (x_low, x_high), (y_low, y_high) = _axis_extents(extent)
    z1, z2 = np.meshgrid(np.linspace(x_low, x_high, n, dtype=np.float32),
                         np.linspace(y_high, y_low, n, dtype=np.float32))
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def latent_manifold(decode_or_images, path, *, n=15, extent=(-3.0, 3.0), title="Latent manifold",
                    value_range=None):
    """Decoded images over a regular grid of a 2-D latent space, axes in z units.

    Pass a callable ``decode(z)`` taking a float32 (n*n, 2) array (it is
    called once, with :func:`manifold_grid_z`), or the n*n images decoded
    from that grid yourself.
    """
    if callable(decode_or_images):
        images = decode_or_images(manifold_grid_z(n, extent))
    else:
        images = decode_or_images
    images = _as_images(images)
    if len(images) != n * n:
        raise ValueError(f"latent_manifold: expected n*n = {n * n} images, got {len(images)}")
    low, high = _value_range(images, value_range)
    mosaic = _mosaic(images, n, low, high, gap=0)
    # Each tile is centred on its z value, so the image spans half a step beyond the extent on each axis.
    shown = []
    for axis_low, axis_high in _axis_extents(extent):
        half_step = (axis_high - axis_low) / (n - 1) / 2 if n > 1 else 0.5
        shown += [axis_low - half_step, axis_high + half_step]
    fig = Figure(figsize=(6.4, 6.4))
    ax = fig.add_subplot()
    # square tiles whatever the two axes' ranges
    _show(ax, mosaic, low, high, extent=tuple(shown), aspect=(shown[1] - shown[0]) / (shown[3] - shown[2]))
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_title(title)
    return _save(fig, path)


# ------------------------------------------------------------------ latent codes

def latent_scatter(z, labels, path, *, title="Latent space", class_names=None, max_points=5000, seed=0):
    """Latent codes coloured by class, in 2-D or 3-D (``z`` has 2 or 3 columns).

    ``class_names`` maps a label value to its name (a dict, or a sequence
    indexed by label); the legend shows the names. At most ``max_points``
    points, drawn at random with ``seed``, are plotted to keep files small.
    """
    z, labels = backend.to_numpy(z), backend.to_numpy(labels).ravel()
    if z.ndim != 2 or z.shape[1] not in (2, 3) or len(z) != len(labels):
        raise ValueError(f"latent_scatter: expected z of shape (N, 2) or (N, 3) and N labels, "
                         f"got z {z.shape} and {len(labels)} labels")
    if len(z) > max_points:
        keep = np.random.default_rng(seed).choice(len(z), max_points, replace=False)
        z, labels = z[keep], labels[keep]
    dims = z.shape[1]
    fig = Figure(figsize=(7.0, 5.6))
    ax = fig.add_subplot(projection="3d" if dims == 3 else None)
    colours = colormaps[CLASS_COLOURS]
    for i, value in enumerate(np.unique(labels)):
        chosen = labels == value
        ax.scatter(*z[chosen].T, s=5 if dims == 2 else 3, alpha=0.7, color=colours(i % colours.N),
                   label=_class_name(value, class_names))
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    if dims == 3:
        ax.set_zlabel("z3")
    ax.set_title(title)
    # A figure-level legend right of the axes: it never covers points or the z3 label.
    fig.subplots_adjust(right=0.78)
    fig.legend(title="class", markerscale=3, fontsize=8, loc="center right")
    return _save(fig, path)


# ------------------------------------------------------------------ curves

def loss_curves(history, path, *, title="Training curves", ylabel="loss", log_scale=False):
    """One line per named series against the epoch number (1, 2, ...).

    ``history`` is ``{"train_loss": [...], "test_loss": [...]}``, or a list
    of per-epoch dicts as the lesson runner records them (the numeric
    entries other than ``epoch`` and ``seconds`` become series).
    """
    series = _series(history)
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    for name, values in series.items():
        values = np.asarray(values, dtype=float)
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, marker="o" if len(values) <= 30 else None, markersize=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if log_scale:
        ax.set_yscale("log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    return _save(fig, path)


def threshold_histogram(groups, threshold, path, *, title="Reconstruction error", xlabel="reconstruction error",
                        bins=50):
    """Overlaid histograms of named groups (e.g. normal / abnormal) and a vertical threshold line."""
    groups = {name: backend.to_numpy(values).ravel() for name, values in groups.items()}
    everything = np.concatenate(list(groups.values()))
    edges = np.histogram_bin_edges(everything, bins=bins)
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    for name, values in groups.items():
        ax.hist(values, bins=edges, alpha=0.55, label=f"{name} ({len(values)})")
    ax.axvline(threshold, color="black", linestyle="--", linewidth=1.5, label=f"threshold = {threshold:.4g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.legend()
    ax.set_title(title)
    return _save(fig, path)


def roc_curve(scores, labels):
    """(fpr, tpr, thresholds) of the rule "positive when score >= threshold".

    ``labels`` are 1/True for the positive class (e.g. an anomaly) and
    0/False otherwise; higher ``scores`` mean "more positive". The curve
    starts at (0, 0) with threshold +inf; tied scores make one step.
    """
    scores = backend.to_numpy(scores).astype(np.float64).ravel()
    labels = backend.to_numpy(labels).ravel()
    if len(scores) != len(labels):
        raise ValueError(f"roc_curve: {len(scores)} scores but {len(labels)} labels")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("roc_curve: labels must be 0/1 or False/True")
    labels = labels.astype(bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        raise ValueError(f"roc_curve needs both classes, got {positives} positive and {negatives} negative labels")
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    # The last index of each run of equal scores: one point of the curve per distinct threshold.
    ends = np.append(np.flatnonzero(np.diff(scores)), len(scores) - 1)
    true_positives = np.cumsum(labels)[ends]
    false_positives = ends + 1 - true_positives
    fpr = np.concatenate([[0.0], false_positives / negatives])
    tpr = np.concatenate([[0.0], true_positives / positives])
    return fpr, tpr, np.concatenate([[np.inf], scores[ends]])


def roc_auc(scores, labels):
    """Area under the ROC curve (trapezoids; ties count one half, as the Mann-Whitney U)."""
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def roc_plot(scores, labels, path, *, title="ROC curve", name="model"):
    """The ROC curve of ``scores`` against 0/1 ``labels``, AUC in the legend."""
    fpr, tpr, _ = roc_curve(scores, labels)
    auc = roc_auc(scores, labels)
    fig = Figure(figsize=(5.0, 5.0))
    ax = fig.add_subplot()
    ax.plot(fpr, tpr, linewidth=2, label=f"{name} (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance (AUC = 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title)
    return _save(fig, path)


# ------------------------------------------------------------------ computational graphs

GRAPH_COLOURS = {             # the fill of each kind of tensor box in draw_graph
    "output": "gold",
    "parameter": "palegreen",
    "leaf": "lightblue",      # a leaf that requires grad: backward() leaves its .grad here
    "constant": "lightgrey",  # requires no grad: nothing flows into it
    "intermediate": "white",
}
SHOWN_VALUES = 4              # elements of .data or .grad written in a box
MORE = "more"                 # the DOT name of the box that stands for the nodes max_nodes leaves out


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Rendering a graph needs Graphviz's ``dot`` program, and it is not on PATH."""

    _msg = ("drawing a graph needs Graphviz's {!r} program, which is not on PATH. Install it with "
            "`apt install graphviz` (Debian, Ubuntu), `conda install graphviz` or `brew install graphviz` (macOS). "
            "The DOT text is in .source meanwhile.")


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering, where ``dot`` is missing, says how to install it."""

    def pipe(self, *args, **kwargs):  # Jupyter's inline picture comes through here too
        with _explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with _explain_missing_dot():
            return super().render(*args, **kwargs)


@contextlib.contextmanager
def _explain_missing_dot():
    try:
        yield
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFound(["dot"]) from error


def draw_graph(output, show_grads=False, show_values=False, max_nodes=None, params=None):
    """The computational graph that made ``output``, as a ``graphviz.Digraph``.

    One box per tensor (its name, shape and dtype) and one ellipse per
    Function (the op's name); arrows follow the data, input -> op -> result.
    A box's colour says its role (:data:`GRAPH_COLOURS`): gold the output,
    green a parameter, blue another leaf that requires grad, grey a constant,
    white an intermediate result. The Digraph shows itself in Jupyter,
    ``.source`` is its DOT text and ``.render(outfile="graph.png")`` writes
    a picture (with Graphviz's ``dot`` program; "graph.svg" for SVG).

    - ``output``: a Tensor, or a list of Tensors drawn in one picture.
    - ``show_grads``: write each ``.grad`` (its shape and first values) in its
      tensor's box, once backward() has filled them.
    - ``show_values``: write each tensor's first values. Only then is anything
      copied from the GPU, and only those few numbers.
    - ``max_nodes``: draw the ``max_nodes`` nodes nearest the output and one
      box that counts the rest by op, so a 100,000-op graph draws at once.
    - ``params``: a Module (its ``named_parameters()``) or a dict name ->
      Tensor: the names written in the boxes (torchviz's convention).

    backward() without ``retain_graph=True`` frees the graph: its Functions
    lose their inputs, and the picture stops at them. Pass it to draw the
    graph again with its gradients.
    """
    outputs = _graph_outputs(output)
    names = _tensor_names(params)
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    walk = _GraphWalk(outputs, max_nodes)
    output_ids = {id(t) for t in outputs}
    graph = Graph(node_attr={"fontname": "Helvetica", "fontsize": "11"})
    for dot_name, node in reversed(walk.drawn):  # inputs first, as the data flows
        if isinstance(node, Tensor):
            role = "output" if id(node) in output_ids else _role(node)
            graph.node(dot_name, _tensor_label(node, names.get(id(node)), show_values, show_grads),
                       shape="box", style="filled,rounded", fillcolor=GRAPH_COLOURS[role])
        else:
            freed = "" if node.inputs is not None else "\n(freed by backward)"
            graph.node(dot_name, node.name + freed, shape="ellipse")
    if walk.left_out_tensors or walk.left_out_ops:
        graph.node(MORE, walk.left_out_label(), shape="box", style="dashed")
    for tail, head in reversed(walk.arrows()):
        graph.edge(tail, head)
    return graph


def _graph_outputs(output):
    is_list = isinstance(output, (list, tuple))
    outputs = list(output) if is_list else [output]
    if not outputs or not all(isinstance(t, Tensor) for t in outputs):
        got = f"a {type(output).__name__} of {[type(t).__name__ for t in outputs]}" if is_list else type(output).__name__
        raise TypeError(f"draw_graph: expected a Tensor or a list of Tensors, got {got}")
    return list({id(t): t for t in outputs}.values())


def _tensor_names(params):
    """id(tensor) -> name, from a Module's named_parameters() or a dict name -> Tensor."""
    if params is None:
        return {}
    if isinstance(params, Module):
        return {id(p): name for name, p in params.named_parameters()}
    if not isinstance(params, dict):
        raise TypeError(f"draw_graph: params must be a Module or a dict name -> Tensor, got {type(params).__name__}")
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: params[{name!r}] must be a Tensor, got {type(t).__name__}")
    return {id(t): str(name) for name, t in params.items()}


class _GraphWalk:
    """The nodes behind some outputs, nearest first, and the arrows between them.

    Breadth first from a queue rather than by recursion, so a 100,000-op
    chain is walked as easily as a short one. The first ``max_nodes`` nodes
    are kept to be drawn; past them the walk only counts, and every arrow
    between a kept node and a left-out one goes to or from the one MORE box.
    """

    def __init__(self, outputs, max_nodes):
        self.max_nodes = max_nodes
        self.drawn = []             # (DOT name, tensor or Function)
        self.dot_names = {}         # id(node) -> DOT name, for the drawn nodes
        self.left_out_tensors = 0
        self.left_out_ops = collections.Counter()
        self._arrows = []           # (source, DOT name of its target): a source is named once it is reached
        self._seen = {id(t) for t in outputs}
        self._queue = collections.deque(outputs)
        while self._queue and self._room():
            self._draw(self._queue.popleft())
        while self._queue:
            self._count(self._queue.popleft())

    def _room(self):
        return self.max_nodes is None or len(self.drawn) < self.max_nodes

    def _draw(self, tensor):
        tensor_name = self._keep(tensor)
        fn = tensor.grad_fn
        if fn is None:
            return
        if not self._room():  # the limit falls between a tensor and the Function that made it
            self.left_out_ops[fn.name] += 1
            self._arrows.append((MORE, tensor_name))
            self._follow_inputs(fn, MORE)
            return
        fn_name = self._keep(fn)
        self._arrows.append((fn, tensor_name))
        self._follow_inputs(fn, fn_name)

    def _count(self, tensor):
        self.left_out_tensors += 1
        fn = tensor.grad_fn
        if fn is not None:
            self.left_out_ops[fn.name] += 1
            self._follow_inputs(fn, MORE)

    def _keep(self, node):
        name = f"n{len(self.drawn)}"
        self.dot_names[id(node)] = name
        self.drawn.append((name, node))
        return name

    def _follow_inputs(self, fn, fn_name):
        # Last input first: the picture is drawn in reverse (inputs first), which puts them back in order,
        # left to right. fn.inputs is None once a backward freed the graph.
        for source in reversed(fn.inputs or ()):
            if id(source) not in self._seen:
                self._seen.add(id(source))
                self._queue.append(source)
            # Every input not yet drawn is left out once the Function is: only arrows from drawn ones remain.
            if fn_name != MORE or id(source) in self.dot_names:
                self._arrows.append((source, fn_name))

    def arrows(self):
        """(tail, head) DOT names; the many arrows between one drawn node and left-out ones become one."""
        arrows, to_or_from_more = [], set()
        for source, head in self._arrows:
            tail = MORE if source is MORE else self.dot_names.get(id(source), MORE)
            if MORE in (tail, head):
                if tail == head or (tail, head) in to_or_from_more:
                    continue
                to_or_from_more.add((tail, head))
            arrows.append((tail, head))
        return arrows

    def left_out_label(self):
        ops = sum(self.left_out_ops.values())
        common = [f", {name} x{count:,}" for name, count in self.left_out_ops.most_common(3)]
        others = ", ..." if len(self.left_out_ops) > 3 else ""
        return (f"{self.left_out_tensors + ops:,} more nodes not drawn\n"
                f"{self.left_out_tensors:,} tensors, {ops:,} ops{''.join(common)}{others}")


def _role(tensor):
    if not tensor.is_leaf:
        return "intermediate"
    if isinstance(tensor, Parameter):
        return "parameter"
    return "leaf" if tensor.requires_grad else "constant"


def _tensor_label(tensor, name, show_values, show_grads):
    device = "" if tensor.device == "cpu" else f" {tensor.device}"
    lines = [name] if name else []
    lines.append(f"{_shape_text(tensor.shape)} {tensor.dtype}{device}")
    if show_values:
        lines.append(_first_values(tensor))
    if show_grads and tensor.grad is not None:
        lines.append(f"grad {_shape_text(tensor.grad.shape)}: {_first_values(tensor.grad)}")
    return "\n".join(lines)


def _shape_text(shape):
    return "scalar" if shape == () else str(shape)


def _first_values(tensor):
    """The first SHOWN_VALUES elements; only they are copied from the GPU."""
    values = backend.to_numpy(tensor.data.reshape(-1)[:SHOWN_VALUES]).tolist()
    text = ", ".join(f"{v:.4g}" for v in values)
    if tensor.ndim == 0:
        return text
    return f"[{text}, ...]" if tensor.size > SHOWN_VALUES else f"[{text}]"


# ------------------------------------------------------------------ helpers

def _as_images(batch):
    """(N, H, W) grey or (N, H, W, 3) colour images from any of the layouts in the module docstring."""
    images = backend.to_numpy(batch)
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"flat images need a square number of pixels, got {images.shape[1]} per image")
        images = images.reshape(-1, side, side)
    elif images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)  # NCHW -> NHWC
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 and not (images.ndim == 4 and images.shape[-1] == 3):
        raise ValueError(f"expected images shaped (N, H, W), (N, C, H, W), (N, H, W, C) or (N, H*W), "
                         f"got {backend.to_numpy(batch).shape}")
    return images


def _value_range(images, value_range):
    if value_range is not None:
        return value_range
    if images.dtype == np.uint8:
        return 0, 255
    return (-1.0, 1.0) if images.size and images.min() < 0 else (0.0, 1.0)


def _mosaic(images, columns, low, high, gap=2):
    """Tile images into one array, ``columns`` wide, separated by ``gap`` pixels of mid grey."""
    count, height, width = images.shape[:3]
    rows = math.ceil(count / columns)
    colour = images.shape[3:]
    tiles = np.full((rows * columns, height + gap, width + gap, *colour), (low + high) / 2, dtype=np.float32)
    tiles[:count, gap:, gap:] = np.clip(images, low, high)
    tiles[count:, gap:, gap:] = low  # empty slots of the last row stay blank
    mosaic = tiles.reshape(rows, columns, height + gap, width + gap, *colour).swapaxes(1, 2)
    mosaic = mosaic.reshape(rows * (height + gap), columns * (width + gap), *colour)
    return np.pad(mosaic, [(0, gap), (0, gap)] + [(0, 0)] * len(colour), constant_values=(low + high) / 2)


def _show(ax, mosaic, low, high, extent=None, aspect=None):
    if mosaic.ndim == 3:  # colour: imshow wants floats in 0..1
        ax.imshow((mosaic - low) / (high - low), interpolation="nearest", extent=extent, aspect=aspect)
    else:
        ax.imshow(mosaic, cmap="gray", vmin=low, vmax=high, interpolation="nearest", extent=extent, aspect=aspect)


def _series(history):
    if isinstance(history, dict):
        return history
    names = dict.fromkeys(key for record in history for key in record if key not in ("epoch", "seconds"))
    return {name: [record.get(name, np.nan) for record in history] for name in names}


def _class_name(value, class_names):
    if class_names is None:
        return str(value)
    return str(class_names[int(value)] if not isinstance(class_names, dict) else class_names.get(value, value))


def _save(fig, path):
    FigureCanvasAgg(fig)
    with atomic_file(path) as f:
        fig.savefig(f, format="png", dpi=DPI, bbox_inches="tight")
    return Path(path)
