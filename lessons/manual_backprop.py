"""Backprop by hand: the 784-256-784 sigmoid autoencoder's gradients in plain NumPy, checked two ways.

What autograd automates. The textbook autoencoder (see textbook_autoencoder) is

    Z1 = X W1 + b1      H = sigmoid(Z1)      (the 256-unit code)
    Z2 = H W2 + b2      Y = sigmoid(Z2)      (the reconstruction)
    L  = mean((Y - X)^2)                     (over all N*784 numbers)

Its gradients are derived here by the chain rule, one NumPy line per step,
walking from L back to the weights: exactly what ``loss.backward()`` does op
by op. Then they are checked

1. against minigrad's autograd on the same float64 weights and images: the
   two do the same arithmetic, so they agree to float64 rounding;
2. against central differences (L(w + eps) - L(w - eps)) / (2 eps) at a few
   sampled entries of each parameter: this needs no calculus at all, only
   the forward pass, so it would catch a wrong formula in either of the
   others. It agrees to about 1e-13, the error of the difference quotient.

The check runs at the book's starting point, N(0, 1) weights: most sigmoids
start saturated there, so the gradients are tiny (around 1e-4), which is why
the book trains with RMSProp, dividing each gradient by its running size.

Finally the hand-derived gradients train the network with the textbook's
setup (TF1 RMSProp lr 0.01, batch 100, the 55,000 images, the same seed):
an optimizer needs nothing but each parameter's ``.grad``, and the cost
table it prints is the one textbook_autoencoder prints with autograd.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons.common import Lesson
from lessons.textbook_autoencoder import BOOK_LR, BOOK_SEED, TextbookAutoencoder, textbook_mnist
from minigrad import optim, viz
from minigrad.data import DataLoader

CHECK_BATCH = 100      # images in the gradient check
SAMPLED_ENTRIES = 8    # entries of each parameter checked by central differences
EPS = 1e-4             # central-difference step: float64 rounding and the eps^2 error both stay near 1e-13


def sigmoid(z):
    # sigmoid(z) = 1 / (1 + exp(-z)) = (1 + tanh(z/2)) / 2; the tanh form never overflows
    return 0.5 * (1 + np.tanh(0.5 * z))


def forward(X, W1, b1, W2, b2):
    """The loss and what backward needs from the forward pass."""
    Z1 = X @ W1 + b1                # Z1 = X W1 + b1                     (N, 256)
    H = sigmoid(Z1)                 # H = sigmoid(Z1)                    (N, 256)
    Z2 = H @ W2 + b2                # Z2 = H W2 + b2                     (N, 784)
    Y = sigmoid(Z2)                 # Y = sigmoid(Z2)                    (N, 784)
    L = np.mean((Y - X) ** 2)       # L = 1/(N D) sum_nd (Y - X)^2,      D = 784
    return L, (H, Y)


def backward(X, W2, H, Y):
    """dL/dW1, dL/db1, dL/dW2, dL/db2 by the chain rule, from the loss back to the input layer."""
    N, D = X.shape
    dY = 2 * (Y - X) / (N * D)      # dL/dY  = 2 (Y - X) / (N D)
    dZ2 = dY * Y * (1 - Y)          # dL/dZ2 = dL/dY * sigmoid'(Z2),     sigmoid'(Z) = Y (1 - Y)
    dW2 = H.T @ dZ2                 # dL/dW2 = H^T dL/dZ2                (each sample's outer product, summed)
    db2 = dZ2.sum(axis=0)           # dL/db2 = sum_n dL/dZ2[n]           (b2 was broadcast over the batch)
    dH = dZ2 @ W2.T                 # dL/dH  = dL/dZ2 W2^T               (H feeds every output unit)
    dZ1 = dH * H * (1 - H)          # dL/dZ1 = dL/dH * H (1 - H)
    dW1 = X.T @ dZ1                 # dL/dW1 = X^T dL/dZ1
    db1 = dZ1.sum(axis=0)           # dL/db1 = sum_n dL/dZ1[n]
    return dW1, db1, dW2, db2


def autograd_gradients(X, params):
    """The same four gradients from minigrad: build the graph, call backward."""
    X = mg.tensor(X)
    W1, b1, W2, b2 = (mg.tensor(p, requires_grad=True) for p in params)
    Y = F.sigmoid(F.linear(F.sigmoid(F.linear(X, W1, b1)), W2, b2))
    F.mse_loss(Y, X).backward()
    return [p.grad.numpy() for p in (W1, b1, W2, b2)]


def central_differences(X, params, index, entries):
    """dL/dparams[index] at the given flat entries: (L(w + eps) - L(w - eps)) / (2 eps)."""
    params = [p.copy() for p in params]
    flat = params[index].reshape(-1)
    slopes = []
    for entry in entries:
        original = flat[entry]
        flat[entry] = original + EPS
        up, _ = forward(X, *params)
        flat[entry] = original - EPS
        down, _ = forward(X, *params)
        flat[entry] = original
        slopes.append((up - down) / (2 * EPS))
    return np.array(slopes)


def main(argv=None):
    run = Lesson("manual_backprop", __doc__, epochs=3, batch_size=100, lr=BOOK_LR, seed=BOOK_SEED, argv=argv)
    x_train, x_test = textbook_mnist(run)
    model = TextbookAutoencoder().to("cpu")  # the hand-written passes are NumPy: this lesson runs on the CPU
    names = ["W1", "b1", "W2", "b2"]
    params = [model.W_encode, model.b_encode, model.W_decode, model.b_decode]

    # ---- 1. check the hand-derived gradients, in float64 so rounding stays far below the differences
    X = x_train[:CHECK_BATCH].astype(np.float64)
    weights = [p.numpy().astype(np.float64) for p in params]
    _, (H, Y) = forward(X, *weights)
    by_hand = backward(X, weights[2], H, Y)
    by_autograd = autograd_gradients(X, weights)
    sampler = np.random.default_rng(run.args.seed)
    checks = {}
    print(f"{'':4}{'max |gradient|':>16}{'max |hand - autograd|':>24}{'max |hand - numerical|':>25}")
    for i, (name, hand, auto) in enumerate(zip(names, by_hand, by_autograd)):
        entries = sampler.choice(hand.size, SAMPLED_ENTRIES, replace=False)
        numerical = central_differences(X, weights, i, entries)
        checks[f"{name}_vs_autograd"] = np.abs(hand - auto).max()
        checks[f"{name}_vs_numerical"] = np.abs(hand.reshape(-1)[entries] - numerical).max()
        print(f"{name:4}{np.abs(hand).max():16.3e}{checks[f'{name}_vs_autograd']:24.3e}"
              f"{checks[f'{name}_vs_numerical']:25.3e}")

    # ---- 2. train with the hand-derived gradients: the optimizer only reads .grad
    loader = DataLoader(x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed)
    optimizer = optim.RMSProp.tf1(params, lr=run.args.lr)
    for epoch in run.epochs(model=model, optimizer=optimizer, loader=loader):
        costs = []
        for (batch,) in run.progress(loader):
            cost, (H, Y) = forward(batch, *(p.data for p in params))
            for p, gradient in zip(params, backward(batch, model.W_decode.data, H, Y)):
                p.grad = mg.tensor(gradient)
            optimizer.step()
            costs.append(cost)
        test_cost, _ = forward(x_test, *(p.data for p in params))
        print(f"Epoch: {epoch:04d} Avg. cost = {np.mean(costs):.4f}")
        run.log(avg_cost=np.mean(costs), test_cost=test_cost)

    _, (_, reconstructions) = forward(x_test[:10], *(p.data for p in params))
    viz.image_rows({"test digit": x_test[:10], "reconstruction": reconstructions},
                   run.figure("reconstructions.png"),
                   title=f"784-256-784 autoencoder trained with hand-derived gradients, {run.args.epochs} epochs")
    run.finish(final=dict(checks, avg_cost=np.mean(costs), test_cost=test_cost))


if __name__ == "__main__":
    main()
