"""minigrad.io: save/load of nested state, atomic writes, clear errors."""
import errno
import io as builtin_io
import json
import math
import os
import pickle
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad import io

REPO = str(Path(__file__).resolve().parents[1])

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


# ---------------------------------------------------------------- no temporary file left behind (item 3)

def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


KILLED_MID_SAVE = """
import os, signal, sys
sys.path.insert(0, {repo!r})
from minigrad import io
with io.atomic_file(sys.argv[1]) as f:
    f.write(b"x" * 100000)
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_save_killed_mid_write_leaves_a_temporary_that_the_next_save_sweeps(tmp_path):
    path = tmp_path / "big.npz"
    io.save({"epoch": 1}, path)
    child = subprocess.run([sys.executable, "-c", KILLED_MID_SAVE.format(repo=REPO), str(path)], timeout=60)
    assert child.returncode == -signal.SIGKILL
    left, = temporaries(tmp_path)
    assert left.startswith(".big.npz.") and io.load(path) == {"epoch": 1}
    io.save({"epoch": 2}, path)
    assert temporaries(tmp_path) == [] and io.load(path) == {"epoch": 2}


def test_a_temporary_of_a_live_process_is_left_alone(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".state.npz.{sleeper.pid}.abcd1234.tmp"
        other_target = tmp_path / ".state.npz.5.99999999.x1.tmp"   # a temporary of "state.npz.5"
        no_process = tmp_path / f".state.npz.{2**80}.abcd1234.tmp"
        busy.write_bytes(b"being written")
        other_target.write_bytes(b"not ours")
        no_process.write_bytes(b"stale")
        io.save({"a": 1}, tmp_path / "state.npz")
        assert busy.exists() and other_target.exists() and not no_process.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    io.save({"a": 2}, tmp_path / "state.npz")
    assert not busy.exists() and other_target.exists()


def test_a_failing_rename_removes_the_temporary(tmp_path, monkeypatch):
    path = tmp_path / "state.npz"
    io.save({"epoch": 1}, path)

    def rename_fails(source, target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(io.os, "replace", rename_fails)
    with pytest.raises(PermissionError):
        io.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert temporaries(tmp_path) == [] and io.load(path) == {"epoch": 1}


def test_saving_onto_a_folder_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(IsADirectoryError, match=r"folder.npz is a folder; give the path of a file"):
        io.save({"a": 1}, tmp_path / "folder.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.npz"]


class FullDisk(builtin_io.FileIO):
    """A file on a full disk: every write fails with ENOSPC, as does the flush when it is closed."""

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("size", [10, 100000], ids=["fails-at-close", "fails-while-writing"])
def test_a_full_disk_removes_the_temporary(tmp_path, monkeypatch, size):
    path = tmp_path / "state.npz"
    io.save({"epoch": 1}, path)
    monkeypatch.setattr(io, "open", lambda descriptor, mode: builtin_io.BufferedWriter(FullDisk(descriptor, "wb")),
                        raising=False)
    with pytest.raises(OSError, match="No space left on device"):
        with io.atomic_file(path) as f:
            f.write(b"x" * size)
    monkeypatch.undo()
    assert temporaries(tmp_path) == [] and io.load(path) == {"epoch": 1}


def test_the_saved_file_gets_the_usual_permissions(tmp_path):
    io.save({"a": 1}, tmp_path / "state.npz")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "state.npz").stat().st_mode) == 0o666 & ~mask


# ---------------------------------------------------------------- damaged and forged files (item 5)

def test_every_flipped_byte_gives_a_value_error_naming_the_file_or_the_same_content(tmp_path):
    state = {"epoch": 3, "w": np.arange(64, dtype=np.float32), "names": ["a", "b"]}
    good = tmp_path / "good.npz"
    io.save(state, good)
    blob = good.read_bytes()
    bad = tmp_path / "flipped.npz"
    for position in range(0, len(blob), 3):
        bad.write_bytes(blob[:position] + bytes([blob[position] ^ 0x5A]) + blob[position + 1:])
        try:
            back = io.load(bad)
        except ValueError as error:
            assert "flipped.npz" in str(error), (position, error)
        else:
            assert same(back, state), position


def forged(path, header):
    """An .npz holding one float array and ``header`` as its '__minigrad__' entry."""
    np.savez(path, array_0=np.ones(2), __minigrad__=np.array(header if isinstance(header, str) else json.dumps(header)))


def node(structure):
    return {"format": "minigrad-save", "version": 1, "structure": structure}


@pytest.mark.parametrize("header, expected", [
    ("{not json", r"'__minigrad__' is not valid JSON"),
    ([1, 2], r"should hold a JSON object, it holds a list"),
    ("[" * 5000 + "]" * 5000, r"not valid JSON|nested more than"),
    (node({"type": "dict", "items": 5}), r"obj is a dict without a list of items"),
    (node({"type": "dict", "items": [[1, {"type": "value", "value": 1}]]}), r"not \[str key, value\] pairs"),
    (node({"type": "list", "items": [{"kind": "value"}]}), r"obj\[0\] should be described by an object with a 'type'"),
    (node({"type": "array", "key": "array_9"}), r"obj refers to the array entry 'array_9'"),
    (node({"type": "array", "key": "__minigrad__"}), r"refers to the array entry '__minigrad__'"),
    (node({"type": "numpy_scalar", "key": "array_0"}), r"should be a NumPy scalar, entry 'array_0' has shape \(2,\)"),
    (node({"type": "float", "value": "one"}), r"obj should be a float written as a string"),
    (node({"type": "value", "value": [1]}), r"obj should be an int, bool, str or null"),
    (node({"type": "pickle"}), r"obj has the unknown type 'pickle'"),
    (node(None), r"obj should be described by an object"),
], ids=["json", "list", "deep-json", "items", "keys", "no-type", "missing-array", "header-as-array", "scalar",
        "float", "value", "unknown", "none"])
def test_forged_headers_give_one_value_error_naming_file_and_entry(tmp_path, header, expected):
    path = tmp_path / "forged.npz"
    forged(path, header)
    with pytest.raises(ValueError, match=rf"minigrad.load: .*forged.npz .*{expected}"):
        io.load(path)


def test_a_deeply_nested_forged_structure_is_refused_not_a_recursion_error(tmp_path):
    structure = {"type": "value", "value": 1}
    for _ in range(io.MAX_DEPTH + 5):
        structure = {"type": "list", "items": [structure]}
    path = tmp_path / "deep.npz"
    forged(path, node(structure))
    with pytest.raises(ValueError, match=r"deep.npz is damaged or forged: obj(\[0\])+ is nested more than 100 levels"):
        io.load(path)
    nested = 1
    for _ in range(io.MAX_DEPTH + 5):
        nested = [nested]
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        io.save(nested, tmp_path / "deep2.npz")
    assert not (tmp_path / "deep2.npz").exists()


def test_an_object_array_inside_is_refused_naming_the_entry(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, array_0=np.array([None, 1], dtype=object),
             __minigrad__=np.array(json.dumps(node({"type": "array", "key": "array_0"}))))
    with pytest.raises(ValueError, match=r"objects.npz is damaged or forged: entry 'array_0' cannot be read"):
        io.load(path)
