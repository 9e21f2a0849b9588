"""lessons.engine_tour under --quick: every step's number is right, every figure is written, in a few seconds."""
import contextlib
import io
import json
import math
import shutil
import time

import pytest

from lessons import engine_tour
from lessons.__main__ import discover

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="the tour draws graphs with Graphviz's dot")

FIGURES = ["1_central_differences.png", "2_chain_rule_before_backward.png", "2_chain_rule_after_backward.png",
           "3_square.png", "4_topological_order.png", "5_broadcasting.png", "6_tanh_derivatives.png",
           "6_second_derivative_graph.png", "7_network.png"]


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    """(final numbers, output folder, CPU seconds, printed text) of one quick tour."""
    out, printed = tmp_path_factory.mktemp("engine_tour"), io.StringIO()
    started = time.process_time()
    with contextlib.redirect_stdout(printed):
        engine_tour.main(["--quick", "--out", str(out)])
    seconds = time.process_time() - started
    return json.loads((out / "metrics.json").read_text())["final"], out, seconds, printed.getvalue()


def test_every_step_gets_its_number_right(tour):
    final = tour[0]
    assert final["best_eps_float64"] in (1e-5, 1e-6)  # where the eps^2 and 1e-16/eps errors meet
    assert final["best_error_float64"] < 1e-9
    assert abs(final["chain_rule_by_hand"] - final["chain_rule_minigrad"]) < 1e-12  # both in float64
    assert abs(final["chain_rule_minigrad"] - math.exp(math.sin(0.5) ** 2) * math.sin(1.0)) < 1e-12  # 2 sin cos = sin 2x
    assert final["square_gradcheck"] == 1
    assert final["walk_by_hand_vs_backward"] < 1e-12
    assert final["broadcast_grad_error"] < 1e-12
    assert final["tanh_derivatives_max_error"] < 1e-10
    assert final["loss_after_step"] < final["loss_before_step"]
    assert final["planted_bug_caught"] == 1


def test_every_figure_is_a_png_and_the_quick_tour_takes_seconds(tour):
    _, out, seconds, _ = tour
    for figure in FIGURES:
        assert (out / figure).read_bytes()[:4] == b"\x89PNG", figure
        assert (out / figure).stat().st_size > 10_000, figure
    assert sorted(path.name for path in out.glob("*.png")) == sorted(FIGURES)  # no DOT files left beside them
    assert seconds < 10  # CPU time of this process; dot runs in its own


def test_the_printed_text_says_what_the_figures_show(tour):
    final, _, _, printed = tour
    assert f"smallest error: float64 at eps = {final['best_eps_float64']:.0e}" in printed
    assert "f(x) = exp(sin(x)^2) at x = 0.5" in printed and "a = sin(0.5) = 0.479426" in printed
    assert "backward visits them in reverse:" in printed and " y b c a x" in printed
    assert "SumTo" in printed
    assert "gradcheck with WrongTanh: GradcheckError: gradcheck failed for input 0" in printed


def test_python_m_lessons_lists_the_tour_first():
    assert discover()[0] == ("engine_tour", engine_tour.__doc__.strip().splitlines()[0])


def test_the_network_of_step_7_trains_on_cuda(gpu, tmp_path):
    engine_tour.main(["--quick", "--device", "cuda", "--out", str(tmp_path)])
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["device"] == "cuda"
    assert metrics["final"]["loss_after_step"] < metrics["final"]["loss_before_step"]
    assert metrics["final"]["planted_bug_caught"] == 1
