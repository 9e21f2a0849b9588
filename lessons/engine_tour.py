"""The engine tour: how autograd works, built up in seven steps, each printed and drawn.

Start here, before the autoencoders: every lesson after this one calls
``loss.backward()``, and this one shows what that call does.

1. A derivative by central differences, and its error against the step eps:
   too large and the function's bend shows (the error falls as eps^2), too
   small and float64's rounding does (it grows as 1e-16 / eps), which is why
   gradient checks take eps near 1e-6.
2. The chain rule by hand on y = exp(sin(x)^2), then the same number from
   minigrad, with the graph drawn before and after ``backward()``.
3. A Function: one op (Square) written from scratch, plugged into the engine
   and proved right by ``gradcheck``.
4. The topological order: the order in which backward visits a small graph
   with two branches, and that walk written out in ten lines.
5. Broadcasting: ``x + b`` with b of shape (3,) sends back a (2, 3) gradient,
   which backward sums down to (3,) (``sum_to``), drawn in the gradient's graph.
6. Higher order: the first to fourth derivatives of tanh from
   ``create_graph=True``, plotted on [-4, 4], and the graph of the second.
7. A two-layer network: its graph with the parameters named, one training
   step, and ``gradcheck`` catching a planted wrong backward.

Every figure is a PNG in --out (default runs/engine_tour/); the graphs are
drawn by ``minigrad.viz.draw_graph``, which needs Graphviz's ``dot`` program
(``apt install graphviz``). The whole tour takes a few seconds. Steps 1-6
compute in float64 on the CPU; ``--device cuda`` trains step 7's network on
the GPU, and ``--batch-size`` and ``--lr`` are that network's.
"""
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigrad as mg
import minigrad.functional as F
from lessons.common import Lesson
from minigrad import nn, optim
from minigrad.viz import draw_graph

X0 = 0.5  # the point where steps 1 and 2 differentiate
STEPS = np.array([float(f"1e-{k}") for k in range(1, 15)])  # eps = 1e-1 ... 1e-14, each the nearest float
TANH_POINTS, QUICK_TANH_POINTS = 401, 81


def main(argv=None):
    run = Lesson("engine_tour", __doc__, epochs=1, batch_size=4, lr=0.1, argv=argv)
    final = {}

    # ------------------------------------------------------------------ 1. central differences
    section(1, "a derivative by central differences")

    def f(x):
        return np.exp(np.sin(x) ** 2)

    def f_prime(x):  # the chain rule of step 2, here only to measure the error against
        return f(x) * 2 * np.sin(x) * np.cos(x)

    exact = f_prime(X0)
    errors = {}
    for dtype in (np.float64, np.float32):
        x, eps = dtype(X0), STEPS.astype(dtype)
        estimate = (f(x + eps) - f(x - eps)) / (2 * eps)
        errors[dtype] = np.abs(estimate.astype(np.float64) - exact)
    print(f"f(x) = exp(sin(x)^2) at x = {X0}: f'(x) = {exact:.15f}")
    print("  (f(x + eps) - f(x - eps)) / (2 eps) is off by")
    print("     eps     float64    float32")
    for eps, error64, error32 in zip(STEPS, errors[np.float64], errors[np.float32]):
        print(f"  {eps:6.0e}  {error64:9.1e}  {error32:9.1e}")
    best = {dtype: STEPS[int(np.argmin(error))] for dtype, error in errors.items()}
    digits = {dtype: int(np.log10(abs(exact) / error.min())) for dtype, error in errors.items()}
    print(f"  smallest error: float64 at eps = {best[np.float64]:.0e} ({digits[np.float64]} correct digits), "
          f"float32 at eps = {best[np.float32]:.0e} ({digits[np.float32]} digits).")
    print("  The bend of f makes an error that falls as eps^2; rounding f's values makes one that grows as")
    print("  1e-16 / eps in float64 (1e-7 / eps in float32). The two balance near eps = 1e-5 .. 1e-6 in float64,")
    print("  hence gradcheck's eps = 1e-6 and its float64 inputs.")
    plot_difference_errors(errors, best, run.figure("1_central_differences.png"))
    final["best_eps_float64"] = best[np.float64]
    final["best_error_float64"] = float(errors[np.float64].min())

    # ------------------------------------------------------------------ 2. the chain rule
    section(2, "the chain rule by hand, then by minigrad")
    a = np.sin(X0)        # a = sin(x)       da/dx = cos(x)
    b = a ** 2            # b = a^2          db/da = 2a
    y = np.exp(b)         # y = exp(b)       dy/db = exp(b) = y
    da_dx, db_da, dy_db = np.cos(X0), 2 * a, y
    by_hand = dy_db * db_da * da_dx
    print(f"a = sin({X0}) = {a:.6f}      da/dx = cos(x)  = {da_dx:.6f}")
    print(f"b = a^2 = {b:.6f}           db/da = 2a      = {db_da:.6f}")
    print(f"y = exp(b) = {y:.6f}        dy/db = exp(b)  = {dy_db:.6f}")
    print(f"dy/dx = dy/db * db/da * da/dx = {by_hand:.6f}")

    x = mg.tensor(np.array(X0), requires_grad=True)  # a float64 array stays float64
    y = (x.sin() ** 2).exp()
    names = {"x": x, "y": y}
    graph = draw_graph(y, show_values=True, params=names)
    save(graph, run.figure("2_chain_rule_before_backward.png"), "y = exp(sin(x)^2): the graph, before backward()")
    y.backward(retain_graph=True)  # retain_graph keeps the graph, to draw it again with the gradient on x
    graph = draw_graph(y, show_values=True, show_grads=True, params=names)
    save(graph, run.figure("2_chain_rule_after_backward.png"), "after y.backward(): x.grad = dy/dx")
    print(f"minigrad: y = {y.item():.6f}, x.grad = {x.grad.item():.6f} (by hand - minigrad: "
          f"{by_hand - x.grad.item():.1e})")
    print("  The graph records each op and its input as it runs; backward() walks it from y to x, each op's")
    print("  backward multiplying in its own factor, and leaves the product in the leaf's .grad.")
    final["chain_rule_by_hand"] = by_hand
    final["chain_rule_minigrad"] = x.grad.item()

    # ------------------------------------------------------------------ 3. a Function of our own
    section(3, "one op written from scratch: Square")

    class Square(mg.Function):
        # d/dx x^2 = 2x
        def forward(self, x):
            return x * x            # on arrays: NumPy, or CuPy on 'cuda'

        def backward(self, gy):
            (x,) = self.inputs      # on Tensors, so that the gradient has a graph of its own
            return gy * 2 * x

    x = mg.tensor(np.array([-1.5, 0.5, 2.0]), requires_grad=True)
    loss = Square()(x).sum()
    loss.backward(retain_graph=True)
    print(f"x = {x.numpy()}  sum(Square(x)) = {loss.item():g}  x.grad = {x.grad.numpy()} (2x)")
    square_checked = mg.gradcheck(lambda x: Square()(x), [x]) and mg.gradgradcheck(lambda x: Square()(x), [x])
    print(f"gradcheck and gradgradcheck of Square: {square_checked} (backward against central differences, "
          "first and second derivatives)")
    save(draw_graph(loss, show_grads=True, params={"x": x}), run.figure("3_square.png"),
         "Square plugged into the engine: sum(Square(x))")
    final["square_gradcheck"] = int(square_checked)

    # ------------------------------------------------------------------ 4. the topological order
    section(4, "the order of the walk")
    x = mg.tensor(np.array(X0), requires_grad=True)
    a = 2 * x
    b = a.exp()          # branch 1
    c = F.tanh(a)        # branch 2
    y = b * c            # the branches join
    names = {"x": x, "a": a, "b": b, "c": c, "y": y}
    order = topological_order(y)
    print("y = exp(a) * tanh(a), a = 2x: a feeds two branches")
    print("topological order (each tensor after the ones it is made from): "
          + " ".join(name_of(t, names) for t in order))
    walk = list(reversed(order))
    print("backward visits them in reverse:                                  "
          + " ".join(name_of(t, names) for t in walk))
    print("  a comes after both b and c, so both branches have sent their part of dy/da before a sends it on.")
    numbered = {f"{name_of(t, names)}: visit {step}": t for step, t in enumerate(walk, 1)}
    save(draw_graph(y, params=numbered), run.figure("4_topological_order.png"),
         "the order in which backward visits y = exp(2x) * tanh(2x)")

    grads = backward_by_hand(y, order)
    y.backward()
    print(f"that walk in ten lines (backward_by_hand below): dy/dx = {grads[id(x)].item():.6f}; "
          f"y.backward(): x.grad = {x.grad.item():.6f}")
    final["walk_by_hand_vs_backward"] = abs(grads[id(x)].item() - x.grad.item())

    # ------------------------------------------------------------------ 5. broadcasting
    section(5, "broadcasting and sum_to")
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = mg.tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)
    loss = ((x + b) ** 2).sum()
    (d_loss_d_b,) = mg.grad(loss, b, create_graph=True)  # create_graph: the gradient keeps its graph, to draw
    upstream = 2 * (x.numpy() + b.numpy())
    print(f"x {x.shape} + b {b.shape}: b is broadcast over the 2 rows; loss = sum((x + b)^2)")
    print(f"the gradient arriving at Add is 2(x + b), shape {upstream.shape}:\n{upstream}")
    print(f"b was used once per row, so its gradient is the sum over the rows: sum_to(g, (3,)) = "
          f"{F.sum_to(mg.tensor(upstream), (3,)).numpy()}")
    print(f"mg.grad(loss, b) = {d_loss_d_b.numpy()}: Add's backward called sum_to, the SumTo node of its graph")
    save(draw_graph([loss, d_loss_d_b], show_values=True, params={"x": x, "b": b, "loss": loss,
                                                                "dloss/db": d_loss_d_b}),
         run.figure("5_broadcasting.png"), "loss = sum((x + b)^2) and the graph of dloss/db")
    final["broadcast_grad_error"] = float(np.abs(d_loss_d_b.numpy() - upstream.sum(axis=0)).max())

    # ------------------------------------------------------------------ 6. higher order
    section(6, "higher derivatives of tanh")
    points = QUICK_TANH_POINTS if run.quick else TANH_POINTS
    x = mg.tensor(np.linspace(-4, 4, points), requires_grad=True)
    derivatives = [F.tanh(x)]
    for _ in range(4):  # each derivative is a graph too, so it can be differentiated again
        (next_one,) = mg.grad(derivatives[-1].sum(), x, create_graph=True)
        derivatives.append(next_one)
    t = np.tanh(x.numpy())
    d1 = 1 - t ** 2
    closed_forms = [t, d1, -2 * t * d1, d1 * (6 * t ** 2 - 2), 8 * t * d1 * (2 - 3 * t ** 2)]
    worst = max(float(np.abs(d.numpy() - exact).max()) for d, exact in zip(derivatives, closed_forms))
    for order_n, d in enumerate(derivatives[1:], 1):
        ops = sum(tensor.grad_fn is not None for tensor in topological_order(d))
        print(f"  derivative {order_n}: {ops:2d} ops in its graph, largest |value| on [-4, 4] "
              f"{np.abs(d.numpy()).max():.4f}")
    print(f"  largest difference from the closed forms (1 - t^2, -2t(1 - t^2), ...): {worst:.1e}")
    plot_tanh_derivatives(x.numpy(), [d.numpy() for d in derivatives], run.figure("6_tanh_derivatives.png"))
    x = mg.tensor(np.array(1.0), requires_grad=True)
    y = F.tanh(x)
    (dy,) = mg.grad(y, x, create_graph=True)
    (d2y,) = mg.grad(dy, x, create_graph=True)
    print(f"  at x = 1: tanh'' = {d2y.item():.6f} (closed form {-2 * np.tanh(1) * (1 - np.tanh(1) ** 2):.6f})")
    save(draw_graph(d2y, show_values=True, params={"x": x, "tanh(x)": y, "tanh'(x)": dy, "tanh''(x)": d2y}),
         run.figure("6_second_derivative_graph.png"), "the graph of tanh''(x) at x = 1, built by create_graph=True")
    final["tanh_derivatives_max_error"] = worst

    # ------------------------------------------------------------------ 7. a network
    section(7, "a two-layer network, one step, and a planted bug")
    model = nn.Sequential(nn.Dense(2, 3), nn.Tanh(), nn.Dense(3, 1))
    inputs = mg.randn(run.args.batch_size, 2)
    targets = mg.randn(run.args.batch_size, 1)
    optimizer = optim.SGD(model.parameters(), lr=run.args.lr)
    loss = F.mse_loss(model(inputs), targets)
    loss.backward(retain_graph=True)
    save(draw_graph(loss, show_grads=True, params=model), run.figure("7_network.png"),
         "Dense(2, 3) - Tanh - Dense(3, 1) and MSE, after backward(): green boxes are the parameters")
    optimizer.step()
    loss_after = F.mse_loss(model(inputs), targets)
    print(f"loss {loss.item():.4f} -> {loss_after.item():.4f} after one SGD step (lr {run.args.lr}): "
          "each parameter moved against its .grad")

    class WrongTanh(mg.Function):
        # planted bug: d/dx tanh = 1 - t^2, but this backward forgets the square
        def forward(self, x):
            return np.tanh(x)

        def backward(self, gy):
            return gy * (1 - self.output)

    # gradcheck wants float64 (step 1): the same network and batch as float64 tensors on the CPU
    weights = [mg.tensor(p.numpy().astype(np.float64), requires_grad=True) for p in model.parameters()]
    x, target = (mg.tensor(t.numpy().astype(np.float64)) for t in (inputs, targets))

    def network_loss(activation, w1, b1, w2, b2):
        return F.mse_loss(F.linear(activation(F.linear(x, w1, b1)), w2, b2), target)

    print(f"gradcheck with tanh:      {mg.gradcheck(lambda *w: network_loss(F.tanh, *w), weights)}")
    try:
        mg.gradcheck(lambda *w: network_loss(lambda h: WrongTanh()(h), *w), weights)
        caught = False
    except mg.GradcheckError as error:
        caught = True
        print(f"gradcheck with WrongTanh: GradcheckError: {error}")
        print("  input 0 is the first layer's weight: the wrong derivative sits between it and the loss.")
    final["loss_before_step"] = loss.item()
    final["loss_after_step"] = loss_after.item()
    final["planted_bug_caught"] = int(caught)
    run.finish(final=final)


def section(number, title):
    print(f"\n{number}. {title}\n{'-' * (len(title) + 3)}")


def name_of(tensor, names):
    return next((name for name, t in names.items() if t is tensor), "?")


def topological_order(output):
    """Every tensor ``output`` depends on that requires grad, each after the tensors it is made from.

    Depth first with a stack of (tensor, inputs done?) pairs: a tensor goes
    into the order only once all its inputs have.
    """
    order, visited, stack = [], set(), [(output, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
        elif id(tensor) not in visited:
            visited.add(id(tensor))
            stack.append((tensor, True))
            if tensor.grad_fn is not None:
                stack += [(t, False) for t in tensor.grad_fn.inputs if t.requires_grad]
    return order


def backward_by_hand(output, order):
    """What y.backward() does: walk the order backwards, each Function turning its output's gradient into its
    inputs' and adding them up. Returns id(tensor) -> d output / d tensor."""
    grads = {id(output): mg.ones_like(output)}
    with mg.no_grad():
        for tensor in reversed(order):
            fn = tensor.grad_fn
            if fn is None:
                continue
            input_grads = fn.backward(grads[id(tensor)])
            input_grads = input_grads if isinstance(input_grads, tuple) else (input_grads,)
            for source, grad in zip(fn.inputs, input_grads):
                if source.requires_grad:
                    grads[id(source)] = grads[id(source)] + grad if id(source) in grads else grad
    return grads


def save(graph, path, title):
    graph.attr(label=title, labelloc="t", fontsize="16")
    graph.render(outfile=path, cleanup=True)  # the PNG only: cleanup removes the DOT file written beside it


def plot_difference_errors(errors, best, path):
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.add_subplot()
    for dtype, error in errors.items():
        line, = ax.loglog(STEPS, error, marker="o", markersize=4, label=np.dtype(dtype).name)
        ax.annotate(f"smallest error\nat eps = {best[dtype]:.0e}", (best[dtype], error.min()),
                    xytext=(14, 10) if dtype is np.float64 else (14, -34), textcoords="offset points", color=line.get_color(), fontsize=9,
                    arrowprops={"arrowstyle": "->", "color": line.get_color()})
    ax.set_xlabel("eps")
    ax.set_ylabel("|central difference - f'(x)|")
    ax.set_title("Central differences of exp(sin(x)^2) at x = 0.5")
    ax.invert_xaxis()
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def plot_tanh_derivatives(x, derivatives, path):
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.add_subplot()
    labels = ["tanh(x)", "1st derivative", "2nd derivative", "3rd derivative", "4th derivative"]
    for values, label in zip(derivatives, labels):
        ax.plot(x, values, label=label, linewidth=2 if label == "tanh(x)" else 1.3)
    ax.set_xlabel("x")
    ax.set_title("tanh and its derivatives, by create_graph=True")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
