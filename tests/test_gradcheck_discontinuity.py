"""gradcheck at a jump reports the discontinuity; at a kink any subgradient still passes (issue 14, item 9)."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


class Step(mg.Function):
    """(x > 0) with a backward that claims ``slope`` everywhere."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, gy):
        return gy * self.slope


class ReluTooSteep(mg.Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        return gy * 2.0  # outside [0, 1], the subgradients at 0


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("slope", [1e5, 0.0], ids=["bogus-gradient", "zero-gradient"])
def test_a_jump_is_reported_as_a_discontinuity(slope):
    with pytest.raises(mg.GradcheckError, match=r"fn is discontinuous at input 0, index \(1,\): .*grow 4x when eps "
                                                r"shrinks 4x.*no gradient to check"):
        mg.gradcheck(lambda x: Step(slope)(x), [leaf([-1.0, 0.0, 2.0])])


def test_a_jump_within_eps_but_not_at_the_point_does_not_let_a_bogus_gradient_pass():
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda x: Step(1e5)(x), [leaf([3e-7])])


def test_a_jump_is_reported_along_random_directions_too():
    with pytest.raises(mg.GradcheckError, match=r"discontinuous at input 0 along random direction 0"):
        mg.gradcheck(lambda x: Step(0.0)(x), [leaf(np.zeros(30))], full_check_limit=10)


def test_away_from_the_jump_a_step_checks_as_flat():
    assert mg.gradcheck(lambda x: Step(0.0)(x), [leaf([-1.0, 0.5, 2.0])])


@pytest.mark.parametrize("fn", [F.relu, lambda x: x.abs(), lambda x: x.max(), lambda x: mg.maximum(x, x * 0)],
                         ids=["relu", "abs", "max-tie", "maximum"])
def test_kinks_still_pass(fn):
    assert mg.gradcheck(fn, [leaf(np.zeros(3))])


def test_a_subgradient_outside_the_one_sided_slopes_still_fails():
    with pytest.raises(mg.GradcheckError, match=r"input 0 .*disagree"):
        mg.gradcheck(lambda x: ReluTooSteep()(x), [leaf([0.0, 1.0])])
