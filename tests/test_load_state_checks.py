"""Module.load_state_dict refuses odd values by name, before it changes anything (issue 14, item 5)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def state_of(model):
    return {name: tensor.numpy().copy() for name, tensor in model.state_dict().items()}


@pytest.mark.parametrize("value, expected", [
    (np.array([[np.nan], [0.0]], np.float32), r"bad values: weight \(1 NaN and 0 infinite values\)"),
    (np.array([[np.inf], [0.0]]), r"bad values: weight \(0 NaN and 1 infinite values\)"),
    (np.array([[1e40], [0.0]]), r"bad values: weight \(values up to 1e\+40 do not fit float32\)"),
    (np.array([[1], [2]]), r"bad values: weight \(dtype int64, expected float values for float32\)"),
    (np.array([[True], [False]]), r"bad values: weight \(dtype bool, expected float values"),
    (np.array([["1.5"], ["2"]]), r"bad values: weight \(dtype <U3, expected float values"),
    (np.array([[1 + 2j], [0]]), r"bad values: weight \(dtype complex128, expected float values"),
    ([[0.5], [0.5]], r"not arrays or Tensors: weight \(a list\)"),
    (1.5, r"not arrays or Tensors: weight \(a float\)"),
], ids=["nan", "inf", "overflow", "int", "bool", "str", "complex", "list", "float"])
def test_odd_values_are_refused_by_name_and_nothing_changes(value, expected):
    model = nn.Dense(2, 1)
    before = state_of(model)
    state = dict(before, weight=value)
    with pytest.raises(ValueError, match=rf"Dense.load_state_dict: the state does not fit this model; .*{expected}"):
        model.load_state_dict(state)
    after = state_of(model)
    assert all(np.array_equal(before[name], after[name]) for name in before)


def test_every_problem_is_named_at_once():
    model = nn.Dense(2, 1)
    state = {"weight": np.array([[np.nan], [0.0]]), "bias": [1.0]}
    with pytest.raises(ValueError, match=r"not arrays or Tensors: bias \(a list\); bad values: weight"):
        model.load_state_dict(state)


def test_a_state_that_is_not_a_dict_is_refused():
    with pytest.raises(ValueError, match="expected a dict of name -> array, got a list"):
        nn.Dense(2, 1).load_state_dict([np.zeros((2, 1)), np.zeros(1)])


def test_float64_and_tensors_still_load():
    model = nn.Dense(2, 1)
    model.load_state_dict({"weight": np.full((2, 1), 0.25), "bias": mg.tensor([1.0])})
    assert model.weight.dtype == np.float32 and model.weight.numpy().tolist() == [[0.25], [0.25]]
    assert model.bias.tolist() == [1.0]
