"""Neural style transfer and texture synthesis (Gatys et al. 2016): optimise the image, not the network.

What it teaches: every other lesson changes a network's weights to fit the
data; here the network stays fixed and gradient descent changes the pixels
of an image. A convolutional network describes an image twice over:

- its **content** is the feature maps F of a deep layer (relu4_2): where
  which features are;
- its **style** is the Gram matrices G = F F^T / M of several layers
  (relu1_1 ... relu5_1): which features occur together, wherever they are.

Style transfer looks for the image whose content is the photograph's and
whose style is the painting's, by minimising

    alpha * 1/2 |F - P|^2 / (1/2 |P|^2)  +  beta * mean_l  E_l / E_l(0),
    E_l = 1/(4 N_l^2) |G_l - A_l|^2                      (Gatys et al.'s E_l)

over the pixels (P: the content image's features, A_l: the style image's
Gram matrices, N_l filters). ``--texture`` drops the content term and starts
from white noise: texture synthesis (Gatys et al. 2015). The gradient
d loss / d pixels is one backward pass through the fixed network (``mg.grad``
with the image as the only input); scipy's L-BFGS takes the steps, with
every pixel bounded to [0, 1] (``--optimizer adam`` clips instead).

The setup:

    network: VGG-16's 13 convolutions (3x3, padding 1) + ReLU, with 2x2 average pooling in place of max
             pooling, up to the deepest layer asked for; images standardised with ImageNet's statistics
    weights: random, N(0, 2 / fan_in), biases 0, fixed by --seed; or --weights FILE.npz (trained VGG-16)
    each conv layer rescaled so that its mean ReLU activation on the content and style images is 1
    content relu4_2, style relu1_1 relu2_1 relu3_1 relu4_1 relu5_1 (equal weights), alpha 1, beta 0.3
    128x128 images (the central square of each, resized), start from the content image,
    5 rounds of 50 L-BFGS iterations (one checkpoint per round)

Where it differs from the paper, and why. Gatys et al. used a trained
VGG-19 on 512-pixel images for about a thousand iterations from white noise,
with alpha / beta = 1e-3 on the raw sums. Trained weights cannot ship with
the project, so the network is random by default (He et al. 2016 and
Ustyuzhaninov et al. 2016 show that random weights carry much of the
effect); VGG-16 because it is torchvision's common one; 128 pixels and 250
iterations fit ten minutes on two CPU cores; starting from the content image
keeps its layout in that few iterations (``--init noise`` is the paper's
start). Each term is divided by its value for all-zero features, so that
layers with large Gram matrices do not drown the others and alpha and beta
weigh numbers of one order (the paper's 1e-3 belongs to its raw sums). The
network is normalised per layer: Gatys et al. rescale each filter of their
trained VGG, which for random filters blows up the few that are almost
silent on the two images.

What random weights reach, and what they do not. Matching the Gram matrices
of a random network moves an image towards the style's colour and texture
statistics, measurably in *another* random network (below), and from noise
it synthesises a convincing texture: the default run's shows the style's
brown, striated tissue blobs on its pale background. What random filters do
not give is what training put into VGG: filters tuned to edges, strokes and
object parts. Gatys et al.'s trained network repaints a photograph in brush
strokes that follow its objects; here the style arrives as a fine,
many-coloured speckle laid over the photograph, the cat's eyes, nose and
stripes intact, and a larger beta buys more of the style's statistics with
more speckle, not with strokes. ``--weights`` with real VGG-16 weights gives
the paper's behaviour (its file layout and converter: ``lessons.vgg_weights``).

The measurement (``metrics.json``): an independent random VGG-16 (seed
--seed + 1000, never optimised against) measures the **style distance**
mean_l |G_l(x) - G_l(style)| / |G_l(style)| over the style layers, and the
**content distance** |F(x) - F(content)| / |F(content)| at the content
layer, of the result, of the content image, the style image and a white
noise image. The default run (``python -m lessons.style_transfer``, 128x128,
chelsea in the style of immunohistochemistry):

                                  style distance   content distance
    result (alpha 1, beta 0.3)         0.668             0.431
    the content image                  0.859             0
    the style image                    0                 1.574
    white noise                        0.664             0.674
    --texture: the texture             0.012             -

The result is closer to the style than the photograph is, by a fifth, no
closer than white noise is (noise's Gram matrices happen to lie as near the
style's); and closer to the photograph than noise is. beta 1 halves the
style distance (0.421) but leaves the content further away than noise does
(0.822): with random weights one beta does not buy both. Texture synthesis
is the clear case: its Gram matrices lie 70 times nearer the style's than
the photograph's do. Wall time on the shared two-core machine: 159 s for
the default run (6.5 minutes on a busier moment), 289 s for ``--texture``.

Figures: ``style_transfer.png`` (content | style | result) or, with
``--texture``, ``texture.png`` (noise | style | texture); ``result.png``
(the image itself); ``losses.png`` (each iteration's loss terms).
Images: ``--content`` and ``--style`` take a PNG/JPEG path or the name of
one of scikit-image's bundled pictures; grey images get three equal
channels. ``--epochs`` counts rounds of 50 iterations; ``--batch-size`` is
not used.
"""
from pathlib import Path

import numpy as np
import skimage.data
import skimage.io
import skimage.transform
import skimage.util
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.optimize import Bounds, minimize

import minigrad as mg
import minigrad.functional as F
from lessons.common import Lesson
from minigrad import nn, optim

# VGG-16's convolutional part (Simonyan & Zisserman 2015): the output channels of each 3x3 convolution, block by block.
VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
# VGG weights trained on ImageNet expect each channel of a [0, 1] image standardised with ImageNet's statistics.
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)
# scikit-image's bundled pictures, usable by name wherever an image path is asked for
SAMPLES = ("astronaut", "brick", "camera", "chelsea", "coffee", "grass", "gravel", "hubble_deep_field",
           "immunohistochemistry", "rocket")
MIN_SIZE = 16                # four 2x2 poolings lie before conv5_1: 16 pixels leave it one
ITERATIONS_PER_ROUND = 50    # a round (an "epoch" of the lesson runner) ends with a checkpoint
QUICK_SIZE = 32
JUDGE_SEED = 1000            # added to --seed: the independent network that measures the result


def vgg16_layer_names():
    """conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ...: one name per entry of torchvision's vgg16().features."""
    names = []
    for block, widths in enumerate(VGG16_BLOCKS, start=1):
        for layer in range(1, len(widths) + 1):
            names += [f"conv{block}_{layer}", f"relu{block}_{layer}"]
        names.append(f"pool{block}")
    return names


LAYERS = vgg16_layer_names()


def conv_channels(name):
    """'conv3_2' -> 256, the number of filters of that layer."""
    block, layer = name[len("conv"):].split("_")
    return VGG16_BLOCKS[int(block) - 1][int(layer) - 1]


class VGGFeatures(nn.Module):
    """VGG-16's layers up to ``last``, with average pooling in place of max pooling (as Gatys et al. use it).

    Calling it on images in [0, 1] returns the feature maps of the ``wanted`` layers by name.
    """

    def __init__(self, last):
        self.names = LAYERS[:LAYERS.index(last) + 1]
        channels = 3
        for name in self.names:
            if name.startswith("conv"):
                layer = nn.Conv2D(channels, conv_channels(name), 3, padding=1)
                channels = conv_channels(name)
            elif name.startswith("relu"):
                layer = nn.ReLU()
            else:
                layer = nn.AvgPool2D(2)
            setattr(self, name, layer)

    @staticmethod
    def standardise(images):
        return (images - mg.tensor(IMAGENET_MEAN, device=images.device)) / mg.tensor(IMAGENET_STD, device=images.device)

    def forward(self, images, wanted):
        x = self.standardise(images)
        features = {}
        for name in self.names:
            x = getattr(self, name)(x)
            if name in wanted:
                features[name] = x
        return features


def random_vgg(last, seed):
    """VGG-16 with random weights from N(0, 2 / fan_in) and zero biases.

    That variance (He et al. 2015) keeps a ReLU network's activations on one scale from layer to layer;
    normalise() then sets that scale exactly.
    """
    rng = np.random.default_rng(seed)
    vgg = VGGFeatures(last)
    state = {}
    for name, value in vgg.state_dict().items():
        fan_in = np.prod(value.shape[1:])
        is_weight = name.endswith("weight")
        state[name] = rng.normal(0.0, np.sqrt(2.0 / fan_in), value.shape) if is_weight else np.zeros(value.shape)
    vgg.load_state_dict(state)
    return vgg


def trained_vgg(path, last):
    """VGG-16 with the weights of an .npz file written by ``python -m lessons.vgg_weights``."""
    try:
        arrays = np.load(path)
    except (OSError, ValueError) as error:
        raise SystemExit(f"--weights {path}: cannot read it as an .npz file ({error})") from error
    vgg = VGGFeatures(last)
    missing = [name for name in vgg.state_dict() if name not in arrays.files]
    if missing:
        raise SystemExit(f"--weights {path}: has no {', '.join(missing)}; write the file with "
                         "python -m lessons.vgg_weights (see its docstring for the layout)")
    vgg.load_state_dict({name: arrays[name] for name in vgg.state_dict()})
    return vgg


def normalise(vgg, images):
    """Rescale each conv layer so that its mean ReLU activation over ``images`` (all filters and positions) is 1.

    Dividing a layer's weights and bias by c > 0 divides its ReLU output by c; multiplying the next layer's
    weights by c undoes it there. So the network detects the same features, each layer on a common scale,
    and no layer's Gram matrix drowns the others'. (Gatys et al. scale each filter apart; for random filters
    that blows up the ones that happen to be almost silent on ``images``, and any other image that wakes
    them gets enormous Gram matrices.)
    """
    x = vgg.standardise(images)
    previous_mean = 1.0
    with mg.no_grad():
        for name in vgg.names:
            layer = getattr(vgg, name)
            if name.startswith("conv"):
                weight = layer.weight.numpy() * previous_mean      # its input now comes divided by previous_mean
                layer.load_state_dict({"weight": weight, "bias": layer.bias.numpy()})
                previous_mean = F.relu(layer(x)).mean().item()
                layer.load_state_dict({"weight": weight / previous_mean, "bias": layer.bias.numpy() / previous_mean})
            x = layer(x)
    return vgg


# ---------------------------------------------------------------- the two representations and their losses

def gram_matrix(features):
    """G = F F^T / M of one image's features F (N filters x M positions): which filters fire together."""
    _, filters, height, width = features.shape
    flat = features.reshape(filters, height * width)
    return flat @ flat.T / (height * width)


def style_loss(features, target_gram):
    """Gatys et al.'s E_l = 1/(4 N^2 M^2) sum (G - A)^2 on the unnormalised Grams, = 1/(4 N^2) sum of it on G/M."""
    filters = features.shape[1]
    difference = gram_matrix(features) - target_gram
    return (difference * difference).sum() / (4 * filters * filters)


def content_loss(features, target):
    """1/2 sum (F - P)^2 over every filter and position."""
    difference = features - target
    return 0.5 * (difference * difference).sum()


class StyleTransferLoss:
    """alpha * the content loss at one layer + beta * the mean of the style losses E_l over the style layers.

    Each term is measured relative to its target: divided by its own value for an image whose features are all
    zero (1/2 |P|^2 for the content, |A_l|^2 / (4 N_l^2) for layer l's style). So every style layer counts
    alike whatever the scale of its Gram matrix, and alpha / beta weigh two numbers of the same order. The
    targets (the content image's features, the style image's Gram matrices) are computed once.
    ``content=None`` leaves the content term out: texture synthesis.
    """

    def __init__(self, vgg, content, style, content_layer, style_layers, content_weight, style_weight):
        self.vgg, self.content_layer, self.style_layers = vgg, content_layer, style_layers
        self.content_weight, self.style_weight = content_weight, style_weight
        with mg.no_grad():
            self.content_target = None if content is None else vgg(content, {content_layer})[content_layer]
            self.style_targets = {name: gram_matrix(f) for name, f in vgg(style, set(style_layers)).items()}
            # the losses of all-zero features: 1/2 |P|^2 and |A_l|^2 / (4 N_l^2)
            self.content_scale = None if content is None else 0.5 * (self.content_target ** 2).sum()
            self.style_scales = {name: (gram ** 2).sum() / (4 * len(gram) ** 2)
                                 for name, gram in self.style_targets.items()}

    def __call__(self, image):
        """(total, content term, style term) as Tensors, each with its weight."""
        wanted = set(self.style_layers) | ({self.content_layer} if self.content_target is not None else set())
        features = self.vgg(image, wanted)
        style = self.style_weight * sum(style_loss(features[name], self.style_targets[name]) / self.style_scales[name]
                                        for name in self.style_layers) / len(self.style_layers)
        if self.content_target is None:
            return style, mg.zeros((), device=image.device), style
        content = self.content_weight * content_loss(features[self.content_layer], self.content_target)
        content = content / self.content_scale
        return content + style, content, style


# ---------------------------------------------------------------- optimising the pixels

class Canvas(nn.Module):
    """The image being optimised: its pixels are the only parameter."""

    def __init__(self, image):
        self.pixels = nn.Parameter(image)


class LossTrace:
    """Every iteration's losses, kept in the checkpoint so that a resumed run's curves are whole."""

    NAMES = ("total", "content", "style")

    def __init__(self):
        self.values = {name: [] for name in self.NAMES}

    def add(self, losses):
        for name, value in zip(self.NAMES, losses):
            self.values[name].append(float(value))

    def state_dict(self):
        return {name: np.array(values) for name, values in self.values.items()}

    def load_state_dict(self, state):
        self.values = {name: [float(v) for v in state[name]] for name in self.NAMES}


def lbfgs_round(loss_fn, canvas, trace, run):
    """ITERATIONS_PER_ROUND iterations of L-BFGS (scipy's L-BFGS-B, every pixel bounded to [0, 1]).

    scipy keeps the image as a float64 vector; minigrad computes the loss and its gradient in float32.
    Each round starts a fresh L-BFGS from the image the last one left, so a resumed run repeats an
    uninterrupted one exactly. Its tolerances are 0: scipy's defaults are absolute and stop a loss this
    small (texture synthesis reaches 1e-3) long before the image stops changing.
    """
    shape, device = canvas.pixels.shape, canvas.pixels.device
    latest = {}

    def loss_and_gradient(flat):
        image = mg.tensor(flat.reshape(shape).astype(np.float32), requires_grad=True, device=device)
        losses = loss_fn(image)
        (gradient,) = mg.grad(losses[0], [image])
        latest["losses"] = [loss.item() for loss in losses]
        return losses[0].item(), gradient.numpy().astype(np.float64).ravel()

    steps = run.progress(range(ITERATIONS_PER_ROUND), desc=f"round {run.epoch}/{run.args.epochs} (L-BFGS)")
    next(steps)                                     # the bar starts; each finished iteration moves it on

    def iteration_done(intermediate_result):
        trace.add(latest["losses"])                 # L-BFGS-B's last evaluation is the point it accepts
        next(steps)                                 # StopIteration (--quick, Ctrl-C) ends the round early

    result = minimize(loss_and_gradient, canvas.pixels.numpy().astype(np.float64).ravel(), jac=True,
                      method="L-BFGS-B", bounds=Bounds(0.0, 1.0), callback=iteration_done,
                      options={"maxiter": ITERATIONS_PER_ROUND, "ftol": 0.0, "gtol": 0.0})
    steps.close()
    canvas.pixels.data = mg.tensor(result.x.reshape(shape).astype(np.float32), device=device).data


def adam_round(loss_fn, canvas, optimizer, trace, run):
    """ITERATIONS_PER_ROUND Adam steps on the pixels, clipped back into [0, 1] after each."""
    for _ in run.progress(range(ITERATIONS_PER_ROUND), desc=f"round {run.epoch}/{run.args.epochs} (Adam)"):
        losses = loss_fn(canvas.pixels)
        optimizer.zero_grad()
        losses[0].backward()
        optimizer.step()
        canvas.pixels.data = canvas.pixels.data.clip(0.0, 1.0)
        trace.add([loss.item() for loss in losses])


# ---------------------------------------------------------------- measuring the result

def style_distance(vgg, image, style, layers):
    """Mean over ``layers`` of |G(image) - G(style)| / |G(style)| (Frobenius norms): 0 = the same style statistics."""
    with mg.no_grad():
        ours, theirs = vgg(image, set(layers)), vgg(style, set(layers))
        distances = [_relative(gram_matrix(ours[name]), gram_matrix(theirs[name])) for name in layers]
    return float(np.mean(distances))


def content_distance(vgg, image, content, layer):
    """|F(image) - F(content)| / |F(content)| at ``layer``: 0 = the same feature maps."""
    with mg.no_grad():
        return _relative(vgg(image, {layer})[layer], vgg(content, {layer})[layer])


def _relative(a, b):
    return float(np.linalg.norm((a - b).numpy()) / np.linalg.norm(b.numpy()))


# ---------------------------------------------------------------- images in, figures out

def load_image(source, size, flag):
    """(1, 3, size, size) float32 RGB in [0, 1] from a sample's name or a PNG/JPEG path: the central square, resized.

    Grey images get three equal channels; an alpha channel is dropped.
    """
    if source in SAMPLES:
        image = getattr(skimage.data, source)()
    else:
        path = Path(source)
        if not path.is_file():
            raise SystemExit(f"{flag} {source}: no such file, and not one of scikit-image's samples "
                             f"({', '.join(SAMPLES)})")
        try:
            image = skimage.io.imread(path)
        except (OSError, ValueError, SyntaxError) as error:
            raise SystemExit(f"{flag} {source}: cannot read it as an image ({error})") from error
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise SystemExit(f"{flag} {source}: expected a grey, RGB or RGBA image, got an array of shape {image.shape}")
    height, width = image.shape[:2]
    side = min(height, width)
    if side < MIN_SIZE:
        raise SystemExit(f"{flag} {source}: {height}x{width} pixels is too small; the network needs at least "
                         f"{MIN_SIZE}x{MIN_SIZE} (four 2x2 poolings lie before conv5_1)")
    top, left = (height - side) // 2, (width - side) // 2
    square = skimage.util.img_as_float(image[top:top + side, left:left + side])
    resized = skimage.transform.resize(square, (size, size), anti_aliasing=side > size)
    return resized.transpose(2, 0, 1)[None].astype(np.float32)


def side_by_side(panels, path, title):
    """Images in one row, each under its label, drawn at their own resolution."""
    fig = Figure(figsize=(2.6 * len(panels), 3.0))
    for column, (label, image) in enumerate(panels.items(), start=1):
        ax = fig.add_subplot(1, len(panels), column)
        ax.imshow(np.clip(image[0].transpose(1, 2, 0), 0, 1), interpolation="nearest")
        ax.set_title(label)
        ax.set_axis_off()
    fig.suptitle(title)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def loss_plot(trace, path, title):
    """Each iteration's weighted loss terms on a log scale."""
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    for name, values in trace.values.items():
        if any(values):
            ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (weighted)")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def add_flags(parser):
    parser.add_argument("--content", default="chelsea", help="content image: a PNG/JPEG path or one of "
                        f"scikit-image's samples ({', '.join(SAMPLES)}); default %(default)s")
    parser.add_argument("--style", default="immunohistochemistry",
                        help="style image, as --content (default %(default)s)")
    parser.add_argument("--texture", action="store_true",
                        help="synthesise the style's texture from noise (no content term)")
    parser.add_argument("--size", type=int, default=128,
                        help="side of the square images in pixels (default %(default)s)")
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs",
                        help="L-BFGS (Gatys et al.'s choice) or Adam with --lr (default %(default)s)")
    parser.add_argument("--init", choices=("content", "noise"), default="content",
                        help="start from the content image, or from white noise as Gatys et al. (default %(default)s)")
    parser.add_argument("--weights", default=None,
                        help="VGG-16 weights (.npz from python -m lessons.vgg_weights); default: random weights")
    parser.add_argument("--content-layer", default="relu4_2", choices=[n for n in LAYERS if n.startswith("relu")],
                        help="layer whose feature maps the result keeps from the content image (default %(default)s)")
    parser.add_argument("--style-layers", default="relu1_1,relu2_1,relu3_1,relu4_1,relu5_1",
                        help="comma-separated layers whose Gram matrices the result takes from the style image, "
                             "each weighted equally (default %(default)s)")
    parser.add_argument("--content-weight", type=float, default=1.0, help="alpha (default %(default)s)")
    parser.add_argument("--style-weight", type=float, default=0.3, help="beta (default %(default)s)")


def output_folder(args):
    return "runs/style_transfer" + ("-texture" if args.texture else "") + ("-quick" if args.quick else "")


def main(argv=None):
    run = Lesson("style_transfer", __doc__, epochs=5, batch_size=1, lr=0.02, argv=argv, extra=add_flags,
                 default_out=output_folder)
    args = run.args
    style_layers = args.style_layers.split(",")
    for name in style_layers:
        if name not in LAYERS:
            raise SystemExit(f"--style-layers: {name!r} is not a VGG-16 layer (those are {', '.join(LAYERS)})")
    size = QUICK_SIZE if run.quick else args.size
    if size < MIN_SIZE:
        raise SystemExit(f"--size {size} is too small: the network needs at least {MIN_SIZE} pixels "
                         "(four 2x2 poolings lie before conv5_1)")

    # ---- the images: content and style, and white noise to start from
    content = load_image(args.content, size, "--content")
    style = load_image(args.style, size, "--style")
    noise = np.random.default_rng(args.seed).uniform(0.0, 1.0, content.shape).astype(np.float32)

    # ---- the feature network: VGG-16, random (normalised on these two images) or trained
    last = max(style_layers + [args.content_layer], key=LAYERS.index)
    vgg = random_vgg(last, args.seed) if args.weights is None else trained_vgg(args.weights, last)
    vgg = normalise(vgg, mg.tensor(np.concatenate([content, style])))
    for p in vgg.parameters():
        p.requires_grad_(False)
    vgg.to(run.device)
    on_device = lambda a: mg.tensor(a, device=run.device)  # noqa: E731
    loss_fn = StyleTransferLoss(vgg, None if args.texture else on_device(content), on_device(style),
                                args.content_layer, style_layers, args.content_weight, args.style_weight)

    # ---- optimise the pixels
    start = content if args.init == "content" and not args.texture else noise
    canvas = Canvas(on_device(start))
    trace = LossTrace()
    objects = {"canvas": canvas, "trace": trace}
    if args.optimizer == "adam":
        optimizer = optim.Adam(canvas.parameters(), lr=args.lr)
        objects["optimizer"] = optimizer
    for _ in run.epochs(**objects):
        if args.optimizer == "lbfgs":
            lbfgs_round(loss_fn, canvas, trace, run)
        else:
            adam_round(loss_fn, canvas, optimizer, trace, run)
        with mg.no_grad():
            total, content_term, style_term = loss_fn(canvas.pixels)
        run.log(loss=total, content_loss=content_term, style_loss=style_term)
    result = canvas.pixels.numpy()

    # ---- measure with an independent random network: another seed, never optimised against
    judge = normalise(random_vgg(last, args.seed + JUDGE_SEED), mg.tensor(np.concatenate([content, style])))
    images = {"result": result, "content": content, "noise": noise}
    final = {f"style_distance_{name}": style_distance(judge, mg.tensor(image), mg.tensor(style), style_layers)
             for name, image in images.items()}
    if not args.texture:
        final.update({f"content_distance_{name}": content_distance(judge, mg.tensor(image), mg.tensor(content),
                                                                   args.content_layer)
                      for name, image in {"result": result, "style": style, "noise": noise}.items()})

    # ---- figures
    if args.texture:
        side_by_side({"white noise (start)": noise, "style": style, "synthesised texture": result},
                     run.figure("texture.png"), f"Texture synthesis from {args.style}")
    else:
        side_by_side({"content": content, "style": style, "result": result}, run.figure("style_transfer.png"),
                     f"{args.content} in the style of {args.style}")
    skimage.io.imsave(run.figure("result.png"), (result[0].transpose(1, 2, 0) * 255).round().astype(np.uint8),
                      check_contrast=False)
    loss_plot(trace, run.figure("losses.png"), "Texture synthesis" if args.texture else "Style transfer")
    last_record = run.history[-1]
    run.finish(final={"loss": last_record["loss"], "content_loss": last_record["content_loss"],
                      "style_loss": last_record["style_loss"], **final})


if __name__ == "__main__":
    main()
