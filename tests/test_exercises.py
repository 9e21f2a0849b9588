"""The gradient-check exercises: every reference solution passes, planted mistakes fail with the right input
named and the right hint, the commands list and check, the eps plot shows what the guide says."""
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from lessons.exercises import EXERCISES, eps_plot, find
from lessons.exercises.__main__ import main
from lessons.exercises.checker import Case, check, numerical_gradients, written_method
from lessons.exercises.report import Painter, render_check, render_list

REPO = Path(__file__).resolve().parents[1]
GRADIENT_EXERCISES = [e for e in EXERCISES if written_method(e.function()) == "backward"]


def exercise_class(name):
    return find(name).function()


def first_wrong(report):
    """(names of the wrong inputs, the first wrong input's result) in the first failing case."""
    case = report.first_failure
    assert case is not None and case.error is None, render_check(report, Painter(False))
    wrong = [r for r in case.inputs if not r.ok]
    return [r.name for r in wrong], wrong[0]


# --- the reference solutions ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_every_reference_solution_passes_the_checker(exercise, seed):
    report = check(exercise, solution=True, seed=seed)
    assert report.status == "passing", render_check(report, Painter(False))
    assert len(report.cases) >= 4 and report.max_error < 1e-7


def test_every_exercise_but_the_optimizer_is_a_backward():
    assert [e.name for e in EXERCISES if e not in GRADIENT_EXERCISES] == ["adam_step"]


@pytest.mark.parametrize("exercise", GRADIENT_EXERCISES, ids=lambda e: e.name)
def test_reference_solutions_also_pass_the_engines_gradcheck(exercise):
    """A second opinion from minigrad.gradcheck, so a checker bug cannot bless a wrong reference."""
    solution = exercise.function(solution=True)
    for case in exercise.cases(np.random.default_rng(0)):
        inputs = [mg.Tensor(x.copy(), requires_grad=True) for x in case.inputs]
        assert mg.gradcheck(lambda *xs: solution(**case.options)(*xs), inputs)


def test_cases_cover_a_batch_of_one_and_size_one_axes():
    for exercise in EXERCISES:
        shapes = [x.shape for case in exercise.cases(np.random.default_rng(0)) for x in case.inputs]
        assert any(s[:1] == (1,) for s in shapes) or any(1 in s for s in shapes), exercise.name
        assert len({s for s in shapes}) >= 3, exercise.name


# --- the exercises as handed out ------------------------------------------------------------------------------

@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_each_exercise_starts_not_started_with_a_hint_and_states_its_math(exercise):
    report = check(exercise)
    assert report.status == "not started"
    assert len(report.not_started) > 20  # a hint, not a bare NotImplementedError
    doc = sys.modules[exercise.function().__module__].__doc__
    assert ("Derive" in doc or "write ``Adam.step" in doc) and ("(N, " in doc or "shape S" in doc), exercise.name


def test_exercises_are_numbered_in_the_order_of_the_course():
    assert [e.name for e in EXERCISES] == ["mul", "sigmoid", "tanh", "matmul", "broadcast_sum", "mse",
                                           "softmax_cross_entropy", "leaky_relu", "dropout", "dense", "conv2d",
                                           "batchnorm", "conv_transpose2d", "bce_with_logits", "vae_kl_reparam",
                                           "adam_step"]
    assert find("4") == find("matmul") == find("ex04_matmul.py")
    with pytest.raises(LookupError, match="matmul"):
        find("matmull")


# --- planted mistakes: the kinds the hints recognise ---------------------------------------------------------

def test_missing_factor_2_names_both_inputs_and_the_factor():
    class MSE(exercise_class("mse")):
        def backward(self, gy):
            p, t = self.inputs
            grad = gy * (p - t) / p.size
            return grad, -grad

    names, wrong = first_wrong(check(find("mse"), MSE))
    assert names == ["p", "t"]
    assert "factor-2" in wrong.hint.kinds and "divided by 2" in wrong.hint.text
    assert wrong.got == pytest.approx(wrong.expected / 2)


def test_batch_size_factor_is_named_and_a_batch_of_one_passes():
    class SoftmaxCrossEntropy(exercise_class("softmax_cross_entropy")):
        def backward(self, gy):  # the mean's 1/N forgotten
            one_hot = np.eye(self.probs.shape[1])[self.labels]
            return mg.Tensor(self.probs - one_hot) * gy

    report = check(find("softmax_cross_entropy"), SoftmaxCrossEntropy)
    names, wrong = first_wrong(report)
    n = report.first_failure.shapes[0][0]
    assert names == ["logits"] and wrong.hint.kinds[0] == "batch-size"
    assert f"N = {n}" in wrong.hint.text and f"is {n} times the expected" in wrong.hint.text
    batch_of_one = [c for c in report.cases if c.shapes[0][0] == 1]
    assert batch_of_one and all(c.ok for c in batch_of_one)


def test_sign_flip():
    class Tanh(exercise_class("tanh")):
        def backward(self, gy):
            y = self.output
            return gy * (y * y - 1)

    names, wrong = first_wrong(check(find("tanh"), Tanh))
    assert names == ["x"] and wrong.hint.kinds == ("sign",)
    assert wrong.got == pytest.approx(-wrong.expected)


def test_transposed_matmul_gradient_by_its_shape():
    class MatMul(exercise_class("matmul")):
        def backward(self, gy):
            a, b = self.inputs
            return gy @ b.T, gy.T @ a  # (M, K): b's gradient transposed

    names, wrong = first_wrong(check(find("matmul"), MatMul))
    assert names == ["b"] and wrong.hint.kinds == ("transposed",)
    assert "transposed" in wrong.problem + wrong.hint.text


def test_transposed_matmul_gradient_by_its_values_when_square():
    class MatMul(exercise_class("matmul")):
        def backward(self, gy):
            a, b = self.inputs
            return (gy @ b.T).T, a.T @ gy

    rng = np.random.default_rng(3)
    square = Case(rng.standard_normal((4, 4)), rng.standard_normal((4, 4)))
    names, wrong = first_wrong(check(find("matmul"), MatMul, cases=[square]))
    assert names == ["a"] and wrong.problem is None and wrong.hint.kinds == ("transposed",)


def test_missing_sum_over_a_broadcast_axis_by_its_shape():
    class BroadcastSum(exercise_class("broadcast_sum")):
        def backward(self, gy):
            return gy, gy

    report = check(find("broadcast_sum"), BroadcastSum)
    names, wrong = first_wrong(report)
    case = report.first_failure
    assert case.shapes == [case.output_shape, case.output_shape[1:]]  # a (N, D) + b (D,)
    assert names == ["b"] and wrong.hint.kinds == ("broadcast",) and "axis 0" in wrong.hint.text


def test_dense_bias_unsummed_or_averaged_is_a_broadcast_mistake():
    class Unsummed(exercise_class("dense")):
        def backward(self, gy):
            x, W, _ = self.inputs
            return gy @ W.T, x.T @ gy, gy

    class Averaged(Unsummed):
        def backward(self, gy):
            grad_x, grad_W, _ = super().backward(gy)
            return grad_x, grad_W, gy.mean(axis=0)

    for planted in (Unsummed, Averaged):
        names, wrong = first_wrong(check(find("dense"), planted))
        assert names == ["b"] and wrong.hint.kinds[0] == "broadcast", planted.__name__


def test_ignoring_the_upstream_gradient():
    class Sigmoid(exercise_class("sigmoid")):
        def backward(self, gy):
            y = self.output
            return y * (1 - y)

    class MSE(exercise_class("mse")):  # a scalar output: gy is one number, still not to be dropped
        def backward(self, gy):
            p, t = self.inputs
            grad = (2 / p.size) * (p - t)
            return grad, -grad

    for name, planted in [("sigmoid", Sigmoid), ("mse", MSE)]:
        _, wrong = first_wrong(check(find(name), planted))
        assert wrong.hint.kinds == ("upstream",), name


def test_swapped_operands():
    class Mul(exercise_class("mul")):
        def backward(self, gy):
            a, b = self.inputs
            return gy * a, gy * b

    names, wrong = first_wrong(check(find("mul"), Mul))
    assert names == ["a", "b"] and wrong.hint.kinds == ("swapped",) and "the one b should get" in wrong.hint.text


def test_a_wrong_gradient_without_a_known_pattern_gets_no_made_up_hint():
    class Sigmoid(exercise_class("sigmoid")):
        def backward(self, gy):
            return gy * self.output  # y where y (1 - y) belongs: the ratio varies from element to element

    report = check(find("sigmoid"), Sigmoid)
    _, wrong = first_wrong(report)
    assert report.status == "failing" and wrong.hint is None
    assert "no common mistake fits" in render_check(report, Painter(False))


# --- planted mistakes in the four later exercises -----------------------------------------------------------

def _conv_transpose_gradients(fn, gy):
    return find("conv_transpose2d").function(solution=True).backward(fn, gy)


def test_conv_transpose_without_the_stride_says_so():
    class ConvTranspose2D(exercise_class("conv_transpose2d")):
        def backward(self, gy):
            _, grad_weight, grad_bias = _conv_transpose_gradients(self, gy)
            return F.conv2d(gy, self.inputs[1], padding=self.padding), grad_weight, grad_bias

    names, wrong = first_wrong(check(find("conv_transpose2d"), ConvTranspose2D))
    assert names == ["x"] and wrong.hint.kinds == ("spatial",) and "self.stride" in wrong.hint.text


def test_conv_transpose_with_a_flipped_kernel_or_an_unsummed_bias():
    class Flipped(exercise_class("conv_transpose2d")):
        def backward(self, gy):
            grad_x, grad_weight, grad_bias = _conv_transpose_gradients(self, gy)
            return grad_x, mg.Tensor(grad_weight.data[..., ::-1, ::-1].copy()), grad_bias

    class BiasPerPixel(exercise_class("conv_transpose2d")):
        def backward(self, gy):
            grad_x, grad_weight, _ = _conv_transpose_gradients(self, gy)
            return grad_x, grad_weight, gy.sum(axis=0)

    names, wrong = first_wrong(check(find("conv_transpose2d"), Flipped))
    assert names == ["weight"] and wrong.hint.kinds == ("flipped",) and "180 degrees" in wrong.hint.text
    names, wrong = first_wrong(check(find("conv_transpose2d"), BiasPerPixel))
    assert names == ["bias"] and wrong.hint.kinds == ("unsummed",) and "axis (1, 2)" in wrong.hint.text


def test_bce_with_logits_mistakes_sign_mean_and_the_naive_form():
    class Sign(exercise_class("bce_with_logits")):
        def backward(self, gy):
            return gy * mg.Tensor((self.target - self.probs) / self.probs.size)

    class NoMean(exercise_class("bce_with_logits")):
        def backward(self, gy):
            return gy * mg.Tensor(self.probs - self.target)

    class Naive(exercise_class("bce_with_logits")):  # d/dp of the textbook form, times dp/dz: 0/0 once p is 1
        def backward(self, gy):
            p, t = self.probs, self.target
            return gy * mg.Tensor((-t / p + (1 - t) / (1 - p)) * p * (1 - p) / p.size)

    assert first_wrong(check(find("bce_with_logits"), Sign))[1].hint.kinds == ("sign",)
    assert first_wrong(check(find("bce_with_logits"), NoMean))[1].hint.kinds[0] == "elements"
    with np.errstate(divide="ignore", invalid="ignore"):
        report = check(find("bce_with_logits"), Naive)
    _, wrong = first_wrong(report)
    assert wrong.hint.kinds == ("nan",) and [c.ok for c in report.cases] == [True, True, True, False]


def test_vae_path_left_out_or_doubled_is_named_by_its_term():
    class NoPathThroughZ(exercise_class("vae_kl_reparam")):
        def backward(self, gy):
            mu, logvar = self.inputs
            n = len(mu.data)
            return gy * (mg.Tensor(self.z - self.x) + mu) / n, gy * (logvar.exp() - 1) * (0.5 / n)

    class NoHalf(exercise_class("vae_kl_reparam")):  # d/dlogvar exp(logvar / 2) taken as exp(logvar / 2)
        def backward(self, gy):
            mu, logvar = self.inputs
            n = len(mu.data)
            through_z = mg.Tensor(self.z - self.x) / n
            return gy * (through_z + mu / n), gy * (through_z * (mg.Tensor(self.z) - mu) + (logvar.exp() - 1) / (2 * n))

    names, wrong = first_wrong(check(find("vae_kl_reparam"), NoPathThroughZ))
    assert names == ["logvar"] and wrong.hint.kinds == ("path",)
    assert "leaves out the path through the reconstruction (through z)" in wrong.hint.text
    names, wrong = first_wrong(check(find("vae_kl_reparam"), NoHalf))
    assert names == ["logvar"] and wrong.hint.kinds == ("path", "factor") and "is 2 times" in wrong.hint.text


class _AdamWithoutBiasCorrection(find("adam_step").function()):
    def step(self, param, grad):
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1 - self.beta2) * grad * grad
        return param - self.lr * self.m / (np.sqrt(self.v) + self.eps)


def test_adam_without_bias_correction_is_named_from_the_first_update():
    report = check(find("adam_step"), _AdamWithoutBiasCorrection)
    names, wrong = first_wrong(report)
    assert names == ["param after step 1"] and wrong.hint.kinds == ("bias-correction",)
    assert "3.162 times" in wrong.hint.text  # (1 - 0.9) / sqrt(1 - 0.999)
    text = render_check(report, Painter(False))
    assert "Case 1: param (5, 6), lr 0.1, 3 steps" in text and "Fix _AdamWithoutBiasCorrection.step" in text


def test_adam_counting_from_zero_or_not_counting():
    class FromZero(exercise_class("adam_step")):
        def step(self, param, grad):
            self.t -= 1  # the solution counts first; this one corrects with t - 1: 0 in the first update
            new = find("adam_step").function(solution=True).step(self, param, grad)
            self.t += 1
            return new

    class StuckAtOne(exercise_class("adam_step")):
        def step(self, param, grad):
            self.t = 0
            return find("adam_step").function(solution=True).step(self, param, grad)

    with np.errstate(divide="ignore", invalid="ignore"):
        _, wrong = first_wrong(check(find("adam_step"), FromZero))
    assert wrong.name == "param after step 1" and wrong.hint.kinds == ("nan",) and "t is 1" in wrong.hint.text
    _, wrong = first_wrong(check(find("adam_step"), StuckAtOne))
    assert wrong.name == "param after step 2" and wrong.hint.kinds == ("bias-correction",)


def test_adam_changing_the_param_in_place_is_caught():
    class InPlace(exercise_class("adam_step")):
        def step(self, param, grad):
            param[...] = find("adam_step").function(solution=True).step(self, param, grad)
            return param

    report = check(find("adam_step"), InPlace)
    assert "step 1 changed the param it was given in place" in report.first_failure.error


def test_after_a_pass_the_report_names_the_next_exercise(monkeypatch):
    monkeypatch.chdir(REPO)
    text = render_check(check(find("matmul"), solution=True), Painter(False), solutions=True)
    assert text.endswith("Next: exercise 5, broadcast_sum: edit lessons/exercises/ex05_broadcast_sum.py, then run: "
                         "python -m lessons.exercises check broadcast_sum --solutions")
    last = render_check(check(find("adam_step"), solution=True), Painter(False))
    assert last.endswith("That was the last exercise; python -m lessons.exercises lists them all with their status.")


# --- the contract: what backward may return ----------------------------------------------------------------

def test_numpy_style_and_tensor_style_backward_both_pass():
    class NumpyMul(exercise_class("mul")):
        def backward(self, gy):
            a, b = (t.data for t in self.inputs)
            return mg.Tensor(gy.data * b), mg.Tensor(gy.data * a)

    class TensorMul(exercise_class("mul")):
        def backward(self, gy):
            a, b = self.inputs
            return [gy * b, gy * a]  # a list is as good as a tuple

    for planted in (NumpyMul, TensorMul):
        assert check(find("mul"), planted).status == "passing"


@pytest.mark.parametrize("returned, expected_words", [
    (lambda gy, x: gy.data * (1 - gy.data), "wrap it: mg.Tensor"),
    (lambda gy, x: None, "returned None"),
    (lambda gy, x: (gy * 0).astype(np.float32), "dtype float32"),
    (lambda gy, x: gy * mg.Tensor(np.full(x.shape, np.nan)), "nan"),
])
def test_structural_mistakes_are_reported_in_words(returned, expected_words):
    class Tanh(exercise_class("tanh")):
        def backward(self, gy):
            return returned(gy, self.inputs[0])

    report = check(find("tanh"), Tanh)
    text = render_check(report, Painter(False))
    assert report.status == "failing" and expected_words in text, text


def test_a_crash_or_a_missing_gradient_is_a_failure_that_points_at_the_line():
    class Crashes(exercise_class("matmul")):
        def backward(self, gy):
            a, b = self.inputs
            return gy @ b, a.T @ gy  # (N, M) @ (K, M): inner sizes differ

    class OneGradient(exercise_class("matmul")):
        def backward(self, gy):
            return gy @ self.inputs[1].T

    crash = check(find("matmul"), Crashes).first_failure.error
    assert "backward raised ValueError" in crash and "return gy @ b, a.T @ gy" in crash
    assert __file__ in crash
    missing = check(find("matmul"), OneGradient).first_failure.error
    assert "returned 1 gradient for 2 inputs (a, b)" in missing


def test_changing_gy_in_place_is_caught_not_trusted():
    class Dropout(exercise_class("dropout")):
        def backward(self, gy):
            g = gy.data
            g *= self.mask  # right values, but gy itself is overwritten
            return mg.Tensor(g)

    report = check(find("dropout"), Dropout)
    assert report.status == "failing" and "changed gy in place" in report.first_failure.error


def test_a_file_that_does_not_import_is_failing_not_a_crash():
    class Typo(type(find("mul"))):
        def function(self, solution=False):
            return compile("def backward(self, gy):\n    return gy *\n", "ex01_mul.py", "exec")

    report = check(Typo(1, "mul", "ex01_mul"))
    text = render_check(report, Painter(False))
    assert report.status == "failing" and "SyntaxError" in text and "ex01_mul.py:2" in text
    assert "SyntaxError" in render_list([report], Painter(False))


def test_numerical_gradients_match_the_closed_form():
    rng = np.random.default_rng(0)
    a, b, v = rng.standard_normal((3, 3, 4))
    grad_a, grad_b = numerical_gradients(exercise_class("mul"), Case(a, b), v)
    np.testing.assert_allclose(grad_a, v * b, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(grad_b, v * a, rtol=1e-8, atol=1e-9)


# --- the commands and the text ---------------------------------------------------------------------------

def test_module_command_lists_every_exercise_with_its_status():
    result = subprocess.run([sys.executable, "-m", "lessons.exercises"], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    for exercise in EXERCISES:
        assert re.search(rf"^\s+{exercise.number}\s+{exercise.name}\s+{exercise.module}\.py\s+not started$",
                         result.stdout, re.MULTILINE), result.stdout
    assert "0 of 16 passing" in result.stdout and "check mul" in result.stdout
    assert "\033[" not in result.stdout  # a pipe gets no colour codes


def test_listing_shows_passing_failing_and_not_started_aligned():
    class Tanh(exercise_class("tanh")):
        def backward(self, gy):
            return -gy * (1 - self.output * self.output)

    reports = [check(find("mul"), solution=True), check(find("tanh"), Tanh),
               check(find("dense"))]
    text = render_list(reports, Painter(False))
    rows = [line for line in text.splitlines() if re.match(r"^\s+\d+\s", line)]
    assert [re.split(r"\s{2,}", row.strip())[3] for row in rows] == ["passing", "failing", "not started"]
    assert "case 1, x: sign flipped" in rows[1]
    assert len({row.index(status) for row, status in zip(rows, ["passing", "failing", "not started"])}) == 1
    assert "1 of 3 passing" in text and "check tanh" in text


def test_check_command_exit_status_and_colour(monkeypatch):
    out = io.StringIO()
    assert main(["check", "matmul", "--solutions"], stream=out) == 0
    assert "PASSED: all 5 cases" in out.getvalue() and "\033[" not in out.getvalue()
    out = io.StringIO()
    assert main(["check", "mul"], stream=out) == 1
    assert "NOT STARTED" in out.getvalue() and "ex01_mul.py" in out.getvalue()
    assert "\033[32m" in Painter(True)("ok", "green") and Painter(False)("ok", "green") == "ok"
    with pytest.raises(SystemExit):
        main(["check", "nonsense"], stream=io.StringIO())


def test_check_graph_draws_the_failing_case_with_the_learners_gradients(monkeypatch, tmp_path):
    def mean_for_the_bias(self, gy):
        x, W, _ = self.inputs
        return gy @ W.T, x.T @ gy, gy.mean(axis=0)

    monkeypatch.setattr(exercise_class("dense"), "backward", mean_for_the_bias)
    out = io.StringIO()
    assert main(["check", "dense", "--graph", str(tmp_path / "dense.svg")], stream=out) == 1
    assert f"Wrote the graph of case 1 to {tmp_path / 'dense.svg'}, with the gradients your backward gave" \
        in out.getvalue()
    svg = (tmp_path / "dense.svg").read_text()
    assert "Dense" in svg and "grad (4,): [1, 1, 1, 1]" in svg  # gy = 1 over a batch of 5: the sum would be 5
    out = io.StringIO()
    assert main(["check", "dense", "--solutions", "--graph", str(tmp_path / "none.png")], stream=out) == 0
    assert "No graph written" in out.getvalue() and not (tmp_path / "none.png").exists()
    with pytest.raises(SystemExit):
        main(["check", "dense", "--graph", str(tmp_path / "dense.txt")], stream=io.StringIO())


def test_the_guides_report_is_what_the_checker_prints(monkeypatch):
    """README.md shows the report of one planted mistake; it must be this code's real output."""
    monkeypatch.chdir(REPO)  # the report names files relative to the working directory
    class SoftmaxCrossEntropy(exercise_class("softmax_cross_entropy")):
        def backward(self, gy):
            one_hot = np.eye(self.probs.shape[1])[self.labels]
            return mg.Tensor(self.probs - one_hot) * gy

    report = render_check(check(find("softmax_cross_entropy"), SoftmaxCrossEntropy), Painter(False))
    for guide in ("README.md", "README.ko.md"):
        assert report in (REPO / "lessons" / "exercises" / guide).read_text(encoding="utf-8"), guide


# --- the eps plot -------------------------------------------------------------------------------------------

def test_error_versus_eps_has_the_shape_the_guide_describes():
    eps = np.logspace(-12, -1, 45)  # four points a decade
    central, forward = eps_plot.derivative_errors(eps), eps_plot.derivative_errors(eps, central=False)
    single = eps_plot.derivative_errors(eps, np.float32)
    assert 1e-7 < eps[np.argmin(central)] < 1e-4 and 1e-10 < eps[np.argmin(forward)] < 1e-6
    assert central.min() < 1e-10 < forward.min() < 1e-7 < single.min()
    # truncation on the right: slope 2 for central differences, 1 for forward ones (per decade: x100, x10)
    assert 60 < central[-1] / central[-5] < 160 and 6 < forward[-5] / forward[-9] < 16
    # rounding on the left: the error grows as eps shrinks
    assert central[0] > 100 * central.min() and forward[0] > 100 * forward.min()


def test_eps_plot_writes_a_small_png(tmp_path):
    best = eps_plot.plot(tmp_path / "eps.png")
    data = (tmp_path / "eps.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 100_000
    assert set(best) == {"central, float64", "forward, float64", "central, float32"}
    committed = REPO / "docs" / "exercises_eps.png"
    assert committed.exists() and committed.stat().st_size < 100_000
