"""minigrad.io: save/load of nested state, atomic writes, clear errors."""
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad import io


def same(a, b):
    """Structural equality: same container types, keys in order, equal arrays (NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(a, np.generic) and not isinstance(a, float):
        return type(a) is type(b) and a.dtype == b.dtype and np.shape(a) == np.shape(b) and \
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return type(b) is float and (a == b or math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


arrays = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=8)
structures = st.recursive(
    scalars | arrays,
    lambda children: st.lists(children, max_size=3) | st.lists(children, max_size=3).map(tuple)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10)


@settings(max_examples=60, deadline=None)
@given(obj=structures)
def test_round_trip_keeps_structure_and_values(tmp_path_factory, obj):
    path = tmp_path_factory.mktemp("io") / "state.npz"
    io.save(obj, path)
    assert same(obj, io.load(path))


def test_dict_order_tuples_and_numpy_scalars_survive(tmp_path):
    state = {"z": 1, "a": (np.float32(0.5), np.int64(3)), "m": [np.ones((2, 2), np.float32)]}
    io.save(state, tmp_path / "s.npz")
    back = io.load(tmp_path / "s.npz")
    assert list(back) == ["z", "a", "m"]
    assert isinstance(back["a"], tuple)
    assert back["a"][0] == np.float32(0.5) and back["a"][0].dtype == np.float32
    assert back["m"][0].dtype == np.float32


def test_rng_states_with_big_integers_round_trip(tmp_path):
    state = np.random.default_rng(5).bit_generator.state
    io.save({"rng": state}, tmp_path / "rng.npz")
    restored = np.random.default_rng()
    restored.bit_generator.state = io.load(tmp_path / "rng.npz")["rng"]
    assert restored.random() == np.random.default_rng(5).random()


class FakeTensor:
    """Duck-typed like minigrad.Tensor: ``.data`` and ``.numpy()``."""

    def __init__(self, data):
        self.data = data

    def numpy(self):
        return self.data


def test_tensors_are_saved_as_their_arrays(tmp_path):
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    io.save({"layer.weight": FakeTensor(weight)}, tmp_path / "m.npz")
    back = io.load(tmp_path / "m.npz")["layer.weight"]
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, weight)


def test_real_minigrad_tensors(tmp_path):
    mg = pytest.importorskip("minigrad")
    if not hasattr(mg, "tensor"):
        pytest.skip("the engine core (minigrad.tensor) is not there yet")
    t = mg.tensor(np.array([1.0, 2.0], dtype=np.float64), requires_grad=True)
    io.save([t], tmp_path / "t.npz")
    back, = io.load(tmp_path / "t.npz")
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back, [1.0, 2.0])


def test_unsupported_values_are_named(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['opt'\]\[1\] is a builtins.set"):
        io.save({"opt": [1, {2}]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="key 3 of type int"):
        io.save({3: 1}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="array of Python objects"):
        io.save(np.array([None, 1]), tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_crash_mid_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    io.save({"epoch": 1}, path)
    before = path.read_bytes()

    def write_half_then_fail(file, **entries):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(io.np, "savez", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        io.save({"epoch": 2, "w": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]  # no temporary file left behind
    monkeypatch.undo()
    assert io.load(path) == {"epoch": 1}


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file: .*nothing.npz"):
        io.load(tmp_path / "nothing.npz")


def write_npy(path):
    with open(path, "wb") as f:  # np.save given a path would append ".npy"
        np.save(f, np.ones(3))


@pytest.mark.parametrize("write", [
    lambda path: path.write_text("hello, not a zip"),
    lambda path: np.savez(path, weights=np.ones(3)),
    write_npy,
    lambda path: path.write_bytes(pickle.dumps({"a": 1})),
], ids=["text", "plain-npz", "npy", "pickle"])
def test_foreign_files_are_refused_with_the_path(tmp_path, write):
    path = tmp_path / "foreign.npz"
    write(path)
    with pytest.raises(ValueError, match=r"foreign.npz is not a file written by minigrad.save"):
        io.load(path)
