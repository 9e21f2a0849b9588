"""How the error of a finite-difference derivative depends on the step eps.

    python -m lessons.exercises.eps_plot [--out PATH]

Differentiates tanh numerically at many points, with forward differences
(f(x+eps) - f(x)) / eps and central differences (f(x+eps) - f(x-eps)) / (2 eps),
and plots the median error against eps on log axes. Large eps: the Taylor
terms the formula drops dominate (truncation, slope 1 for forward, 2 for
central). Small eps: the rounding error of f, about u |f| / eps, takes over
(slope -1; u = 1.1e-16 in float64, 6e-8 in float32). The minimum of each V is
the best eps.
"""
import argparse
import pathlib

import numpy as np

from .checker import EPS

POINTS = np.linspace(-1.5, 1.5, 201)  # where tanh is differentiated; the median over them smooths the curves


def derivative_errors(eps, dtype=np.float64, central=True):
    """Median |numerical - exact| of d tanh/dx over POINTS, for each step in eps."""
    x = POINTS.astype(dtype)
    exact = 1 - np.tanh(POINTS) ** 2
    errors = []
    for h in np.asarray(eps, dtype=dtype):
        if central:
            numerical = (np.tanh(x + h) - np.tanh(x - h)) / (2 * h)
        else:
            numerical = (np.tanh(x + h) - np.tanh(x)) / h
        errors.append(np.median(np.abs(numerical.astype(np.float64) - exact)))
    return np.array(errors)


def plot(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eps = np.logspace(-13, -0.5, 76)
    curves = [("central, float64", np.float64, True, "tab:blue", "-", (45, -4)),
              ("forward, float64", np.float64, False, "tab:orange", "-", (-10, -30)),
              ("central, float32", np.float32, True, "tab:green", "--", (0, -30))]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    best = {}
    for label, dtype, central, colour, style, offset in curves:
        errors = derivative_errors(eps, dtype, central)
        k = int(np.argmin(errors))
        best[label] = eps[k], errors[k]
        ax.loglog(eps, errors, style, color=colour, label=label)
        ax.plot(eps[k], errors[k], "o", color=colour, markersize=7, markeredgecolor="black")
        ax.annotate(f"best eps {eps[k]:.0e}\nerror {errors[k]:.0e}", (eps[k], errors[k]), textcoords="offset points",
                    xytext=offset, ha="center", fontsize=8, color=colour)
    ax.set_ylim(1e-14, 3)
    ax.axvline(EPS, color="gray", linewidth=0.8, linestyle=":")
    ax.text(EPS, 3e-14, " checker's eps", color="gray", fontsize=8)
    ax.set_xlabel("step eps (log scale)")
    ax.set_ylabel("|numerical - exact|, median (log scale)")
    ax.set_title("Error of d tanh/dx by finite differences:\nrounding (left) vs truncation (right)", fontsize=11)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lessons.exercises.eps_plot", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/exercises/eps_vs_error.png", help="where to write the PNG")
    args = parser.parse_args(argv)
    for label, (eps, error) in plot(args.out).items():
        print(f"{label:<17}  best eps {eps:.1e}  error {error:.1e}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
